/**
 * HTTP and cookie hygiene (issue 12 item 6, issue 17 item 3, item 4 and "Partial"): Host headers (RFC 9112),
 * Strict-Transport-Security, method/URL override headers, Secure and `__Host-` session cookies with an
 * https public_url, and two session cookies in one request.
 */
import t from 'tap';
import net from 'node:net';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { signedInBrowser } from './tables.js';

/** Writes `head` byte for byte and answers the status line's code and the raw answer. */
function raw(stack: Stack, head: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // An upgrade answer keeps the socket open; the status line is all this needs.
      if (/^HTTP\/1\.1 101/.test(Buffer.concat(chunks).toString('latin1'))) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m) resolve({ status: Number(m[1]), text });
      else reject(new Error(`no status line: ${JSON.stringify(text.slice(0, 100))}`));
    });
    socket.write(head);
  });
}

const signedIn = (stack: Stack): Promise<Browser> => signedInBrowser(stack);

void t.test('Host: two Host headers, or none on HTTP/1.1, answer 400 at every entrance before any rule', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] }, access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] } } });
  t.teardown(() => stack.close());
  const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const cases: Array<[string, string]> = [
    ['two Host headers, a bypass path', 'GET /public/x HTTP/1.1\r\nHost: vms.example.com\r\nHost: other.example.com\r\nConnection: close\r\n\r\n'],
    ['two Host headers, different case', 'GET /public/x HTTP/1.1\r\nHost: vms.example.com\r\nhOsT: vms.example.com\r\nConnection: close\r\n\r\n'],
    ['no Host on HTTP/1.1', 'GET /public/x HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['no Host, a protected path', 'GET /admin HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['two Host headers at forward-auth', 'GET /_gateway/authz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.2\r\nX-Original-URL: http://vms.example.com/public/x\r\nConnection: close\r\n\r\n'],
    ['two Host headers on a WebSocket handshake', `GET /public/ws HTTP/1.1\r\nHost: vms.example.com\r\nHost: other.example.com\r\n${ws}\r\n`],
    ['no Host on a WebSocket handshake', `GET /public/ws HTTP/1.1\r\n${ws}\r\n`],
  ];
  for (const [name, head] of cases) t.equal((await raw(stack, head)).status, 400, name);
  t.equal(stack.upstream.seen.length, 0, 'nothing reached the upstream');
  t.equal((await raw(stack, 'GET /public/x HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 may omit Host');
  t.equal((await raw(stack, 'GET /public/x HTTP/1.1\r\nHost: vms.example.com\r\nConnection: close\r\n\r\n')).status, 200, 'one Host header');
});

void t.test('Strict-Transport-Security when the portal is HTTPS: on pages, proxied answers and errors; configurable; absent on plain HTTP', async (t) => {
  const https = await startStack({ config: { server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com' }, access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] } } });
  t.teardown(() => https.close());
  for (const path of ['/_gateway/login', '/public/x', '/admin', '/_gateway/nowhere']) {
    const res = await request(`${https.url}${path}`);
    await res.body.dump();
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000', path);
  }
  const sub = await startStack({ config: { server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com', hsts: { max_age: '30d', include_subdomains: true } } } });
  t.teardown(() => sub.close());
  const r1 = await request(`${sub.url}/_gateway/login`);
  await r1.body.dump();
  t.equal(r1.headers['strict-transport-security'], 'max-age=2592000; includeSubDomains');
  const off = await startStack({ config: { server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com', hsts: { max_age: 0 } } } });
  t.teardown(() => off.close());
  const r2 = await request(`${off.url}/_gateway/login`);
  await r2.body.dump();
  t.equal(r2.headers['strict-transport-security'], undefined, 'max_age 0 turns it off');
  const plain = await startStack();
  t.teardown(() => plain.close());
  const r3 = await request(`${plain.url}/_gateway/login`);
  await r3.body.dump();
  t.equal(r3.headers['strict-transport-security'], undefined, 'a plain-HTTP portal sends none');
});

const OVERRIDES = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override', 'X-Original-URL', 'X-Rewrite-URL'];

void t.test('method and URL override headers never reach the upstream, bypass routes included; the list is configurable', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'bypass' } } });
  t.teardown(() => stack.close());
  const headers = Object.fromEntries(OVERRIDES.map((h) => [h, h.includes('URL') ? '/admin' : 'DELETE']));
  const res = await request(`${stack.url}/public/x`, { headers: { ...headers, 'x-kept': '1' } });
  t.equal(res.statusCode, 200);
  await res.body.dump();
  const seen = stack.upstream.seen.at(-1)!.headers;
  for (const h of OVERRIDES) t.equal(seen[h.toLowerCase()], undefined, `${h} stripped`);
  t.equal(seen['x-kept'], '1', 'other headers pass');

  const open = await startStack({ config: { server: { listen: '127.0.0.1:0', strip_request_headers: ['x-rewrite-url'] }, access: { default_policy: 'bypass' } } });
  t.teardown(() => open.close());
  const r2 = await request(`${open.url}/x`, { headers });
  await r2.body.dump();
  const seen2 = open.upstream.seen.at(-1)!.headers;
  t.equal(seen2['x-http-method-override'], 'DELETE', 'an operator may let an override through');
  t.equal(seen2['x-rewrite-url'], undefined);
});

void t.test('an https public_url: the session cookie is __Host- and Secure even when the last hop is plain HTTP', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com' } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await b.get('/_gateway/login');
  const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
  t.equal(res.status, 303);
  const set = ([] as string[]).concat(res.headers['set-cookie'] as string | string[]);
  const session = set.find((c) => c.startsWith('__Host-portcullis_session='));
  t.ok(session, 'the __Host- cookie is set');
  t.match(session!, /; Path=\/;/);
  t.match(session!, /; Secure/);
  t.notMatch(session!, /Domain=/i);
  t.ok(set.filter((c) => /^portcullis_(device|csrf)=/.test(c)).every((c) => c.includes('; Secure')), 'the other gateway cookies are Secure too');
  t.equal((await b.get('/_gateway/api/v1/session', { accept: 'application/json' })).status, 200, 'the prefixed cookie signs the request in');
  const unprefixed = await request(`${stack.url}/_gateway/api/v1/session`, { headers: { cookie: `portcullis_session=${b.cookies.get('__Host-portcullis_session')!}` } });
  await unprefixed.body.dump();
  t.equal(unprefixed.statusCode, 401, 'the same value under the plain name (which a sibling could set) is not read');

  const noPrefix = await startStack({ config: { server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com' }, session: { store: 'memory', secret: 'test-session-secret-0123456789-abcdefghijklmnop', cookie: { host_prefix: false } } } });
  t.teardown(() => noPrefix.close());
  const b2 = new Browser(noPrefix.url);
  await b2.get('/_gateway/login');
  const res2 = await b2.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b2.csrf(), rd: '/' });
  const set2 = ([] as string[]).concat(res2.headers['set-cookie'] as string | string[]);
  t.ok(set2.some((c) => c.startsWith('portcullis_session=') && c.includes('; Secure')), 'host_prefix: false keeps the SPEC name, still Secure');
});

void t.test('two session cookies in one request are ambiguous: neither signs it in, and the sign-in page clears them', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const a = await signedIn(stack);
  const b = await signedIn(stack);
  const sa = a.cookies.get('portcullis_session')!;
  const sb = b.cookies.get('portcullis_session')!;
  const status = async (cookie: string) => {
    const res = await request(`${stack.url}/cams`, { headers: { cookie, accept: 'application/json' } });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await status(`portcullis_session=${sa}`), 200, 'one cookie: signed in');
  t.equal(await status(`portcullis_session=${sa}; portcullis_session=${sb}`), 401, 'two valid cookies: none believed');
  t.equal(await status(`portcullis_session=${sa}; other=1; portcullis_session=junk`), 401, 'a valid and a junk one: none believed');
  const api = await request(`${stack.url}/_gateway/api/v1/session`, { headers: { cookie: `portcullis_session=${sa}; portcullis_session=${sb}` } });
  await api.body.dump();
  t.equal(api.statusCode, 401);
  const page = await request(`${stack.url}/_gateway/login`, { headers: { cookie: `portcullis_session=${sa}; portcullis_session=${sb}`, accept: 'text/html' } });
  await page.body.dump();
  t.equal(page.statusCode, 200, 'the sign-in page is shown, not a redirect into the app');
  const set = ([] as string[]).concat(page.headers['set-cookie'] as string | string[]);
  t.ok(set.some((c) => /^portcullis_session=; Path=\/; Max-Age=0/.test(c)), 'the session cookie is cleared');
  t.equal(stack.upstream.seen.filter((s) => s.url === '/cams').length, 1, 'only the unambiguous request reached the upstream');
});

function openSocket(stack: Stack, path = '/ws'): Promise<{ status: number; ws?: WebSocket }> {
  const ws = new WebSocket(`${stack.url.replace('http', 'ws')}${path}`);
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('error', () => resolve({ status: 0 }));
  });
}

void t.test('WebSockets: upstreams[].max_connections and server.limits.max_websockets_per_client cap open upgrades; closing frees a slot', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'bypass' }, upstreams: undefined } });
  t.teardown(() => stack.close());
  // The default upstream of the fixture; a second stack below sets its own limits.
  const limited = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', limits: { max_websockets_per_client: 3 } },
      access: { default_policy: 'bypass' },
      upstreams: [{ name: 'app', url: stack.upstream.url, max_connections: 5 }],
    },
  });
  t.teardown(() => limited.close());
  const open = [];
  for (let i = 0; i < 3; i++) open.push(await openSocket(limited));
  t.same(open.map((o) => o.status), [101, 101, 101]);
  t.equal((await openSocket(limited)).status, 503, 'the fourth from the same client address is refused');
  const first = open[0]!.ws!;
  await new Promise((r) => {
    first.once('close', r);
    first.close();
  });
  // The gateway sees its side of the socket close right after the client's; a few tries cover the gap.
  let again = await openSocket(limited);
  for (let i = 0; i < 20 && again.status !== 101; i++) {
    await new Promise((r) => setTimeout(r, 50));
    again = await openSocket(limited);
  }
  t.equal(again.status, 101, 'a closed socket frees its slot');
  open.push(again);

  const small = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', limits: { max_websockets_per_client: 100 } },
      access: { default_policy: 'bypass' },
      upstreams: [{ name: 'app', url: stack.upstream.url, max_connections: 2 }],
    },
  });
  t.teardown(() => small.close());
  const a = await openSocket(small);
  const b = await openSocket(small);
  t.same([a.status, b.status], [101, 101]);
  const before = stack.upstream.wsConnections;
  t.equal((await openSocket(small)).status, 503, 'max_connections applies to upgrades');
  t.equal(stack.upstream.wsConnections, before, 'the refused upgrade never reached the upstream');
  for (const s of [...open, a, b]) s.ws?.close();
});

void t.test('a session cookie is bound to the host it was issued on, or to the configured cookie domain; bearer tokens are not', async (t) => {
  const status = async (stack: Stack, host: string, headers: Record<string, string>) => {
    const res = await request(`${stack.url}/cams`, { headers: { host, accept: 'application/json', ...headers } });
    await res.body.dump();
    return res.statusCode;
  };
  const signInOn = async (stack: Stack, host: string) => {
    const b = new Browser(stack.url, { host });
    await b.get('/_gateway/login');
    const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
    return `portcullis_session=${b.cookies.get('portcullis_session')!}`;
  };
  const hostOnly = await startStack();
  t.teardown(() => hostOnly.close());
  const cookie = await signInOn(hostOnly, 'vms.example.com');
  t.equal(await status(hostOnly, 'vms.example.com', { cookie }), 200, 'the host it was issued on');
  t.equal(await status(hostOnly, 'VMS.example.com:8080', { cookie }), 200, 'case and port do not matter');
  t.equal(await status(hostOnly, 'other.example.com', { cookie }), 401, 'another host served by the same gateway');
  const token = (await new Browser(hostOnly.url, { host: 'vms.example.com' }).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' })).json<{ token: string }>().token;
  t.equal(await status(hostOnly, 'other.example.com', { authorization: `Bearer ${token}` }), 200, 'a bearer token is not bound');

  const shared = await startStack({ config: { session: { store: 'memory', secret: 'test-session-secret-0123456789-abcdefghijklmnop', cookie: { domain: '.example.com' } } } });
  t.teardown(() => shared.close());
  const domainCookie = await signInOn(shared, 'vms.example.com');
  t.equal(await status(shared, 'other.example.com', { cookie: domainCookie }), 200, 'within the shared cookie domain');
  t.equal(await status(shared, 'example.com', { cookie: domainCookie }), 200, 'the domain itself');
  t.equal(await status(shared, 'example.com.evil.test', { cookie: domainCookie }), 401, 'outside it');
});
