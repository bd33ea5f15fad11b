/**
 * Identity headers (issue 15): built synchronously unless an assertion has to be signed, each header
 * individually renamed or turned off, client copies of the default names removed whatever the config;
 * `server.expose_request_id`.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { configSchema } from '../../src/config/schema/index.js';
import { IdentityHeaders, identityHeaderNames } from '../../src/gateway/identity.js';
import { startStack } from '../fixtures/gateway.js';

const SUBJECT = { user: 'alice', groups: ['ops', 'admins'], email: 'alice@example.com', name: 'Zoë', method: 'session', amr: ['pwd', 'otp'], cacheKey: 'k1' };
const identity = (input: Record<string, unknown> = {}) => configSchema.parse({ session: { secret: 's'.repeat(40) }, identity: input }).identity;

void t.test('without an assertion the headers are a plain object (no promise per request)', (t) => {
  const h = new IdentityHeaders(identity()).headers(SUBJECT, Date.now());
  t.notOk(h instanceof Promise);
  t.same(h, { 'Remote-User': 'alice', 'Remote-Auth-Method': 'session', 'Remote-Groups': 'ops,admins', 'Remote-Email': 'alice@example.com', 'Remote-Name': 'Zo%C3%AB' });
  t.end();
});

void t.test('each header can be renamed or turned off; the default names are still stripped from clients', (t) => {
  const cfg = identity({ headers: { email: false, name: false, groups: 'X-Groups' } });
  const h = new IdentityHeaders(cfg).headers(SUBJECT, Date.now());
  t.same(h, { 'Remote-User': 'alice', 'Remote-Auth-Method': 'session', 'X-Groups': 'ops,admins' });
  const stripped = identityHeaderNames(cfg).map((n) => n.toLowerCase());
  for (const n of ['remote-user', 'remote-groups', 'x-groups', 'remote-email', 'remote-name', 'remote-auth-method', 'x-portcullis-assertion']) t.ok(stripped.includes(n), `${n} stripped`);
  t.end();
});

void t.test('with an assertion: a promise when one is signed, then the cached token synchronously', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-id-'));
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const ids = new IdentityHeaders(identity({ jwt_assertion: { private_key_file: keyFile, ttl: '60s' } }));
  const now = Date.now();
  const first = ids.headers(SUBJECT, now);
  t.ok(first instanceof Promise, 'the first request signs');
  const signed = await first;
  t.match(signed['X-Portcullis-Assertion'], /^eyJ/);
  const again = ids.headers(SUBJECT, now + 1000);
  t.notOk(again instanceof Promise, 'a cached assertion costs no promise');
  t.equal((again as Record<string, string>)['X-Portcullis-Assertion'], signed['X-Portcullis-Assertion']);
  t.ok(ids.headers(SUBJECT, now + 31_000) instanceof Promise, 'renewed after half its lifetime');
});

void t.test('through the gateway: a turned-off header is neither set nor let through; expose_request_id', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'bypass', rules: [{ paths: ['/me'], policy: 'one_factor' }] }, identity: { headers: { email: false } }, server: { listen: '127.0.0.1:0', expose_request_id: false } } });
  t.teardown(() => stack.close());
  const res = await request(`${stack.url}/x`, { headers: { 'remote-email': 'forged@example.com', 'remote-user': 'admin' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-request-id'], undefined, 'no X-Request-Id on the answer');
  await res.body.dump();
  const seen = stack.upstream.seen.at(-1)!.headers;
  t.equal(seen['remote-email'], undefined, 'the client copy of a turned-off header is removed');
  t.equal(seen['remote-user'], undefined);
  t.ok(seen['x-request-id'], 'the upstream still gets the request id');
  const on = await startStack();
  t.teardown(() => on.close());
  const r2 = await request(`${on.url}/x`);
  await r2.body.dump();
  t.match(String(r2.headers['x-request-id']), /\S/, 'on by default');
});
