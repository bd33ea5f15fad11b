import t from 'tap';
import { accessSchema } from '../../src/config/schema/access.js';
import { normalizeForRules, plausibleReadings, readingsDisagree } from '../../src/policy/readings.js';
import { compileAccess } from '../../src/policy/rules.js';

function policy(rules: unknown[], caseInsensitive = false, default_policy = 'two_factor') {
  return compileAccess(accessSchema.parse({ default_policy, case_insensitive_paths: caseInsensitive, rules }), { portalPrefix: '/_gateway' });
}

const publicBypass = policy([{ paths: ['/public'], policy: 'bypass' }]);

void t.test('plausible readings of the issue paths', (t) => {
  t.same(plausibleReadings('/public//../admin').sort(), ['/admin', '/public/admin'], 'merge slashes first vs RFC 3986');
  t.same(plausibleReadings('/public/;/../admin').sort(), ['/admin', '/public/admin'], '; cut vs kept');
  t.same(plausibleReadings('/public/..;/admin').sort(), ['/admin', '/public/..;/admin'], 'Tomcat vs a literal name');
  t.same(plausibleReadings('/public/%2e%2e/admin').sort(), ['/admin', '/public/../admin'], 'decoded before vs after the dot segments');
  t.same(plausibleReadings('/%2561dmin').sort(), ['/%61dmin', '/admin'], 'decoded once vs twice');
  t.same(plausibleReadings('/admin.').sort(), ['/admin', '/admin.'], 'Windows strips a trailing dot');
  t.same(plausibleReadings('/admin::$DATA').sort(), ['/admin', '/admin::$DATA'], 'and an NTFS data stream suffix');
  t.same(plausibleReadings('/%ef%bd%81dmin').sort(), ['/admin', '/ａdmin'], 'NFKC reads fullwidth letters as ASCII');
  t.same(plausibleReadings('/public/.../admin').sort(), ['/admin', '/public/.../admin'], 'Windows reads ... as ..');
  t.same(plausibleReadings('/a/b/../c/'), ['/a/c/'], 'an unambiguous path has one reading');
  t.same(plausibleReadings('/A/B', true), ['/a/b'], 'case-insensitive readings are lower-cased');
  t.same(plausibleReadings('/x/../..'), ['/'], 'readings clamp at the root');
  t.same(plausibleReadings('/a%zz'), [], 'a reading that cannot decode the path is left out');
  t.end();
});

void t.test('readingsDisagree compares the rules each reading falls under', (t) => {
  t.equal(readingsDisagree(publicBypass, '/public//../admin', '/admin'), true);
  t.equal(readingsDisagree(publicBypass, '/public//x', '/public/x'), false, 'both readings are under /public');
  t.equal(readingsDisagree(publicBypass, '/public/x.', '/public/x.'), false, 'a trailing dot inside one rule is harmless');
  t.equal(readingsDisagree(publicBypass, '/a//../b', '/b'), false, '/a/b and /b both fall to the default policy');
  const admin = policy([{ paths: ['/admin'], policy: 'two_factor' }], false, 'bypass');
  t.equal(readingsDisagree(admin, '/admin.', '/admin.'), true, 'Windows reads /admin. as /admin');
  t.equal(readingsDisagree(admin, '/%2561dmin', '/%61dmin'), true, 'a double-decoding upstream reads /admin');
  const hosts = policy([{ hosts: ['a.example'], paths: ['/admin'], policy: 'deny' }]);
  t.equal(readingsDisagree(hosts, '/admin.', '/admin.', 'b.example'), false, 'rules of other hosts are left out');
  t.equal(readingsDisagree(hosts, '/admin.', '/admin.', 'a.example'), true);
  t.equal(readingsDisagree(hosts, '/admin.', '/admin.'), true, 'without a host every rule counts');
  t.end();
});

void t.test('normalizeForRules: as sent (forward-auth) and as forwarded (the built-in proxy)', (t) => {
  for (const raw of ['/public//../admin', '/public/x//../../admin', '/public/;/../admin', '/public/%2e%2e/admin', '/public/..;/admin', 'http://h/public//../admin']) {
    const r = normalizeForRules(raw, publicBypass, 'as-sent');
    t.equal(r.ok, false, `${raw} refused as sent`);
  }
  for (const raw of ['/public//../admin', '/public/%2e%2e/admin', '/public/..;/admin']) {
    const r = normalizeForRules(raw, publicBypass, 'as-forwarded');
    t.ok(r.ok && r.path === '/admin' && r.forward === '/admin', `${raw}: the proxy forwards what it judged, /admin`);
  }
  const admin = policy([{ paths: ['/admin'], policy: 'two_factor' }], false, 'bypass');
  t.equal(normalizeForRules('/admin.', admin, 'as-forwarded').ok, false, 'the forwarded /admin. reads as /admin on Windows');
  t.equal(normalizeForRules('/admin%20', admin, 'as-forwarded').ok, false, 'so does /admin%20');
  t.equal(normalizeForRules('/public/caf%C3%A9?x=/../admin', publicBypass, 'as-sent').ok, true, 'the query is not read');
  t.equal(normalizeForRules('/public/%00', publicBypass, 'as-sent').ok, false, 'normalizePath refusals stay');
  const ci = policy([{ paths: ['/public'], policy: 'bypass' }], true);
  const r = normalizeForRules('/PUBLIC/X', ci, 'as-sent');
  t.ok(r.ok && r.path === '/public/x', 'case-insensitive rules');
  t.end();
});

void t.test('pathClass: same key when every rule decides alike', (t) => {
  const p = policy([{ paths: ['/public'], policy: 'bypass' }, { paths: ['/api/*'], methods: ['POST'], policy: 'deny' }, { networks: ['10.0.0.0/8'], policy: 'one_factor' }]);
  t.equal(p.pathClass('/public/x'), p.pathClass('/public'));
  t.not(p.pathClass('/public/x'), p.pathClass('/publicity'));
  t.not(p.pathClass('/api/x'), p.pathClass('/api/x/y'));
  t.not(p.pathClass('/_gateway/login'), p.pathClass('/other'), 'portal paths are their own class');
  t.end();
});
