/**
 * Cross-origin requests (issue 12 item 4, issue 17 items 5 and 6; SPEC §3): every state-changing portal and
 * JSON API route that a cookie authenticates refuses a foreign or `null` Origin with 403, whatever the CSRF
 * token; a cookie-authenticated WebSocket handshake needs an Origin the gateway serves; bearer tokens are
 * not affected. Each refused request leaves the session as it was.
 */
import t from 'tap';
import http from 'node:http';
import { WebSocket } from 'ws';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { signedInBrowser } from './tables.js';

const signedIn = (stack: Stack): Promise<Browser> => signedInBrowser(stack);

/** Origins a browser could send from a page the gateway does not serve (the request goes to http://127.0.0.1:PORT). */
function foreignOrigins(stack: Stack): Array<[string, Record<string, string>]> {
  const u = new URL(stack.url);
  const otherPort = String(Number(u.port) === 65535 ? 1 : Number(u.port) + 1);
  return [
    ['another site', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['the same host on another port', { origin: `http://127.0.0.1:${otherPort}` }],
    ['the same host over https', { origin: `https://127.0.0.1:${u.port}` }],
    ['a look-alike host', { origin: `http://127.0.0.1.evil.example:${u.port}` }],
    ['an origin with a path', { origin: `${stack.url}/x` }],
    ['an unparsable origin', { origin: 'http://[' }],
    ['a cross-site fetch without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site (sibling subdomain) fetch without Origin', { 'sec-fetch-site': 'same-site' }],
  ];
}

/** State-changing routes a cookie authenticates, with a body each would accept from the page. */
const ROUTES: Array<[string, 'form' | 'json']> = [
  ['/_gateway/logout', 'form'],
  ['/_gateway/logout?everywhere=1', 'form'],
  ['/_gateway/account/sessions/remove', 'form'],
  ['/_gateway/account/devices/remove', 'form'],
  ['/_gateway/enroll/recovery-codes', 'form'],
  ['/_gateway/enroll/totp', 'form'],
  ['/_gateway/verify', 'form'],
  ['/_gateway/login', 'form'],
  ['/_gateway/api/v1/logout', 'json'],
  ['/_gateway/api/v1/verify', 'json'],
  ['/_gateway/api/v1/login', 'json'],
];

void t.test('a foreign or null Origin is refused with 403 on every state-changing route, and the session survives', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const b = await signedIn(stack);
  await b.get('/_gateway/account');
  const csrf = b.csrf();
  for (const [route, kind] of ROUTES) {
    for (const [name, headers] of foreignOrigins(stack)) {
      const res = kind === 'form' ? await b.post(route, { csrf, id: 'x' }, headers) : await b.json(route, {}, headers);
      t.equal(res.status, 403, `${route} from ${name}`);
    }
  }
  t.equal((await b.get('/_gateway/api/v1/session', { accept: 'application/json' })).status, 200, 'the session is still signed in');
  t.ok(stack.logs.lines.some((l) => l.msg === 'cross-origin state change refused'), 'refusals are logged');
  t.notOk(stack.logs.raw.includes(b.cookies.get('portcullis_session') ?? '\u0000'), 'the cookie is not logged');
});

void t.test('the same origin, a configured origin and a non-browser client (no Origin, no Sec-Fetch-Site) pass the check', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', allowed_origins: ['https://console.example.com'] } } });
  t.teardown(() => stack.close());
  const cases: Array<[string, Record<string, string>]> = [
    ['the request origin', { origin: stack.url }],
    ['a configured origin', { origin: 'https://console.example.com' }],
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['no Origin at all (curl, a mobile app)', {}],
  ];
  for (const [name, headers] of cases) {
    const b = await signedIn(stack);
    await b.get('/_gateway/account');
    const res = await b.post('/_gateway/logout', { csrf: b.csrf() }, headers);
    t.equal(res.status, 303, `logout from ${name}`);
    t.equal((await b.get('/_gateway/api/v1/session', { accept: 'application/json' })).status, 401, `${name}: signed out`);
  }
});

void t.test('bearer tokens are not affected: the JSON API logout with a token and a foreign Origin works', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const login = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' });
  const token = login.json<{ token: string }>().token;
  t.ok(token);
  const api = new Browser(stack.url);
  const res = await api.json('/_gateway/api/v1/logout', {}, { authorization: `Bearer ${token}`, origin: 'https://evil.example' });
  t.equal(res.status, 204);
});

function handshake(stack: Stack, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`, { headers });
  return new Promise<number>((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => resolve(0));
  });
}

void t.test('WebSocket: a cookie-authenticated handshake needs an Origin the gateway serves; bearer handshakes do not', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', allowed_origins: ['https://console.example.com'] } } });
  t.teardown(() => stack.close());
  const b = await signedIn(stack);
  const cookie = b.cookieHeader();
  for (const [name, headers] of foreignOrigins(stack)) t.equal(await handshake(stack, { cookie, ...headers }), 403, `cookie + ${name}`);
  t.equal(await handshake(stack, { cookie }), 403, 'cookie without Origin (browsers always send one with a handshake)');
  t.equal(stack.upstream.wsConnections, 0, 'no refused handshake reached the upstream');
  t.equal(await handshake(stack, { cookie, origin: stack.url }), 101, 'the same origin');
  t.equal(await handshake(stack, { cookie, origin: 'https://console.example.com' }), 101, 'a configured origin');
  const login = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' });
  const token = login.json<{ token: string }>().token;
  t.equal(await handshake(stack, { authorization: `Bearer ${token}`, origin: 'https://evil.example' }), 101, 'a bearer token with any Origin');
  t.equal(await handshake(stack, { authorization: `Bearer ${token}` }), 101, 'a bearer token without Origin');
});

void t.test('a public (bypass) WebSocket stays open to any origin', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'two_factor', rules: [{ paths: ['/ws'], policy: 'bypass' }] } } });
  t.teardown(() => stack.close());
  const b = await signedIn(stack);
  t.equal(await handshake(stack, { cookie: b.cookieHeader(), origin: 'https://evil.example' }), 101);
  t.equal(await handshake(stack, { origin: 'https://evil.example' }), 101);
});

void t.test('forward-auth: a cookie-authenticated WebSocket check needs an Origin of the original site; plain requests and bearer tokens do not', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url, { host: 'vms.example.com' });
  await b.get('/_gateway/login');
  await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
  const cookie = b.cookieHeader();
  const ws = { upgrade: 'websocket', connection: 'Upgrade' };
  // node:http, not undici: undici refuses to send Upgrade on a plain request (the front proxy does send it).
  const check = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(`${stack.url}/_gateway/authz`, { headers: { 'x-original-url': 'http://vms.example.com/ws', 'x-original-method': 'GET', ...headers } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('answered with a handshake')));
      req.on('error', reject);
    });
  t.equal(await check({ cookie, ...ws, origin: 'http://vms.example.com' }), 200, 'the site itself');
  t.equal(await check({ cookie, ...ws, origin: 'https://evil.example' }), 403, 'a foreign page');
  t.equal(await check({ cookie, ...ws, origin: 'null' }), 403, 'Origin: null');
  t.equal(await check({ cookie, ...ws }), 403, 'no Origin on a handshake');
  t.equal(await check({ cookie, origin: 'https://evil.example' }), 200, 'not a handshake: a GET with a foreign Origin is a navigation or a no-cors load');
  const token = (await new Browser(stack.url, { host: 'vms.example.com' }).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' })).json<{ token: string }>().token;
  t.equal(await check({ authorization: `Bearer ${token}`, ...ws, origin: 'https://evil.example' }), 200, 'a bearer token');
});
