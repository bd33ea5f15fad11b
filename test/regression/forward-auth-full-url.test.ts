/**
 * Regression (issue 12 item 1, issue 17 "Partial"): with a bypass rule on /public and everything else
 * protected, `GET /_gateway/authz` with `X-Original-URL: http://vms.example.com/public//../admin` answered
 * 200 — the full URL went through WHATWG `new URL()`, which resolved the dot segments (to /public/admin)
 * before the checks saw the path; nginx then forwarded /admin unauthenticated. A path whose plausible
 * readings fall under different rules, or that carries NUL/tab/newline, fullwidth dots, overlong UTF-8 or
 * a `...` segment, is now refused with 400 in every form the front proxy may send it: the full URL, the
 * bare path (at /authz) and Traefik/Caddy's X-Forwarded-Uri (at /authz/forward-auth).
 */
import t from 'tap';
import http from 'node:http';
import { startStack } from '../fixtures/gateway.js';

interface Answer {
  status: number;
  body: string;
}

function get(base: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The exact paths of the two issues. */
const ISSUE_PATHS = [
  '/public//../admin',
  '/public///../../admin',
  '/public/x//../../admin',
  '/public/;/../admin',
  '/public/%00/../admin',
  '/public/a%00b/../admin',
  '/public/%09/../admin',
  '/public/%0a/../admin',
  // issue 17: fullwidth and overlong dots, `...` segments
  '/public/%ef%bc%8e%ef%bc%8e/admin',
  '/public/%c0%ae%c0%ae/admin',
  '/public/.../admin',
];

const HOST = 'vms.example.com';
/** Each form at the endpoint that reads it: /authz reads X-Original-*, /authz/forward-auth reads X-Forwarded-*. */
const forms: Array<[string, string, (path: string) => Record<string, string>]> = [
  ['/_gateway/authz', 'nginx full URL', (path) => ({ 'x-original-url': `http://${HOST}${path}`, 'x-original-method': 'GET' })],
  ['/_gateway/authz', 'nginx full URL, https', (path) => ({ 'x-original-url': `https://${HOST}${path}` })],
  ['/_gateway/authz', 'nginx bare path', (path) => ({ 'x-original-url': path, 'x-forwarded-host': HOST, 'x-forwarded-proto': 'https' })],
  ['/_gateway/authz/forward-auth', 'Traefik/Caddy X-Forwarded-Uri', (path) => ({ 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': HOST, 'x-forwarded-uri': path })],
];

void t.test('forward-auth refuses every issue path with 400 in every form, on both endpoints', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());
  {
    for (const [endpoint, form, headers] of forms) {
      for (const path of ISSUE_PATHS) {
        const res = await get(stack.url, endpoint, headers(path));
        t.equal(res.status, 400, `${endpoint} ${form} ${path}`);
        t.match(res.body, /"bad_path"/);
      }
      // The same entrance still lets the bypass rule work and still protects /admin.
      t.equal((await get(stack.url, endpoint, headers('/public/x?y=1'))).status, 200, `${endpoint} ${form} /public/x passes`);
      t.equal((await get(stack.url, endpoint, headers('/public/a/../b'))).status, 200, `${endpoint} ${form} an unambiguous dot segment passes`);
      t.equal((await get(stack.url, endpoint, headers('/admin'))).status, 401, `${endpoint} ${form} /admin needs a session`);
      t.equal((await get(stack.url, endpoint, headers('/public/../admin'))).status, 401, `${endpoint} ${form} /public/../admin is /admin to every reader`);
    }
  }
  // Traefik passes client headers to the auth server: a client-sent X-Original-URL must not choose the
  // path judged at /authz/forward-auth (it reads X-Forwarded-* only), nor X-Forwarded-Uri at /authz.
  const smuggled = await get(stack.url, '/_gateway/authz/forward-auth', { 'x-original-url': `http://${HOST}/public/x`, 'x-forwarded-proto': 'https', 'x-forwarded-host': HOST, 'x-forwarded-uri': '/admin' });
  t.equal(smuggled.status, 401, 'forward-auth judges X-Forwarded-Uri (/admin), not a client-sent X-Original-URL (/public/x)');
  const other = await get(stack.url, '/_gateway/authz', { 'x-forwarded-host': HOST, 'x-forwarded-uri': '/public/x' });
  t.equal(other.status, 400, '/authz without X-Original-URL: 400, whatever X-Forwarded-Uri says');
  t.equal(stack.upstream.seen.length, 0, 'forward-auth never forwards anything');
});

void t.test('the full URL is split without normalising: scheme and authority are checked, the path is taken raw', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());
  for (const url of ['ftp://vms.example.com/public/x', 'http://user@vms.example.com/public/x', 'http:/vms.example.com/public/x', 'vms.example.com/public/x', 'http://vms.example.com\\@evil/public/x', 'javascript:alert(1)']) {
    t.equal((await get(stack.url, '/_gateway/authz', { 'x-original-url': url })).status, 400, url);
  }
  for (const url of ['HTTP://VMS.example.com/public/x', 'http://vms.example.com:8443/public', 'http://vms.example.com/public?/../admin', 'http://[::1]:8080/public/x']) {
    t.equal((await get(stack.url, '/_gateway/authz', { 'x-original-url': url })).status, 200, url);
  }
  const res = await get(stack.url, '/_gateway/authz', { 'x-original-url': 'https://vms.example.com' });
  t.equal(res.status, 401, 'an empty path is /, which is protected');
  const forwarded = (host: string) => ({ 'x-forwarded-proto': 'https', 'x-forwarded-host': host, 'x-forwarded-uri': '/public/x' });
  t.equal((await get(stack.url, '/_gateway/authz/forward-auth', forwarded('my_app:8080'))).status, 200, 'a container service name is a host');
  for (const host of ['open.example.com:80@evil.com', 'vms.example.com/x', 'vms example.com', 'vms.example.com:port']) {
    t.equal((await get(stack.url, '/_gateway/authz/forward-auth', forwarded(host))).status, 400, `X-Forwarded-Host ${host}`);
  }
});
