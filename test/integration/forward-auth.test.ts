/**
 * Forward-auth mode with a real nginx (`auth_request`) in front, configured with the documented
 * deploy/nginx-forward-auth.conf (addresses and paths substituted): browsers without a session get a
 * 302 to the portal through `error_page 401`, a signed-in cookie and an API key reach the app behind
 * nginx with Remote-User set by the gateway's answer, the Traefik-style endpoint answers 302 to
 * browsers, and forward-auth requests from an address outside server.trusted_proxies get 403.
 * Skipped only when /usr/sbin/nginx is missing.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { freePort } from '../fixtures/redis.js';
import { startStack } from '../fixtures/gateway.js';

const NGINX = '/usr/sbin/nginx';
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

/** The documented server block, pointed at this test's gateway, app and temp dir; every substitution must apply. */
function documentedConfig(dir: string, port: number, gateway: string, app: string): string {
  let conf = readFileSync(join(process.cwd(), 'deploy/nginx-forward-auth.conf'), 'utf8');
  const swaps: Array<[string, string]> = [
    ['listen 443 ssl;', `listen 127.0.0.1:${port};`],
    ['/var/cache/nginx/portcullis', join(dir, 'authcache')],
    ['127.0.0.1:8080', gateway],
    ['10.0.0.5:8081', app],
  ];
  for (const [from, to] of swaps) {
    if (!conf.includes(from)) throw new Error(`deploy/nginx-forward-auth.conf no longer contains '${from}'`);
    conf = conf.split(from).join(to);
  }
  // As root, nginx workers would switch to `nobody` and could not use this test's private temp dir.
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${conf}
}
`;
}

if (!existsSync(NGINX)) {
  void t.test('nginx auth_request in front of the gateway', { skip: `${NGINX} is not installed` }, async () => {});
} else {
  void t.test('nginx auth_request in front of the gateway (deploy/nginx-forward-auth.conf)', async (t) => {
    const stack = await startStack({
      config: {
        server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
        access: { default_policy: 'one_factor' },
        api_clients: [{ name: 'nvr-sync', api_key: { sha256: createHash('sha256').update(API_KEY).digest('hex') } }],
      },
    });
    t.teardown(() => stack.close());
    const gateway = new URL(stack.url).host;
    const app = new URL(stack.upstream.url).host;
    const dir = join(stack.dir, 'nginx');
    await mkdir(join(dir, 'authcache'), { recursive: true });
    const port = await freePort();
    await writeFile(join(dir, 'nginx.conf'), documentedConfig(dir, port, gateway, app));
    const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let nginxErr = '';
    nginx.stderr!.on('data', (d: Buffer) => (nginxErr += d.toString()));
    const nginxExit = new Promise<void>((r) => nginx.once('exit', () => r()));
    t.teardown(async () => {
      if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGTERM');
      await nginxExit;
    });
    const front = `http://127.0.0.1:${port}`;
    const nginxLog = (): string => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) : '');
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await call(`${front}/_gateway/login`).then(
        () => true,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(up, `nginx answers ${nginxErr}`);

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
      // Cached positive answer (proxy_cache_valid 200 2s): a second request is let through too.
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
