/**
 * Caddy in front, configured with what `portcullis caddy-config` generates for this test's gateway:
 * a real gateway, Debian's caddy and an echo upstream. Bypass paths pass, browsers are redirected to
 * the portal, API callers get 401, a signed-in session reaches the app with the identity headers (and
 * without the gateway's cookies and token), client-sent identity headers in any spelling and a forged
 * X-Original-URL change nothing, and WebSockets pass. Skipped only when /usr/bin/caddy is missing.
 */
import t from 'tap';
import { wsText } from '../fixtures/ws-text.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { caddyConfig } from '../../src/frontproxy/caddy.js';
import { CADDY, call, openWs, startCaddy } from '../fixtures/frontproxy.js';
import { startStack } from '../fixtures/gateway.js';
import { freePort } from '../fixtures/redis.js';

const API_KEY = 'caddy-config-api-key-0123456789abcdef';

type Seen = { method: string; url: string; headers: Record<string, string | undefined>; body: string };


if (!existsSync(CADDY)) {
  void t.test('caddy with the generated Caddyfile', { skip: `${CADDY} is not installed` }, async () => {});
} else {
  void t.test('caddy with the Caddyfile `portcullis caddy-config` generates', async (t) => {
    const stack = await startStack({
      config: {
        server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
        access: { default_policy: 'one_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] },
        api_clients: [{ name: 'nvr-sync', api_key: { sha256: createHash('sha256').update(API_KEY).digest('hex') } }],
      },
    });
    t.teardown(() => stack.close());
    // A second route to the same echo app: /legacy/* with the prefix stripped, under the URL's base path.
    const config = { ...stack.gateway.gateway.config, upstreams: [...stack.gateway.gateway.config.upstreams] };
    config.upstreams.push({ ...config.upstreams[0]!, name: 'legacy', url: `${stack.upstream.url}/base`, match: { hosts: [], path_prefix: '/legacy' }, strip_prefix: true });
    stack.gateway.reload(config);
    const port = await freePort();
    const generated = caddyConfig(config, { gateway: stack.url, listen: `http://:${port}`, bind: '127.0.0.1' });
    const caddy = await startCaddy(generated.text, port);
    t.teardown(() => caddy.close());
    const front = caddy.url;
    const seen = (body: string): Seen => JSON.parse(body) as Seen;

    await t.test('a bypass path passes without a session; client identity headers are dropped', async (t) => {
      const res = await call(`${front}/public/info?x=1`, { headers: { 'remote-user': 'mallory', REMOTE_USER: 'mallory', 'Remote_Auth-Method': 'session' } });
      t.equal(res.status, 200, caddy.log());
      const s = seen(res.body);
      t.equal(s.url, '/public/info?x=1');
      t.equal(s.headers['remote-user'] ?? '', '', 'no user (empty or absent)');
      t.equal(s.headers['remote_user'], undefined);
      t.equal(s.headers['remote_auth-method'], undefined);
      t.equal(s.headers.host, new URL(stack.upstream.url).host, "Host is the upstream URL's (preserve_host: false)");
    });

    await t.test('a protected path: browsers are redirected to the portal, API callers get 401', async (t) => {
      const before = stack.upstream.seen.length;
      const browser = await call(`${front}/cameras/1?x=1`, { headers: { accept: 'text/html' } });
      t.equal(browser.status, 302, caddy.log());
      // Relative: the portal link is never built from a forwarded Host (no public_url in this test).
      t.equal(browser.headers.location, `/_gateway/login?rd=${encodeURIComponent(`${front}/cameras/1?x=1`)}`);
      const api = await call(`${front}/cameras/1`, { headers: { accept: 'application/json' } });
      t.equal(api.status, 401);
      t.equal((JSON.parse(api.body) as { error: string }).error, 'unauthenticated');
      t.equal(stack.upstream.seen.length, before, 'the app saw nothing');
    });

    await t.test('a forged X-Original-URL does not turn a protected path into a bypassed one', async (t) => {
      const res = await call(`${front}/cameras/1`, { headers: { 'x-original-url': `${front}/public/x`, 'x-original-method': 'GET' } });
      t.equal(res.status, 401);
    });

    const login = await call(`${front}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'svc', password: 'svc-password-1' }) });
    t.equal(login.status, 200, login.body);
    const token = (JSON.parse(login.body) as { token: string }).token;

    await t.test('a signed-in session reaches the app with the identity headers, without the gateway cookies or token', async (t) => {
      const res = await call(`${front}/cameras/1`, { headers: { cookie: `theme=dark; portcullis_session=${token}; portcullis_device=d1; lang=de`, 'remote-user': 'mallory', remote_groups: 'admins' } });
      t.equal(res.status, 200, caddy.log());
      const s = seen(res.body);
      t.equal(s.headers['remote-user'], 'svc');
      t.equal(s.headers['remote-groups'], 'service');
      t.equal(s.headers['remote-auth-method'], 'session');
      t.equal(s.headers['remote_groups'], undefined);
      t.equal(s.headers.cookie, 'theme=dark; lang=de');
      const bearer = await call(`${front}/cameras/2`, { headers: { authorization: `Bearer ${token}` } });
      t.equal(bearer.status, 200);
      t.equal(seen(bearer.body).headers['remote-user'], 'svc');
      t.equal(seen(bearer.body).headers.authorization, undefined, 'the session token stays at the gateway');
    });

    await t.test('an API key client reaches the app without its key', async (t) => {
      const res = await call(`${front}/api/events`, { headers: { 'x-api-key': API_KEY } });
      t.equal(res.status, 200);
      t.equal(seen(res.body).headers['remote-user'], 'nvr-sync');
      t.equal(seen(res.body).headers['x-api-key'], undefined);
      t.equal((await call(`${front}/api/events`, { headers: { 'x-api-key': 'wrong' } })).status, 401);
    });

    await t.test('strip_prefix and the base path: the upstream sees its own path', async (t) => {
      const res = await call(`${front}/legacy/report%20one?y=2`, { headers: { cookie: `portcullis_session=${token}` } });
      t.equal(res.status, 200, caddy.log());
      t.equal(seen(res.body).url, '/base/report%20one?y=2');
      t.equal(seen((await call(`${front}/legacy?y=2`, { headers: { cookie: `portcullis_session=${token}` } })).body).url, '/base/?y=2');
      t.equal(seen((await call(`${front}/legacy`, { headers: { cookie: `portcullis_session=${token}` } })).body).url, '/base/');
    });

    await t.test('WebSockets pass with a session and are refused without one', async (t) => {
      const ok = await openWs(`${front.replace('http', 'ws')}/ws`, { cookie: `portcullis_session=${token}` });
      t.ok('ws' in ok, caddy.log());
      if ('ws' in ok) {
        t.same(JSON.parse(ok.hello), { hello: 'svc' });
        const echo = new Promise<string>((r) => ok.ws.once('message', (m) => r(wsText(m))));
        ok.ws.send('ping through caddy');
        t.equal(await echo, 'ping through caddy');
        ok.ws.close();
      }
      const before = stack.upstream.wsConnections;
      t.same(await openWs(`${front.replace('http', 'ws')}/ws`, {}), { status: 401 });
      t.equal(stack.upstream.wsConnections, before, 'no connection reached the app');
    });

    await t.test('the forward-auth endpoint is not reachable through caddy', async (t) => {
      t.equal((await call(`${front}/_gateway/authz/forward-auth`, { headers: { 'x-forwarded-uri': '/cameras/1', 'x-api-key': API_KEY } })).status, 404);
    });
  });
}
