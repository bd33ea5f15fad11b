import t from 'tap';
import { isPortcullisError } from '../../src/errors/index.js';
import { basicHeader, build, sha } from './helpers.js';

const KEY_A = 'key-of-nvr-sync-0123456789';
const KEY_A2 = 'rotated-key-of-nvr-sync-9876';
const KEY_B = 'key-of-restricted-client-42';

const auth = build([
  { name: 'nvr-sync', api_key: { sha256: [sha(KEY_A), sha(KEY_A2)] } },
  { name: 'restricted', api_key: { header: 'X-Restricted-Key', sha256: sha(KEY_B) }, networks: ['10.0.0.0/8', '2001:db8::/32'], upstreams: ['vms'] },
  { name: 'kept', api_key: { header: 'X-Kept', sha256: sha('kept-key') }, keep_credential: true },
]);

void t.test('accepts a configured key, with every rotated digest', async (t) => {
  for (const key of [KEY_A, KEY_A2]) {
    const r = await auth.authenticate({ headers: { 'x-api-key': key }, clientIp: '203.0.113.1' });
    t.same(r, { kind: 'ok', client: 'nvr-sync', method: 'api_key', subject: 'nvr-sync', groups: [], stripHeaders: ['x-api-key'] });
  }
  t.same(auth.clients, ['nvr-sync', 'restricted', 'kept']);
});

void t.test('a wrong key is 401, never none', async (t) => {
  for (const key of ['wrong', KEY_A + 'x', KEY_A.toUpperCase(), sha(KEY_A), ' ', 'x'.repeat(5000)]) {
    const r = await auth.authenticate({ headers: { 'x-api-key': key }, clientIp: '203.0.113.1' });
    t.equal(r.kind, 'denied', key.slice(0, 20));
    if (r.kind === 'denied') t.equal(r.status, 401);
  }
  const repeated = await auth.authenticate({ headers: { 'x-api-key': [KEY_A, KEY_A] }, clientIp: '203.0.113.1' });
  t.same(repeated, { kind: 'denied', reason: 'repeated_credential_header', status: 401 });
});

void t.test("a client's key only works under its own header", async (t) => {
  const r = await auth.authenticate({ headers: { 'x-api-key': KEY_B }, clientIp: '10.1.1.1', upstream: 'vms' });
  t.same(r, { kind: 'denied', reason: 'unknown_api_key', status: 401 });
});

void t.test('network and upstream restrictions: right key, wrong place → 403', async (t) => {
  const ok = await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '10.1.1.1', upstream: 'vms' });
  t.match(ok, { kind: 'ok', client: 'restricted', stripHeaders: ['x-restricted-key'] });
  t.match(await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '::ffff:10.9.9.9', upstream: 'vms' }), { kind: 'ok' });
  t.match(await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '2001:db8::7', upstream: 'vms' }), { kind: 'ok' });
  t.same(await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '192.168.1.1', upstream: 'vms' }), { kind: 'denied', reason: 'network_not_allowed', status: 403 });
  t.same(await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '10.1.1.1', upstream: 'other' }), { kind: 'denied', reason: 'upstream_not_allowed', status: 403 });
  t.same(await auth.authenticate({ headers: { 'x-restricted-key': KEY_B }, clientIp: '10.1.1.1' }), { kind: 'denied', reason: 'upstream_not_allowed', status: 403 }, 'unknown upstream fails closed');
});

void t.test('keep_credential leaves the header for the upstream', async (t) => {
  t.match(await auth.authenticate({ headers: { 'x-kept': 'kept-key' }, clientIp: '127.0.0.1' }), { kind: 'ok', client: 'kept', stripHeaders: [] });
});

void t.test('no credential → none; unrelated Authorization headers → none', async (t) => {
  t.same(await auth.authenticate({ headers: {}, clientIp: '10.0.0.1' }), { kind: 'none' });
  t.same(await auth.authenticate({ headers: { authorization: 'Bearer abc.def' }, clientIp: '10.0.0.1' }), { kind: 'none' });
  t.same(await auth.authenticate({ headers: { authorization: basicHeader('someone', 'pw') }, clientIp: '10.0.0.1' }), { kind: 'none' });
});

void t.test('network-only clients match by address alone', async (t) => {
  const net = build([
    { name: 'cams', networks: ['192.168.50.0/24'], upstreams: ['vms'] },
    { name: 'lan', networks: ['fd00::/8'] },
    { name: 'keyed', api_key: { sha256: sha(KEY_A) } },
  ]);
  t.same(await net.authenticate({ headers: {}, clientIp: '192.168.50.3', upstream: 'vms' }), { kind: 'ok', client: 'cams', method: 'network', subject: 'cams', groups: [], stripHeaders: [] });
  t.same(await net.authenticate({ headers: {}, clientIp: '::ffff:192.168.50.3', upstream: 'vms' }), { kind: 'ok', client: 'cams', method: 'network', subject: 'cams', groups: [], stripHeaders: [] });
  t.same(await net.authenticate({ headers: {}, clientIp: '192.168.50.3', upstream: 'admin' }), { kind: 'none' }, 'other upstream: not matched');
  t.match(await net.authenticate({ headers: {}, clientIp: 'fd00::1' }), { kind: 'ok', client: 'lan' });
  t.same(await net.authenticate({ headers: {}, clientIp: '192.168.51.3', upstream: 'vms' }), { kind: 'none' });
  t.same(await net.authenticate({ headers: { 'x-api-key': 'bad' }, clientIp: '192.168.50.3', upstream: 'vms' }), { kind: 'denied', reason: 'unknown_api_key', status: 401 }, 'a presented credential decides, not the network');
});

void t.test('config errors name the client', (t) => {
  try {
    build([{ name: 'legacy', basic: { users: ['svc'] } }]);
    t.fail('should throw');
  } catch (err) {
    t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG'));
    t.match((err as Error).message, /api_clients\[0\] \(legacy\): basic needs a user directory/);
  }
  t.end();
});
