import t from 'tap';
import { wsText } from '../fixtures/ws-text.js';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { request } from 'undici';
import WebSocket from 'ws';
import { Browser } from '../fixtures/browser.js';
import { startStack } from '../fixtures/gateway.js';

/** Signs in `svc` (password only: second_factor enabled false) and answers the browser. */
async function signedIn(url: string): Promise<Browser> {
  const b = new Browser(url);
  await b.get('/_gateway/login');
  const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return b;
}

void t.test('identity headers: client copies are dropped in every spelling, the gateway sets its own, with a verifiable assertion', async (t) => {
  const dir = (await import('node:os')).tmpdir();
  const keyFile = join(dir, `portcullis-assert-${process.pid}.pem`);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const stack = await startStack({ config: { identity: { jwt_assertion: { private_key_file: keyFile, ttl: '60s' } } } });
  t.teardown(() => stack.close());
  const b = await signedIn(stack.url);
  const spoofed = {
    'remote-user': 'admin',
    'Remote_User': 'admin',
    'REMOTE-GROUPS': 'admins',
    'remote_email': 'evil@example.com',
    'Remote-Name': 'Mallory',
    'remote-auth-method': 'api_key',
    'x-portcullis-assertion': 'forged',
    'x-forwarded-for': '10.9.9.9',
    'x-forwarded-host': 'evil.example.com',
    'x-forwarded-proto': 'https',
    cookie: `${b.cookieHeader()}; app_pref=dark; other="quoted value"`,
  };
  const res = await request(`${stack.url}/whoami`, { headers: { ...spoofed, accept: 'application/json' } });
  t.equal(res.statusCode, 200);
  const seen = (await res.body.json()) as { headers: Record<string, string> };
  const h = seen.headers;
  t.equal(h['remote-user'], 'svc');
  t.equal(h['remote-groups'], 'service');
  t.equal(h['remote-email'], undefined, 'svc has no email; the spoofed one is gone');
  t.equal(h['remote-name'], undefined);
  t.equal(h['remote-auth-method'], 'session');
  t.equal(h.remote_user, undefined, 'underscore variant dropped');
  t.equal(h.remote_email, undefined);
  t.equal(h['x-forwarded-for'], '127.0.0.1', 'untrusted client X-Forwarded-For replaced');
  t.equal(h['x-forwarded-proto'], 'http');
  t.match(h['x-forwarded-host'], /^127\.0\.0\.1:\d+$/);
  t.notMatch(h.cookie, /portcullis_session|portcullis_device|portcullis_csrf/, 'gateway cookies never forwarded');
  t.match(h.cookie, /app_pref=dark/, 'other cookies pass');
  t.match(h.cookie, /other="quoted value"/, 'byte for byte');

  const assertion = h['x-portcullis-assertion'];
  t.not(assertion, 'forged');
  const jwks = await request(`${stack.url}/_gateway/.well-known/jwks.json`);
  const set = createLocalJWKSet((await jwks.body.json()) as Parameters<typeof createLocalJWKSet>[0]);
  const { payload, protectedHeader } = await jwtVerify(assertion!, set, { issuer: 'portcullis', currentDate: new Date(stack.clock.now()) });
  t.equal(protectedHeader.alg, 'ES256');
  t.equal(payload.sub, 'svc');
  t.same(payload.groups, ['service']);
  t.same(payload.amr, ['pwd']);
});

void t.test('a bypass route gets no identity and keeps no spoofed one', async (t) => {
  const stack = await startStack({ config: { access: { rules: [{ paths: ['/public'], policy: 'bypass' }] } } });
  t.teardown(() => stack.close());
  const res = await request(`${stack.url}/public/x`, { headers: { 'remote-user': 'admin', 'Remote_Groups': 'admins' } });
  const seen = (await res.body.json()) as { headers: Record<string, string> };
  t.equal(seen.headers['remote-user'], undefined);
  t.equal(seen.headers.remote_groups, undefined);
  const hostile = await request(`${stack.url}/public/..%2fadmin`);
  t.equal(hostile.statusCode, 400, 'an encoded slash never reaches a rule');
  await hostile.body.dump();
  const dotted = await request(`${stack.url}/public/../admin`, { headers: { accept: 'application/json' } });
  t.equal(dotted.statusCode, 401, '/public/../admin is judged as /admin');
  await dotted.body.dump();
});

void t.test('unauthenticated answers: browser 302 with rd, API 401 JSON with WWW-Authenticate, WebSocket refused before the upstream', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const nav = await request(`${stack.url}/cams?id=3`, { headers: { accept: 'text/html' } });
  t.equal(nav.statusCode, 302);
  t.equal(nav.headers.location, `/_gateway/login?rd=${encodeURIComponent(`${stack.url}/cams?id=3`)}`);
  await nav.body.dump();
  const api = await request(`${stack.url}/api/cams`, { headers: { accept: 'application/json' } });
  t.equal(api.statusCode, 401);
  t.match(String(api.headers['www-authenticate']), /^Bearer/);
  t.same(((await api.body.json()) as { error: string }).error, 'unauthenticated');

  const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`);
  const status = await new Promise<number>((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
  t.equal(status, 401);
  t.equal(stack.upstream.wsConnections, 0, 'no byte reached the upstream');
  t.equal(stack.upstream.seen.length, 0);
});

void t.test('a signed-in WebSocket reaches the upstream with the identity', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const b = await signedIn(stack.url);
  const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`, { headers: { cookie: b.cookieHeader(), 'remote-user': 'admin', origin: stack.url } });
  const hello = await new Promise<string>((resolve, reject) => {
    ws.once('message', (m) => resolve(wsText(m)));
    ws.once('error', reject);
  });
  t.same(JSON.parse(hello), { hello: 'svc' });
  ws.send('ping');
  const echo = await new Promise<string>((resolve) => ws.once('message', (m) => resolve(wsText(m))));
  t.equal(echo, 'ping');
  ws.close();
});

void t.test('CSRF: a login without the token, with a wrong one, or with another browser\'s token is refused', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await b.get('/_gateway/login');
  const token = b.csrf();
  const none = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', rd: '/' });
  t.equal(none.status, 403);
  const wrong = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: 'x'.repeat(43), rd: '/' });
  t.equal(wrong.status, 403);
  const other = new Browser(stack.url);
  await other.get('/_gateway/login');
  const foreign = await other.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: token, rd: '/' });
  t.equal(foreign.status, 403, "another browser's token does not match its cookie");
  t.notOk([...b.cookies.keys()].includes('portcullis_session'));
});

void t.test('rd: hostile targets fall back to /, same-host targets are honoured', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  for (const [rd, expected] of [
    ['//evil.example.com/x', '/'],
    ['https://evil.example.com/', '/'],
    ['/\\evil.example.com', '/'],
    ['javascript:alert(1)', '/'],
    ['https:evil.example.com', '/'],
    ['/cams?id=1', '/cams?id=1'],
    [`${stack.url}/cams`, `${stack.url}/cams`],
  ] as const) {
    const b = new Browser(stack.url);
    await b.get('/_gateway/login');
    const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd });
    t.equal(res.location, expected, rd);
  }
});

void t.test('admin listener: healthz, readyz, metrics; never on the public listener', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const admin = stack.gateway.adminUrl!;
  t.equal((await request(`${admin}/healthz`)).statusCode, 200);
  const ready = await request(`${admin}/readyz`);
  t.equal(ready.statusCode, 200);
  t.match(await ready.body.json(), { store: 'ok' });
  await signedIn(stack.url);
  const metrics = await (await request(`${admin}/metrics`)).body.text();
  t.match(metrics, /portcullis_logins_total\{result="success",reason="password"\} 1/);
  const pub = await request(`${stack.url}/metrics`, { headers: { accept: 'application/json' } });
  t.equal(pub.statusCode, 401, '/metrics on the public listener is just another protected path');
  await pub.body.dump();
});

void t.test('upstream down: 502 JSON or HTML, never a stack trace', async (t) => {
  const stack = await startStack({ config: { upstreams: [{ name: 'gone', url: 'http://127.0.0.1:9' }], access: { default_policy: 'bypass' } } });
  t.teardown(() => stack.close());
  const json = await request(`${stack.url}/x`, { headers: { accept: 'application/json' } });
  t.equal(json.statusCode, 502);
  const body = (await json.body.json()) as Record<string, unknown>;
  t.equal(typeof body.error, 'string');
  t.notMatch(JSON.stringify(body), /at .*\.js:\d+/);
  const html = await request(`${stack.url}/x`, { headers: { accept: 'text/html' } });
  t.equal(html.statusCode, 502);
  t.match(await html.body.text(), /<html/);
});

void t.test('portal paths: a wrong method is 405 with Allow, an unknown path 404, the upstream never sees either', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const put = await request(`${stack.url}/_gateway/login`, { method: 'PUT', headers: { accept: 'application/json' } });
  t.equal(put.statusCode, 405);
  t.equal(put.headers.allow, 'GET, POST');
  await put.body.dump();
  const del = await request(`${stack.url}/_gateway/logout`, { method: 'DELETE', headers: { accept: 'application/json' } });
  t.equal(del.statusCode, 405);
  t.equal(del.headers.allow, 'GET, POST');
  await del.body.dump();
  // GET /logout only asks (a page with the sign-out form; without a session: to the sign-in page): no sign-out by a link.
  const get = await request(`${stack.url}/_gateway/logout`, { headers: { accept: 'text/html' } });
  t.equal(get.statusCode, 303);
  await get.body.dump();
  const unknown = await request(`${stack.url}/_gateway/nothing-here`, { headers: { accept: 'application/json' } });
  t.equal(unknown.statusCode, 404);
  await unknown.body.dump();
  t.equal(stack.upstream.seen.length, 0);
});
