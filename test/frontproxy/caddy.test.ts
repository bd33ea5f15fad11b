/**
 * `caddyConfig`: Debian's caddy validates (`caddy validate`) what it generates for small and large
 * configs, and the text carries the order that matters (client identity copies dropped before the
 * check, the gateway's credentials after it). The caddy runs are skipped only when /usr/bin/caddy is missing.
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { configSchema, type ConfigInput } from '../../src/config/schema/index.js';
import { caddyConfig, type CaddyOptions } from '../../src/frontproxy/caddy.js';
import { CADDY, caddyValidate } from '../fixtures/frontproxy.js';

const SECRET = 'front-proxy-caddy-secret-0123456789abcdef';
const HAS_CADDY = existsSync(CADDY);

function config(input: Partial<ConfigInput> = {}) {
  return configSchema.parse({ session: { store: 'memory', secret: SECRET }, server: { trusted_proxies: ['127.0.0.1/32'] }, upstreams: [{ name: 'app', url: 'http://127.0.0.1:8081' }], ...input });
}

const LARGE: Partial<ConfigInput> = {
  server: { listen: '127.0.0.1:8080', trusted_proxies: ['127.0.0.1/32'], public_url: 'https://portal.example.com', portal_prefix: '/auth/portal' },
  session: { store: 'memory', secret: SECRET, cookie: { name: 'sid.v2', device_name: 'dev-id' } },
  identity: { headers: { user: 'X-User' }, jwt_assertion: { header: 'X-Assert', private_key_file: '/etc/portcullis/assert.pem' } },
  upstreams: [
    { name: 'vms', url: 'http://127.0.0.1:8081', match: { hosts: ['vms.example.com'] } },
    { name: 'api', url: 'https://localhost:8443/base/v1', match: { hosts: ['vms.example.com'], path_prefix: '/api' }, strip_prefix: true, websocket: false, timeouts: { connect: '2s', response_headers: 0 } },
    { name: 'wild', url: 'http://127.0.0.1:8083', match: { hosts: ['*.example.com'], path_prefix: '/w' }, preserve_host: true },
    { name: 'default', url: 'http://[::1]:8084' },
  ],
  api_clients: [
    { name: 'nvr-sync', api_key: { sha256: 'a'.repeat(64) } },
    { name: 'keeper', api_key: { header: 'X-Other-Key', sha256: 'b'.repeat(64) }, keep_credential: true },
    { name: 'mixed', api_key: { header: 'X-Other-Key', sha256: 'c'.repeat(64) } },
    { name: 'mobile', bearer_jwt: { secret: 'd'.repeat(40) } },
    { name: 'legacy', basic: { users: ['svc-export', 'o brien'] } },
  ],
};

async function valid(t: Test, c: ReturnType<typeof config>, o: CaddyOptions = {}): Promise<void> {
  const r = await caddyValidate(caddyConfig(c, o).text);
  t.ok(r.ok, r.output);
}

void t.test('caddy validate accepts the generated Caddyfile', HAS_CADDY ? {} : { skip: `${CADDY} is not installed` }, async (t) => {
  await t.test('the check itself fails on a broken Caddyfile', async (t) => {
    const r = await caddyValidate(':8080 {\n\tno_such_directive\n}\n');
    t.notOk(r.ok);
  });
  await t.test('one upstream, plain HTTP on a port', (t) => valid(t, config(), { listen: 'http://:18081', bind: '127.0.0.1' }));
  await t.test('hosts, wildcards, https, strip_prefix, base path, every API client kind, custom names', (t) => valid(t, config(LARGE)));
  await t.test('no upstreams: the portal only', (t) => valid(t, configSchema.parse({ session: { store: 'memory', secret: SECRET }, server: { trusted_proxies: ['127.0.0.1/32'] } })));
});

void t.test('site addresses: host names (automatic HTTPS), the public URL for the default site, or --listen', (t) => {
  const text = caddyConfig(config(LARGE)).text;
  t.match(text, '\nvms.example.com {');
  t.match(text, '\n*.example.com {');
  t.match(text, '\nhttps://portal.example.com {', 'the default site answers for the public URL');
  t.match(caddyConfig(config()).text, '\n:80 {');
  const listen = caddyConfig(config(LARGE), { listen: 'http://:8080', bind: '127.0.0.1' }).text;
  t.match(listen, '\nhttp://vms.example.com:8080 {\n\tbind 127.0.0.1');
  t.match(listen, '\nhttp://:8080 {');
  t.throws(() => caddyConfig(config(), { listen: 'vms.example.com:80' }), /--listen must be/);
  t.end();
});

void t.test('order in a route: drop client copies, check, drop the gateway\'s credentials, rewrite, proxy', (t) => {
  const text = caddyConfig(config(LARGE)).text;
  const start = text.indexOf('# upstream api\n');
  const route = text.slice(start, text.indexOf('\n\thandle', start));
  const at = (s: string) => {
    const i = route.indexOf(s);
    t.not(i, -1, s);
    return i;
  };
  const order = [
    'request_header -X-User',
    'request_header -X_User',
    'request_header -Remote_Auth_Method',
    'request_header -X-Assert',
    'request_header -X-Original-URL',
    'forward_auth 127.0.0.1:8080 {',
    'uri /auth/portal/authz/forward-auth',
    'copy_headers X-User Remote-Groups Remote-Email Remote-Name Remote-Auth-Method X-Assert',
    'request_header @portcullis_unset_0 -X-User',
    'request_header @portcullis_gateway_token -Authorization',
    'request_header @portcullis_jwt_client -Authorization',
    'request_header @portcullis_basic_client -Authorization',
    'request_header -X-API-Key',
    'request_header @portcullis_key_1 -X-Other-Key',
    'request_header -Upgrade',
    'rewrite @portcullis_up_1_api_bare `{path}/?{query}`',
    'uri strip_prefix /api',
    'rewrite * `/base/v1{uri}`',
    'reverse_proxy https://localhost:8443 {',
  ];
  const positions = order.map(at);
  t.same([...positions].sort((a, b) => a - b), positions, 'in this order');
  t.match(route, 'header_up Cookie `(^|;\\s*)(?:__Host-sid\\.v2|dev-id|portcullis_csrf)=[^;]*()` $2');
  t.notMatch(route, 'response_header_timeout', 'response_headers: 0 is no limit');
  t.match(text, '@portcullis_basic_client {\n\t\theader Remote-Auth-Method basic\n\t\theader X-User svc-export\n\t\theader X-User `o brien`\n\t}');
  const wildStart = text.indexOf('# upstream wild\n');
  const wild = text.slice(wildStart, text.indexOf('\n\thandle', wildStart));
  t.match(wild, 'reverse_proxy 127.0.0.1:8083 {');
  t.notMatch(wild, 'header_up Host', 'preserve_host keeps the client\'s Host');
  t.end();
});

void t.test('bad input is refused, not written into the Caddyfile', (t) => {
  t.throws(() => caddyConfig(config({ api_clients: [{ name: 'l', basic: { users: ['a`b'] } }] })), /cannot put/);
  t.end();
});
