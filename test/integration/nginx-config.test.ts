/**
 * nginx in front, configured with what `portcullis nginx-config` generates for this test's gateway:
 * a real gateway, a real nginx (one worker) and an echo upstream. Bypass paths pass, protected paths
 * send browsers to the portal and answer API callers 401, a browser signs in through nginx, signed-in
 * requests (cookie, bearer token, API key) reach the app with the identity headers and without the
 * gateway's credentials, client-sent identity headers are dropped, WebSockets pass, strip_prefix and
 * a base path reach the right upstream path, and a revoked session is refused within the stated bound.
 * Skipped only when /usr/sbin/nginx is missing.
 */
import t from 'tap';
import { wsText } from '../fixtures/ws-text.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { nginxConfig } from '../../src/frontproxy/nginx.js';
import { Browser } from '../fixtures/browser.js';
import { call, NGINX, openWs, startNginx, type Answer } from '../fixtures/frontproxy.js';
import { startStack } from '../fixtures/gateway.js';
import { freePort } from '../fixtures/redis.js';

const API_KEY = 'nginx-config-api-key-0123456789abcdef';



type Seen = { method: string; url: string; headers: Record<string, string | undefined>; body: string };

function seen(res: Answer): Seen {
  return JSON.parse(res.body) as Seen;
}


if (!existsSync(NGINX)) {
  void t.test('nginx with the generated config', { skip: `${NGINX} is not installed` }, async () => {});
} else {
  void t.test('nginx with the config `portcullis nginx-config` generates', async (t) => {
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
    const legacy = { ...config.upstreams[0]!, name: 'legacy', url: `${stack.upstream.url}/base`, match: { hosts: [], path_prefix: '/legacy' }, strip_prefix: true };
    config.upstreams.push(legacy);
    stack.gateway.reload(config);
    const port = await freePort();
    const generate = (dir: string) => nginxConfig(config, { gateway: stack.url, listen: `127.0.0.1:${port}`, cacheDir: `${dir}/authcache` });
    const generated = generate('/unused');
    t.equal(generated.revocationBoundSeconds, 3, 'cache_ttl 1 s + 1 s validity + 1 s of whole-second rounding');
    const nginx = await startNginx((dir) => generate(dir).text, port);
    t.teardown(() => nginx.close());
    const front = nginx.url;
    const seenBefore = (): number => stack.upstream.seen.length;

    await t.test('a bypass path passes without a session; client identity headers are dropped', async (t) => {
      const res = await call(`${front}/public/info?x=1`, { headers: { 'remote-user': 'mallory', remote_user: 'mallory', 'x-portcullis-assertion': 'forged' } });
      t.equal(res.status, 200, nginx.log());
      const s = seen(res);
      t.equal(s.url, '/public/info?x=1');
      t.equal(s.headers['remote-user'], undefined);
      t.equal(s.headers['remote_user'], undefined);
      t.equal(s.headers['x-portcullis-assertion'], undefined);
      t.equal(s.headers['x-forwarded-for'], '127.0.0.1');
      t.equal(s.headers.host, new URL(stack.upstream.url).host, 'Host is the upstream URL\'s (preserve_host: false)');
    });

    await t.test('a protected path: browsers are sent to the portal, API callers get 401 JSON', async (t) => {
      const before = seenBefore();
      const browser = await call(`${front}/cameras/1?x=1`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      t.equal(browser.status, 302, nginx.log());
      t.equal(browser.headers.location, `${front}/_gateway/login?rd=${encodeURIComponent(`${front}/cameras/1?x=1`)}`);
      const api = await call(`${front}/cameras/1`, { headers: { accept: 'application/json' } });
      t.equal(api.status, 401);
      t.same(JSON.parse(api.body), { error: 'unauthenticated', message: 'Authentication required' });
      t.equal(api.headers['www-authenticate'], 'Bearer realm="portcullis", login="/_gateway/login"', 'one challenge, the gateway\'s');
      const post = await call(`${front}/cameras/1`, { method: 'POST', headers: { accept: 'text/html', 'content-type': 'text/plain' }, body: 'x' });
      t.equal(post.status, 401, 'a POST is not a navigation');
      t.equal(stack.upstream.seen.length, before, 'the app saw nothing');
    });

    await t.test('a browser signs in through nginx and comes back with its identity', async (t) => {
      const b = new Browser(front);
      const first = await b.get('/cameras/2');
      t.equal(first.status, 302);
      const login = await b.get(first.location!);
      t.equal(login.status, 200, login.text.slice(0, 300));
      const rd = new URL(first.location!).searchParams.get('rd')!;
      const done = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd }, { origin: front });
      t.equal(done.status, 303, done.text.slice(0, 300));
      t.equal(done.location, rd);
      const back = await b.get(new URL(rd).pathname);
      t.equal(back.status, 200, nginx.log());
      const s = JSON.parse(back.text) as Seen;
      t.equal(s.headers['remote-user'], 'svc');
      t.notMatch(s.headers.cookie ?? '', /portcullis_/, 'no gateway cookie reaches the app');
    });

    const login = await call(`${front}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'svc', password: 'svc-password-1' }) });
    t.equal(login.status, 200, login.body);
    const token = (JSON.parse(login.body) as { token: string }).token;

    await t.test('a signed-in cookie reaches the app with the identity headers, even from the cache', async (t) => {
      for (const round of ['first', 'cached']) {
        const res = await call(`${front}/cameras/1`, {
          headers: { cookie: `theme=dark; portcullis_session=${token}; portcullis_device=d1; portcullis_csrf=c1; lang=de`, 'remote-user': 'mallory', 'REMOTE-GROUPS': 'admins', 'remote_name': 'Mallory' },
        });
        t.equal(res.status, 200, `${round}: ${nginx.log()}`);
        const s = seen(res);
        t.equal(s.headers['remote-user'], 'svc', round);
        t.equal(s.headers['remote-groups'], 'service', round);
        t.equal(s.headers['remote-auth-method'], 'session', round);
        t.equal(s.headers['remote_name'], undefined, round);
        t.equal(s.headers.cookie, 'theme=dark;lang=de', `${round}: the gateway's cookies stay at the gateway, the app's pass`);
        t.match(s.headers['x-request-id'] ?? '', /^[0-9a-f]{32}$/);
      }
    });

    await t.test('more copies of the gateway cookie than nginx removes are refused', async (t) => {
      const two = await call(`${front}/cameras/1`, { headers: { cookie: `portcullis_session=${token}; a=1; portcullis_session=${token}` } });
      t.equal(two.status, 200);
      t.equal(seen(two).headers.cookie, 'a=1;');
      const five = Array.from({ length: 5 }, () => `portcullis_session=${token}`).join('; ');
      t.equal((await call(`${front}/cameras/1`, { headers: { cookie: five } })).status, 400);
    });

    await t.test('a bearer token reaches the app; the token does not', async (t) => {
      const body = 'uploaded through auth_request';
      const res = await call(`${front}/cameras/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body });
      t.equal(res.status, 200, nginx.log());
      const s = seen(res);
      t.equal(s.headers['remote-user'], 'svc');
      t.equal(s.headers.authorization, undefined);
      t.equal(s.body, body, 'the request body reaches the app');
    });

    await t.test('an API key client reaches the app without its key; a wrong key gets 401 JSON', async (t) => {
      const res = await call(`${front}/api/events`, { headers: { 'x-api-key': API_KEY } });
      t.equal(res.status, 200);
      t.equal(seen(res).headers['remote-user'], 'nvr-sync');
      t.equal(seen(res).headers['remote-auth-method'], 'api_key');
      t.equal(seen(res).headers['x-api-key'], undefined);
      const wrong = await call(`${front}/api/events`, { headers: { 'x-api-key': 'not-the-key', accept: 'text/html' } });
      t.equal(wrong.status, 401);
      t.equal((JSON.parse(wrong.body) as { error: string }).error, 'unauthenticated');
    });

    await t.test('strip_prefix and the base path: the upstream sees its own path, an encoded prefix is refused', async (t) => {
      const res = await call(`${front}/legacy/report%20one?y=2`, { headers: { cookie: `portcullis_session=${token}` } });
      t.equal(res.status, 200, nginx.log());
      t.equal(seen(res).url, '/base/report%20one?y=2');
      const bare = await call(`${front}/legacy?y=2`, { headers: { cookie: `portcullis_session=${token}` } });
      t.equal(seen(bare).url, '/base/?y=2');
      t.equal(seen(await call(`${front}/legacy`, { headers: { cookie: `portcullis_session=${token}` } })).url, '/base/');
      t.equal((await call(`${front}/%6cegacy/x`, { headers: { cookie: `portcullis_session=${token}` } })).status, 400);
    });

    await t.test('WebSockets pass with a session and are refused without one', async (t) => {
      const ok = await openWs(`${front.replace('http', 'ws')}/ws`, { cookie: `portcullis_session=${token}` });
      t.ok('ws' in ok, nginx.log());
      if ('ws' in ok) {
        t.same(JSON.parse(ok.hello), { hello: 'svc' });
        const echo = new Promise<string>((r) => ok.ws.once('message', (m) => r(wsText(m))));
        ok.ws.send('ping through nginx');
        t.equal(await echo, 'ping through nginx');
        ok.ws.close();
      }
      const before = stack.upstream.wsConnections;
      const refused = await openWs(`${front.replace('http', 'ws')}/ws`, {});
      t.same(refused, { status: 401 });
      t.equal(stack.upstream.wsConnections, before, 'no connection reached the app');
    });

    await t.test('the forward-auth endpoint is not reachable from outside', async (t) => {
      for (const path of ['/_gateway/authz', '/_gateway/authz/forward-auth']) {
        t.equal((await call(`${front}${path}`, { headers: { 'x-original-url': `${front}/cameras/1`, 'x-api-key': API_KEY } })).status, 404, path);
      }
    });

    await t.test('a revoked session is refused within the bound the generated config states', async (t) => {
      // Answers cached, expired and cached again: nginx holds a descriptor of a cache file that was replaced
      // (open_file_cache), which must never stretch a cached answer's validity.
      for (let i = 0; i < 4; i++) {
        t.equal((await call(`${front}/cameras/9`, { headers: { cookie: `portcullis_session=${token}` } })).status, 200);
        await new Promise((r) => setTimeout(r, 600));
      }
      const out = await call(`${front}/_gateway/api/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      t.equal(out.status, 204, out.body);
      await new Promise((r) => setTimeout(r, generated.revocationBoundSeconds * 1000));
      for (let i = 0; i < 3; i++) t.equal((await call(`${front}/cameras/9`, { headers: { cookie: `portcullis_session=${token}` } })).status, 401, `refused, call ${i + 1}`);
    });
  });
}
