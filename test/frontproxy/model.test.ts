/**
 * The front-proxy model: sites and routes with the built-in router's precedence, where the gateway is,
 * identity header names, which credentials stay at the gateway, the revocation bound and warnings.
 */
import t from 'tap';
import { configSchema, type ConfigInput } from '../../src/config/schema/index.js';
import { DEFAULT_ASSERTION_HEADER, frontProxyModel, PORTAL_CSRF_COOKIE, prefixCovers, regexEscape, underscoreVariants } from '../../src/frontproxy/model.js';
import { LOGIN_CSRF_COOKIE } from '../../src/portal/csrf.js';
import { UpstreamRouter } from '../../src/proxy/router.js';

const SECRET = 'front-proxy-model-secret-0123456789abcdef';

function config(input: Partial<ConfigInput> = {}) {
  return configSchema.parse({ session: { store: 'memory', secret: SECRET }, server: { trusted_proxies: ['127.0.0.1/32'] }, ...input });
}

const UPSTREAMS = [
  { name: 'vms', url: 'http://10.0.0.5:8081', match: { hosts: ['vms.example.com'] } },
  { name: 'vms-api', url: 'http://10.0.0.6:8081', match: { hosts: ['vms.example.com'], path_prefix: '/api' } },
  { name: 'wild', url: 'http://10.0.0.7:8081', match: { hosts: ['*.example.com'], path_prefix: '/w' } },
  { name: 'deep', url: 'http://10.0.0.8:8081', match: { hosts: ['*.a.example.com'] } },
  { name: 'any', url: 'http://10.0.0.9:8081' },
  { name: 'any-reports', url: 'http://10.0.0.10:8081', match: { path_prefix: '/reports' } },
  { name: 'portal-clash', url: 'http://10.0.0.11:8081', match: { path_prefix: '/_gateway/x' } },
];

void t.test('sites and routes follow the built-in router: host bucket first, then the longest prefix', (t) => {
  const c = config({ upstreams: UPSTREAMS });
  const m = frontProxyModel(c);
  const router = new UpstreamRouter(c.upstreams);
  t.teardown(() => router.close());
  const site = (host: string) => m.sites.find((s) => s.names.some((n) => n === host || (n.startsWith('*.') && host.endsWith(n.slice(1))))) ?? m.sites.find((s) => s.names.length === 0)!;
  // What nginx or Caddy would pick: the longest route prefix of the host's site that covers the path.
  const front = (host: string, path: string) => site(host).routes.find((u) => prefixCovers(u.pathPrefix, path))?.name;
  const cases: Array<[string, string]> = [
    ['vms.example.com', '/'],
    ['vms.example.com', '/api/x'],
    ['vms.example.com', '/reports/1'],
    ['vms.example.com', '/w/1'],
    ['cam.example.com', '/w/1'],
    ['cam.example.com', '/reports/1'],
    ['cam.example.com', '/other'],
    ['x.a.example.com', '/w/1'],
    ['x.a.example.com', '/reports'],
    ['elsewhere.test', '/reports/2'],
    ['elsewhere.test', '/'],
  ];
  for (const [host, path] of cases) t.equal(front(host, path), router.route(host, path)?.name, `${host}${path}`);
  t.same(site('vms.example.com').names, ['vms.example.com']);
  t.same(site('vms.example.com').shadowed.map((s) => s.upstream).sort(), ['any', 'any-reports', 'portal-clash', 'wild'].sort(), 'the exact host bucket covers everything');
  t.same(site('x.a.example.com').names, ['*.a.example.com']);
  t.same(m.sites.at(-1)!.names, [], 'the default site comes last');
  t.same(m.sites.at(-1)!.routes.map((u) => u.name), ['any-reports', 'any']);
  t.match(m.warnings, [/upstream 'portal-clash' is never reached/]);
  t.end();
});

void t.test('hosts with identical routes share a site; bad host names are refused', (t) => {
  const m = frontProxyModel(config({ upstreams: [{ name: 'a', url: 'http://10.0.0.5:8081', match: { hosts: ['a.example.com', 'B.example.com:8443'] } }] }));
  t.same(m.sites[0]!.names, ['a.example.com', 'b.example.com']);
  t.throws(() => frontProxyModel(config({ upstreams: [{ name: 'a', url: 'http://10.0.0.5:8081', match: { hosts: ['a.example.com; evil'] } }] })), /not a host name/);
  t.end();
});

void t.test('the gateway address: from server.listen, or --gateway', (t) => {
  t.equal(frontProxyModel(config()).gatewayUrl.origin, 'http://127.0.0.1:8080');
  t.equal(frontProxyModel(config({ server: { listen: '[::]:9000', trusted_proxies: ['::1/128'] } })).gatewayUrl.origin, 'http://[::1]:9000');
  t.equal(frontProxyModel(config({ server: { listen: '10.1.2.3:8443', tls: { cert_file: 'c', key_file: 'k' } } })).gatewayUrl.origin, 'https://10.1.2.3:8443');
  const m = frontProxyModel(config(), { gateway: 'http://portcullis:8080' });
  t.equal(m.gatewayUrl.host, 'portcullis:8080');
  t.equal(m.gatewayLoopback, false);
  t.throws(() => frontProxyModel(config(), { gateway: 'ftp://x' }), /http\(s\) URL/);
  t.throws(() => frontProxyModel(config(), { gateway: 'http://x:1/path' }), /origin/);
  t.end();
});

void t.test('identity headers: the configured names; the assertion header is always cleared, copied only when configured', (t) => {
  const plain = frontProxyModel(config());
  t.same(plain.identity, [
    { header: 'Remote-User', copied: true },
    { header: 'Remote-Groups', copied: true },
    { header: 'Remote-Email', copied: true },
    { header: 'Remote-Name', copied: true },
    { header: 'Remote-Auth-Method', copied: true },
    { header: DEFAULT_ASSERTION_HEADER, copied: false },
  ]);
  const custom = frontProxyModel(config({ identity: { headers: { user: 'X-User', method: 'X-Auth-Via' }, jwt_assertion: { header: 'X-Jwt', private_key_file: '/k.pem' } } }));
  t.equal(custom.userHeader, 'X-User');
  t.equal(custom.methodHeader, 'X-Auth-Via');
  t.same(custom.identity.at(-1), { header: 'X-Jwt', copied: true });
  t.end();
});

void t.test('credentials: which API-key headers and Authorization values stay at the gateway', (t) => {
  const key = (c: string) => c.repeat(64);
  const m = frontProxyModel(
    config({
      api_clients: [
        { name: 'only-dropped', api_key: { header: 'X-Key-A', sha256: key('a') } },
        { name: 'keeps', api_key: { header: 'X-Key-B', sha256: key('b') }, keep_credential: true },
        { name: 'mixed-keep', api_key: { header: 'X-Key-C', sha256: key('c') }, keep_credential: true },
        { name: 'mixed-drop', api_key: { header: 'x-key-c', sha256: key('d') } },
        { name: 'jwt-keeps', bearer_jwt: { secret: 'j'.repeat(40) }, keep_credential: true },
        { name: 'legacy', basic: { users: ['svc-export', 'svc-2'] } },
      ],
    }),
  );
  t.same(m.apiKeyHeaders, [
    { header: 'X-Key-A', strip: 'always' },
    { header: 'X-Key-B', strip: 'never' },
    { header: 'X-Key-C', strip: { clients: ['mixed-drop'] } },
  ]);
  t.same(m.authorizationStrip, { bearerJwt: false, basicUsers: ['svc-export', 'svc-2'] });
  t.same(m.gatewayCookies, ['portcullis_session', 'portcullis_device', 'portcullis_csrf']);
  t.end();
});

void t.test('the revocation bound: session.cache_ttl + the cache validity + 1 s of nginx rounding', (t) => {
  t.equal(frontProxyModel(config()).revocationBoundSeconds, 3);
  t.equal(frontProxyModel(config(), { authCacheSeconds: 5 }).revocationBoundSeconds, 7);
  t.equal(frontProxyModel(config(), { authCacheSeconds: 0 }).revocationBoundSeconds, 1, 'no cache: the gateway\'s own cache_ttl');
  t.equal(frontProxyModel(config({ session: { store: 'memory', secret: SECRET, cache_ttl: '2s' } })).revocationBoundSeconds, 4);
  t.end();
});

void t.test('warnings: no trusted proxies, no upstreams', (t) => {
  const m = frontProxyModel(configSchema.parse({ session: { store: 'memory', secret: SECRET } }));
  t.match(m.warnings, [/server\.trusted_proxies is empty/, /no upstreams are configured/]);
  t.end();
});

void t.test('helpers: `_` spellings, regex escaping, prefix cover, the CSRF cookie name', (t) => {
  t.same(underscoreVariants('Remote-User'), ['Remote-User', 'Remote_User']);
  t.same(underscoreVariants('A-B-C'), ['A-B-C', 'A_B-C', 'A-B_C', 'A_B_C']);
  t.same(underscoreVariants('X'), ['X']);
  t.equal(regexEscape('/a.b(c)'), '/a\\.b\\(c\\)');
  t.ok(prefixCovers('', '/x'));
  t.ok(prefixCovers('/api', '/api/v2'));
  t.notOk(prefixCovers('/api', '/apix'));
  t.equal(PORTAL_CSRF_COOKIE, LOGIN_CSRF_COOKIE, 'the portal\'s pre-session cookie is one of the gateway cookies');
  t.end();
});
