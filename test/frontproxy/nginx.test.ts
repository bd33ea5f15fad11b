/**
 * `nginxConfig`: Debian's nginx accepts (`nginx -t`) what it generates for small and large configs,
 * and the text carries the parts that matter: the cache key and its bound, identity copies, hygiene.
 * The nginx runs are skipped only when /usr/sbin/nginx is missing.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema, type ConfigInput } from '../../src/config/schema/index.js';
import { nginxConfig, type NginxOptions } from '../../src/frontproxy/nginx.js';
import { NGINX, nginxTest } from '../fixtures/frontproxy.js';

const SECRET = 'front-proxy-nginx-secret-0123456789abcdef';
const HAS_NGINX = existsSync(NGINX);

function config(input: Partial<ConfigInput> = {}) {
  return configSchema.parse({ session: { store: 'memory', secret: SECRET }, server: { trusted_proxies: ['127.0.0.1/32'] }, upstreams: [{ name: 'app', url: 'http://127.0.0.1:8081' }], ...input });
}

/** Everything at once: hosts, wildcards, https upstream with a base path, strip_prefix, every API client kind, custom names. */
const LARGE: Partial<ConfigInput> = {
  server: { listen: '127.0.0.1:8080', trusted_proxies: ['127.0.0.1/32'], portal_prefix: '/auth/portal' },
  session: { store: 'memory', secret: SECRET, cookie: { name: 'sid.v2', device_name: 'dev-id' }, cache_ttl: '2s' },
  identity: { headers: { user: 'X-User', groups: 'X-Groups' }, jwt_assertion: { header: 'X-Assert', private_key_file: '/etc/portcullis/assert.pem' } },
  upstreams: [
    { name: 'vms', url: 'http://127.0.0.1:8081', match: { hosts: ['vms.example.com', 'cams.example.com'] } },
    { name: 'api', url: 'https://localhost:8443/base/v1', match: { hosts: ['vms.example.com'], path_prefix: '/api' }, strip_prefix: true, websocket: false, timeouts: { connect: '2s', response_headers: '30s', idle: '5m' } },
    { name: 'wild', url: 'http://127.0.0.1:8083', match: { hosts: ['*.example.com'], path_prefix: '/w' }, preserve_host: true },
    { name: 'default', url: 'http://[::1]:8084' },
  ],
  api_clients: [
    { name: 'nvr-sync', api_key: { sha256: 'a'.repeat(64) } },
    { name: 'keeper', api_key: { header: 'X-Other-Key', sha256: 'b'.repeat(64) }, keep_credential: true },
    { name: 'mixed', api_key: { header: 'X-Other-Key', sha256: 'c'.repeat(64) } },
    { name: 'mobile', bearer_jwt: { secret: 'd'.repeat(40) } },
    { name: 'legacy', basic: { users: ['svc-export', 'o"brien'] } },
  ],
};

async function accepted(t: Test, c: ReturnType<typeof config>, o: NginxOptions = {}): Promise<void> {
  const r = await nginxTest((dir) => nginxConfig(c, { listen: '127.0.0.1:18080', cacheDir: join(dir, 'authcache'), ...o }).text);
  t.ok(r.ok, r.output);
}

void t.test('nginx -t accepts the generated config', HAS_NGINX ? {} : { skip: `${NGINX} is not installed` }, async (t) => {
  await t.test('the check itself fails on a broken config', async (t) => {
    const r = await nginxTest(() => 'server { listen 127.0.0.1:18080; location / { proxy_pass http://nowhere_upstream_x; } }\nunknown_directive on;');
    t.notOk(r.ok);
    t.match(r.output, /unknown directive/);
  });
  await t.test('one upstream', (t) => accepted(t, config()));
  await t.test('hosts, wildcards, https, strip_prefix, base path, every API client kind, custom names', (t) => accepted(t, config(LARGE)));
  await t.test('no cache (--auth-cache 0)', (t) => accepted(t, config(LARGE), { authCacheSeconds: 0 }));
  await t.test('no upstreams: the portal only', (t) => accepted(t, configSchema.parse({ session: { store: 'memory', secret: SECRET }, server: { trusted_proxies: ['127.0.0.1/32'] } })));
  await t.test('an https gateway elsewhere (verified) and TLS on the listener', async (t) => {
    const dir = t.testdir({});
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=vms.example.com', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    await accepted(t, config(LARGE), { gateway: 'https://localhost:9443', tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  });
});

void t.test('the forward-auth cache: keyed on every credential, bounded, stated', (t) => {
  const text = nginxConfig(config(LARGE)).text;
  t.match(text, 'proxy_cache_key "$http_cookie|$http_authorization|$http_x_api_key|$http_x_other_key|$remote_addr|$request_method|$http_host|$request_uri|$http_origin|$http_upgrade";', 'a cookie name nginx cannot name falls back to the whole Cookie header');
  t.match(text, 'proxy_cache_valid 200 1s;');
  t.match(text, 'within session.cache_ttl (2 s) + 1 s + 1 s\n# (nginx counts whole seconds) = 4 s at most.');
  t.match(nginxConfig(config()).text, 'proxy_cache_key "$cookie_portcullis_session|$http_authorization|$remote_addr|$request_method|$http_host|$request_uri|$http_origin|$http_upgrade";');
  // A hit reads the cache file through a kept descriptor, in the authz location only (not the app's files).
  const authz = [...text.matchAll(/location \^~ \/auth\/portal\/authz \{[^}]*\}/g)].map((m) => m[0]);
  t.ok(authz.length >= 1, 'an authz location per server block');
  for (const block of authz) t.match(block, /open_file_cache max=10000 inactive=10s;\s+open_file_cache_valid 1s;/, 'cache hits keep their file open');
  t.equal(text.split('open_file_cache max=').length - 1, authz.length, 'only in the authz locations');
  t.match(nginxConfig(config(LARGE), { authCacheSeconds: 5 }).text, 'open_file_cache max=10000 inactive=20s;', 'kept open longer than a longer validity');
  const off = nginxConfig(config(LARGE), { authCacheSeconds: 0 }).text;
  t.notMatch(off, /proxy_cache/);
  t.notMatch(off, /open_file_cache/, 'no cache, no kept descriptors');
  t.match(off, 'refused within session.cache_ttl (2 s)\n# = 2 s at most.');
  t.end();
});

void t.test('identity headers, cookies and credentials in the generated text', (t) => {
  const text = nginxConfig(config(LARGE)).text;
  t.match(text, 'auth_request /auth/portal/authz;');
  t.match(text, 'location ^~ /auth/portal/authz {');
  t.match(text, 'auth_request_set $portcullis_id_x_user $upstream_http_x_user;');
  t.match(text, 'proxy_set_header X-Assert $portcullis_id_x_assert;');
  t.match(text, 'proxy_set_header Remote-Email $portcullis_id_remote_email;');
  t.match(text, '(?:sid\\.v2|dev-id|portcullis_csrf)=');
  t.match(text, '"~^bearer_jwt:" "";');
  t.match(text, '"basic:o\\"brien" "";');
  t.match(text, 'proxy_set_header X-API-Key "";', 'no client keeps X-API-Key');
  t.match(text, '"api_key:mixed" "";');
  t.match(text, 'proxy_set_header X-Other-Key $portcullis_key_x_other_key;');
  t.match(text, 'proxy_pass https://portcullis_up_1_api$portcullis_uri_portcullis_up_1_api;');
  t.match(text, '"~^/api(?<portcullis_rest>/.*)$" "/base/v1$portcullis_rest";');
  t.match(text, 'proxy_read_timeout 300s;');
  t.match(text, 'proxy_read_timeout 7d;', 'idle 0: no read timeout to speak of');
  t.match(text, 'server_name vms.example.com;');
  t.match(text, 'server_name cams.example.com;');
  t.match(text, 'server_name *.example.com;');
  t.match(text, 'listen 80 default_server;');
  t.match(text, 'server [::1]:8084;');
  const plain = nginxConfig(config()).text;
  t.match(plain, 'proxy_set_header X-Portcullis-Assertion "";', 'client copies of the assertion header are cleared without assertions too');
  t.match(plain, 'proxy_set_header Authorization $portcullis_authorization;');
  t.match(plain, 'map $portcullis_authorization_0 $portcullis_authorization {\n    default $portcullis_authorization_0;');
  t.end();
});

void t.test('bad input is refused with a message, not written into the config', (t) => {
  t.throws(() => nginxConfig(config(), { tlsCert: '/c.pem' }), /--tls-cert and --tls-key go together/);
  t.throws(() => nginxConfig(config({ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1/x$y', match: { path_prefix: '/p' }, strip_prefix: true }] })), /cannot carry safely/);
  t.throws(() => nginxConfig(config({ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1', match: { path_prefix: '/p{x}' } }] })), /cannot carry safely/);
  t.throws(() => nginxConfig(config({ api_clients: [{ name: 'l', basic: { users: ['a\nb'] } }] })), /control character/);
  t.end();
});
