import t from 'tap';
import { request } from 'undici';
import type { ClientInfo } from '../../src/http/client.js';
import { buildRequestHeaders, canonicalName, filterResponseHeaders } from '../../src/proxy/headers.js';
import { UpstreamRouter } from '../../src/proxy/router.js';
import { IDENTITY, STRIP_COOKIES, startGateway, startUpstream, upstream } from './harness.js';

const client: ClientInfo = { ip: '203.0.113.9', forwardedFor: '203.0.113.9', proto: 'https', host: 'vms.example.com' };

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

void t.test('canonical names fold case and _ to -', (t) => {
  t.equal(canonicalName('REMOTE_USER'), 'remote-user');
  t.equal(canonicalName('Remote-User'), 'remote-user');
  t.end();
});

void t.test('builds the upstream head: hop-by-hop gone, identity stripped in every spelling, own headers set', (t) => {
  const r = new UpstreamRouter([upstream({ url: 'http://10.0.0.5:8081' })]);
  t.teardown(() => r.close());
  const up = r.get('app');
  if (!up) throw new Error('no upstream');
  const raw = [
    'Host', 'vms.example.com',
    'Connection', 'keep-alive, X-Secret-Hop',
    'X-Secret-Hop', '1',
    'Keep-Alive', 'timeout=5',
    'Proxy-Authorization', 'Basic x',
    'Proxy-Foo', 'y',
    'TE', 'trailers',
    'Trailer', 'x',
    'Upgrade', 'h2c',
    'Expect', '100-continue',
    'Remote-User', 'mallory',
    'remote_user', 'mallory',
    'REMOTE-GROUPS', 'admins',
    'Remote_Email', 'm@evil',
    'remote-name', 'M',
    'X-Portcullis-Assertion', 'forged',
    'X-API-Key', 'k',
    'X-Forwarded-For', '1.2.3.4',
    'X-Forwarded-Proto', 'http',
    'X-Forwarded-Host', 'evil',
    'Forwarded', 'for=1.2.3.4',
    'X-Real-IP', '1.2.3.4',
    'X-Request-Id', 'client-id',
    'Cookie', 'a=1; portcullis_session=s3cr3t; b="x y";portcullis_device=d; c=%20',
    'Accept', 'text/html',
    'X-Custom', 'kept',
  ];
  const out = buildRequestHeaders(raw, {
    upstream: up,
    requestId: 'rid-1',
    client,
    setHeaders: { 'Remote-User': 'alice', 'Remote-Groups': 'ops' },
    stripHeaders: [...IDENTITY, 'X-API-Key'],
    stripCookies: STRIP_COOKIES,
  });
  t.same(pairs(out), [
    ['Cookie', 'a=1; b="x y"; c=%20'],
    ['Accept', 'text/html'],
    ['X-Custom', 'kept'],
    ['host', '10.0.0.5:8081'],
    ['x-forwarded-for', '203.0.113.9'],
    ['x-forwarded-proto', 'https'],
    ['x-real-ip', '203.0.113.9'],
    ['x-request-id', 'rid-1'],
    ['x-forwarded-host', 'vms.example.com'],
    ['Remote-User', 'alice'],
    ['Remote-Groups', 'ops'],
  ]);
  t.end();
});

void t.test('a Cookie header holding only gateway cookies is dropped; preserve_host sends the client host', (t) => {
  const r = new UpstreamRouter([upstream({ url: 'http://10.0.0.5:8081', preserve_host: true })]);
  t.teardown(() => r.close());
  const up = r.get('app');
  if (!up) throw new Error('no upstream');
  const out = buildRequestHeaders(['Cookie', 'portcullis_session=x', 'Host', 'ignored'], { upstream: up, requestId: 'r', client, setHeaders: {}, stripHeaders: [], stripCookies: STRIP_COOKIES });
  t.notOk(out.some((v) => v.toLowerCase() === 'cookie'));
  t.equal(out[out.indexOf('host') + 1], 'vms.example.com');
  t.end();
});

void t.test('upgrade keeps Connection: Upgrade and Upgrade: websocket', (t) => {
  const r = new UpstreamRouter([upstream({ url: 'http://10.0.0.5:8081' })]);
  t.teardown(() => r.close());
  const up = r.get('app');
  if (!up) throw new Error('no upstream');
  const out = pairs(buildRequestHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], { upstream: up, requestId: 'r', client, setHeaders: {}, stripHeaders: [], stripCookies: [] }, true));
  t.same(out.slice(0, 4), [['Sec-WebSocket-Key', 'k'], ['host', '10.0.0.5:8081'], ['connection', 'Upgrade'], ['upgrade', 'websocket']]);
  t.end();
});

void t.test('response head filter drops hop-by-hop and Connection-listed headers, keeps Set-Cookie arrays', (t) => {
  t.same(filterResponseHeaders({ connection: 'x-a', 'x-a': '1', 'keep-alive': 't', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'x-b': '2' }), { 'set-cookie': ['a=1', 'b=2'], 'x-b': '2' });
  const added = ['strict-transport-security', 'max-age=1', 'x-request-id', 'gw-id'];
  t.same(filterResponseHeaders({ 'x-b': '2' }, added), { 'x-b': '2', 'strict-transport-security': 'max-age=1', 'x-request-id': 'gw-id' }, 'the gateway\'s answer headers are added');
  t.same(filterResponseHeaders({ 'x-request-id': 'app-id', connection: 'x-request-id' }, added), { 'strict-transport-security': 'max-age=1', 'x-request-id': 'gw-id' }, 'a hop-by-hop copy is dropped, then ours added');
  t.same(filterResponseHeaders({ 'x-request-id': 'app-id' }, added)['x-request-id'], 'app-id', 'the upstream\'s own value is kept');
  t.end();
});

void t.test('through the proxy: spoofed X-Forwarded-* from an untrusted client are replaced, identity stripped, cookies kept byte for byte', async (t) => {
  const up = await startUpstream(t, (req, res) => res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders })));
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/who`, {
    headers: {
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      remote_user: 'mallory',
      'REMOTE-USER': 'mallory',
      'remote-groups': 'admins',
      cookie: 'theme=dark;  portcullis_session=abc; lang=en-GB; portcullis_device=dev',
    },
  });
  const body = (await res.body.json()) as { headers: Record<string, string>; raw: string[] };
  t.equal(body.headers['x-forwarded-for'], '127.0.0.1');
  t.equal(body.headers['x-forwarded-proto'], 'http');
  t.match(body.headers['x-forwarded-host'], /^127\.0\.0\.1:\d+$/);
  t.equal(body.headers['remote-user'], 'alice');
  t.equal(body.headers['remote-groups'], 'operators,admins');
  t.equal(body.raw.filter((h) => /^remote[-_]user$/i.test(h)).length, 1, 'one Remote-User only');
  t.equal(body.headers.cookie, 'theme=dark; lang=en-GB');
  t.ok(body.headers['x-request-id']);
});

void t.test('through the proxy: X-Forwarded-* from a trusted proxy are believed', async (t) => {
  const up = await startUpstream(t, (req, res) => res.end(JSON.stringify(req.headers)));
  const gw = await startGateway(t, [upstream({ url: up.url })], { trusted: ['127.0.0.0/8'] });
  const res = await request(`${gw.url}/who`, {
    headers: { 'x-forwarded-for': '198.51.100.7, 10.9.9.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'vms.example.com:8443' },
  });
  const h = (await res.body.json()) as Record<string, string>;
  t.equal(h['x-forwarded-for'], '198.51.100.7, 10.9.9.9, 127.0.0.1');
  t.equal(h['x-real-ip'], '10.9.9.9', 'rightmost untrusted hop is the client');
  t.equal(h['x-forwarded-proto'], 'https');
  t.equal(h['x-forwarded-host'], 'vms.example.com:8443');
});
