/**
 * Forward-auth mode with a real nginx (`auth_request`) in front, configured with what
 * `portcullis nginx-config` generates for this gateway: browsers without a session get a 302 to the
 * portal through `error_page 401`, a signed-in cookie and an API key reach the app behind nginx with
 * Remote-User set by the gateway's answer, the Traefik-style endpoint answers 302 to browsers, and
 * forward-auth requests from an address outside server.trusted_proxies get 403. (More of the generated
 * configuration is tested in nginx-config.test.ts.) Skipped only when /usr/sbin/nginx is missing.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { nginxConfig } from '../../src/frontproxy/nginx.js';
import { NGINX, startNginx } from '../fixtures/frontproxy.js';
import { freePort } from '../fixtures/redis.js';
import { startStack } from '../fixtures/gateway.js';

const API_KEY = 'forward-auth-api-key-0123456789abcdef';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

if (!existsSync(NGINX)) {
  void t.test('nginx auth_request in front of the gateway', { skip: `${NGINX} is not installed` }, async () => {});
} else {
  void t.test('nginx auth_request in front of the gateway (the generated nginx-config)', async (t) => {
    const stack = await startStack({
      config: {
        server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
        access: { default_policy: 'one_factor' },
        api_clients: [{ name: 'nvr-sync', api_key: { sha256: createHash('sha256').update(API_KEY).digest('hex') } }],
      },
    });
    t.teardown(() => stack.close());
    const port = await freePort();
    const nginx = await startNginx((dir) => nginxConfig(stack.gateway.gateway.config, { gateway: stack.url, listen: `127.0.0.1:${port}`, cacheDir: `${dir}/authcache` }).text, port);
    t.teardown(() => nginx.close());
    const front = nginx.url;
    const nginxLog = (): string => nginx.log();
    const up = await call(`${front}/_gateway/login`).then(
      () => true,
      () => false,
    );
    t.ok(up, `nginx answers ${nginxLog()}`);

    await t.test('a browser without a session is sent to the portal (error_page 401 → 302)', async (t) => {
      const res = await call(`${front}/cameras/1?x=1`, { headers: { accept: 'text/html' } });
      t.equal(res.status, 302, nginxLog());
      t.equal(res.headers.location, `http://127.0.0.1:${port}/_gateway/login?rd=${encodeURIComponent(`http://127.0.0.1:${port}/cameras/1?x=1`)}`);
      t.equal(stack.upstream.seen.length, 0, 'the app saw nothing');
    });

    await t.test('a signed-in cookie reaches the app with Remote-User; a spoofed header is overwritten', async (t) => {
      const login = await call(`${front}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'svc', password: 'svc-password-1' }) });
      t.equal(login.status, 200, login.body);
      const token = (JSON.parse(login.body) as { token: string }).token;
      const res = await call(`${front}/cameras/1`, { headers: { cookie: `portcullis_session=${token}; theme=dark`, 'remote-user': 'mallory' } });
      t.equal(res.status, 200, res.body);
      const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
      t.equal(seen.url, '/cameras/1');
      t.equal(seen.headers['remote-user'], 'svc');
      t.equal(seen.headers['remote-groups'], 'service');
      t.notMatch(seen.headers.cookie ?? '', /portcullis_session/, 'the session cookie stays at the gateway');
      t.match(seen.headers.cookie ?? '', /theme=dark/, 'the app keeps its own cookies');
      // Cached positive answer (proxy_cache_valid 200 1s): a second request is let through too.
      t.equal((await call(`${front}/cameras/2`, { headers: { cookie: `portcullis_session=${token}` } })).status, 200);
    });

    await t.test('an API key client reaches the app; a wrong key does not', async (t) => {
      const res = await call(`${front}/api/events`, { headers: { 'x-api-key': API_KEY } });
      t.equal(res.status, 200, res.body);
      const keyed = JSON.parse(res.body) as { headers: Record<string, string> };
      t.equal(keyed.headers['remote-user'], 'nvr-sync');
      t.equal(keyed.headers['x-api-key'], undefined, 'the API key stays at the gateway');
      const wrong = await call(`${front}/api/events`, { headers: { 'x-api-key': 'not-the-key' } });
      t.not(wrong.status, 200);
    });

    await t.test('Traefik-style /authz/forward-auth: 302 to the portal for browsers, 200 with identity for a session', async (t) => {
      const forwarded = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'vms.example.com', 'x-forwarded-uri': '/cameras/1' };
      const browser = await call(`${stack.url}/_gateway/authz/forward-auth`, { headers: { ...forwarded, accept: 'text/html' } });
      t.equal(browser.status, 302);
      // No public_url and vms.example.com is not a configured host: the link stays relative (the browser
      // resolves it against the page it asked for), never built from the forwarded Host (issue 17).
      t.equal(browser.headers.location, `/_gateway/login?rd=${encodeURIComponent('https://vms.example.com/cameras/1')}`);
      const forged = await call(`${stack.url}/_gateway/authz/forward-auth`, { headers: { ...forwarded, 'x-forwarded-host': 'evil.example', accept: 'text/html' } });
      t.match(forged.headers.location, /^\/_gateway\/login\?/, 'a forged X-Forwarded-Host does not choose the portal');
      const api = await call(`${stack.url}/_gateway/authz/forward-auth`, { headers: forwarded });
      t.equal(api.status, 401, 'non-browsers get 401');
      const ok = await call(`${stack.url}/_gateway/authz/forward-auth`, { headers: { ...forwarded, 'x-api-key': API_KEY } });
      t.equal(ok.status, 200);
      t.equal(ok.headers['remote-user'], 'nvr-sync');
    });

    await t.test('forward-auth from an address outside trusted_proxies: 403', async (t) => {
      for (const path of ['/_gateway/authz', '/_gateway/authz/forward-auth']) {
        const res = await call(`${stack.url}${path}`, { localAddress: '127.0.0.2', headers: { 'x-original-url': 'http://vms.example.com/cameras/1', 'x-api-key': API_KEY } });
        t.equal(res.status, 403, path);
      }
    });
  });
}
