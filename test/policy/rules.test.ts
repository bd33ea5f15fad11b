import t from 'tap';
import { accessSchema } from '../../src/config/schema/access.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { compileAccess, type AccessRequest } from '../../src/policy/rules.js';

function compile(input: unknown) {
  return compileAccess(accessSchema.parse(input), { portalPrefix: '/_gateway' });
}

function req(over: Partial<AccessRequest> = {}): AccessRequest {
  return { host: 'app.example.com', path: '/', method: 'GET', clientIp: '203.0.113.9', ...over };
}

void t.test('default policy when nothing matches', (t) => {
  t.same(compile({}).decide(req()), { policy: 'two_factor', rule: -1 });
  t.same(compile({ default_policy: 'deny' }).decide(req()), { policy: 'deny', rule: -1 });
  t.end();
});

void t.test('plain paths are prefixes on a segment boundary', (t) => {
  const p = compile({ rules: [{ paths: ['/public'], policy: 'bypass' }, { paths: ['/dir/'], policy: 'one_factor' }] });
  for (const path of ['/public', '/public/', '/public/x', '/public/x/y']) t.equal(p.decide(req({ path })).policy, 'bypass', path);
  for (const path of ['/publicity', '/public-x', '/', '/x/public']) t.equal(p.decide(req({ path })).policy, 'two_factor', path);
  t.equal(p.decide(req({ path: '/dir/' })).policy, 'one_factor');
  t.equal(p.decide(req({ path: '/dir/a' })).policy, 'one_factor');
  t.equal(p.decide(req({ path: '/dir' })).policy, 'two_factor');
  t.equal(compile({ rules: [{ paths: ['/'], policy: 'bypass' }] }).decide(req({ path: '/anything/at/all' })).policy, 'bypass');
  t.end();
});

void t.test('* globs within a segment, ** across segments', (t) => {
  const p = compile({
    rules: [
      { paths: ['/admin/*'], policy: 'deny' },
      { paths: ['/static/*.css'], policy: 'bypass' },
      { paths: ['/api/**'], policy: 'one_factor' },
      { paths: ['/v/**/export'], policy: 'deny' },
      { paths: ['/files/**.pdf'], policy: 'bypass' },
    ],
  });
  t.equal(p.decide(req({ path: '/admin/users' })).policy, 'deny');
  t.equal(p.decide(req({ path: '/admin/users/' })).policy, 'deny', 'one trailing slash allowed');
  t.equal(p.decide(req({ path: '/admin/' })).policy, 'deny', '* matches an empty segment');
  t.equal(p.decide(req({ path: '/admin/users/5' })).policy, 'two_factor', '* does not cross a slash');
  t.equal(p.decide(req({ path: '/admin' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/static/site.css' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/static/sub/site.css' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/static/site.css.map' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/static/site.css/../x' })).policy, 'two_factor', 'glob anchored to the whole path');
  t.equal(p.decide(req({ path: '/api' })).policy, 'one_factor', '/x/** matches /x');
  t.equal(p.decide(req({ path: '/api/a/b/c' })).policy, 'one_factor');
  t.equal(p.decide(req({ path: '/apix' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/v/export' })).policy, 'deny', '/**/ matches no segment');
  t.equal(p.decide(req({ path: '/v/a/b/export' })).policy, 'deny');
  t.equal(p.decide(req({ path: '/v/a/b/exports' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/files/a/b/c.pdf' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/files/a/b/c.pdfx' })).policy, 'two_factor');
  t.end();
});

void t.test('regex metacharacters in paths are literal', (t) => {
  const p = compile({ rules: [{ paths: ['/a.b', '/c+(d)', '/e$[f]'], policy: 'bypass' }] });
  t.equal(p.decide(req({ path: '/a.b' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/axb' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/c+(d)/x' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/ccd' })).policy, 'two_factor');
  t.equal(p.decide(req({ path: '/e$[f]' })).policy, 'bypass');
  t.end();
});

void t.test('case-insensitive paths', (t) => {
  const p = compile({ case_insensitive_paths: true, rules: [{ paths: ['/Public', '/ADMIN/*'], policy: 'bypass' }] });
  t.equal(p.caseInsensitivePaths, true);
  t.equal(p.decide(req({ path: '/public/x' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/PUBLIC' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/admin/x' })).policy, 'bypass');
  t.equal(compile({ rules: [{ paths: ['/Public'], policy: 'bypass' }] }).decide(req({ path: '/public' })).policy, 'two_factor', 'case-sensitive by default');
  t.end();
});

void t.test('hosts: exact, case-insensitive, port ignored, wildcard', (t) => {
  const p = compile({ rules: [{ hosts: ['App.Example.com'], policy: 'bypass' }, { hosts: ['*.internal.example'], policy: 'one_factor' }] });
  t.equal(p.decide(req({ host: 'app.example.com' })).policy, 'bypass');
  t.equal(p.decide(req({ host: 'APP.EXAMPLE.COM:8443' })).policy, 'bypass');
  t.equal(p.decide(req({ host: 'app.example.com.' })).policy, 'bypass');
  t.equal(p.decide(req({ host: 'xapp.example.com' })).policy, 'two_factor');
  t.equal(p.decide(req({ host: 'app.example.com.evil' })).policy, 'two_factor');
  t.equal(p.decide(req({ host: 'a.internal.example' })).policy, 'one_factor');
  t.equal(p.decide(req({ host: 'a.b.internal.example:81' })).policy, 'one_factor');
  t.equal(p.decide(req({ host: 'internal.example' })).policy, 'two_factor', 'wildcard needs a sub-domain');
  t.equal(p.decide(req({ host: 'xinternal.example' })).policy, 'two_factor');
  const v6 = compile({ rules: [{ hosts: ['[::1]'], policy: 'bypass' }] });
  t.equal(v6.decide(req({ host: '[::1]:8080' })).policy, 'bypass');
  t.equal(compile({ rules: [{ hosts: ['2001:db8::1'], policy: 'bypass' }] }).decide(req({ host: '[2001:DB8::1]' })).policy, 'bypass', 'bare IPv6 in config');
  t.equal(v6.decide(req({ host: '[::2]' })).policy, 'two_factor');
  t.end();
});

void t.test('bad host and path patterns are config errors', (t) => {
  for (const rules of [[{ hosts: ['a.*.com'], policy: 'bypass' }], [{ hosts: ['*'], policy: 'bypass' }], [{ paths: ['/a/***'], policy: 'bypass' }]]) {
    let caught: unknown;
    try {
      compile({ rules });
    } catch (err) {
      caught = err;
    }
    t.ok(isPortcullisError(caught, 'PORTCULLIS_ERR_CONFIG'), JSON.stringify(rules));
    t.match((caught as Error).message, /access\.rules\[0\]/);
  }
  t.end();
});

void t.test('methods', (t) => {
  const p = compile({ rules: [{ methods: ['get', 'HEAD'], paths: ['/ro'], policy: 'bypass' }] });
  t.equal(p.decide(req({ path: '/ro', method: 'GET' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/ro', method: 'HEAD' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/ro', method: 'get' })).policy, 'bypass');
  t.equal(p.decide(req({ path: '/ro', method: 'POST' })).policy, 'two_factor');
  t.end();
});

void t.test('networks: IPv4, IPv6 and IPv4-mapped IPv6', (t) => {
  const p = compile({ rules: [{ networks: ['192.168.10.0/24', '2001:db8::/32'], policy: 'one_factor' }] });
  t.equal(p.decide(req({ clientIp: '192.168.10.77' })).policy, 'one_factor');
  t.equal(p.decide(req({ clientIp: '::ffff:192.168.10.77' })).policy, 'one_factor');
  t.equal(p.decide(req({ clientIp: '2001:db8:1::5' })).policy, 'one_factor');
  t.equal(p.decide(req({ clientIp: '192.168.11.1' })).policy, 'two_factor');
  t.equal(p.decide(req({ clientIp: '2001:db9::1' })).policy, 'two_factor');
  t.equal(p.decide(req({ clientIp: 'not-an-ip' })).policy, 'two_factor');
  t.equal(p.decide(req({ clientIp: '' })).policy, 'two_factor');
  t.end();
});

void t.test('all given criteria must match', (t) => {
  const p = compile({ rules: [{ hosts: ['app.example.com'], paths: ['/x'], methods: ['GET'], networks: ['10.0.0.0/8'], policy: 'bypass' }] });
  const good = req({ path: '/x', clientIp: '10.1.2.3' });
  t.equal(p.decide(good).policy, 'bypass');
  t.equal(p.decide({ ...good, host: 'other' }).policy, 'two_factor');
  t.equal(p.decide({ ...good, path: '/y' }).policy, 'two_factor');
  t.equal(p.decide({ ...good, method: 'POST' }).policy, 'two_factor');
  t.equal(p.decide({ ...good, clientIp: '11.0.0.1' }).policy, 'two_factor');
  t.end();
});

void t.test('users and groups', (t) => {
  const p = compile({
    rules: [
      { paths: ['/ops'], groups: ['operators', 'admins'], policy: 'one_factor' },
      { paths: ['/me'], users: ['alice'], policy: 'bypass' },
      { paths: ['/both'], users: ['alice'], groups: ['admins'], policy: 'one_factor' },
      { paths: ['/ops', '/me', '/both'], policy: 'deny' },
    ],
  });
  t.same(p.decide(req({ path: '/ops', subject: { user: 'bob', groups: ['admins'] } })), { policy: 'one_factor', rule: 0 });
  t.same(p.decide(req({ path: '/ops', subject: { user: 'bob', groups: ['users'] } })), { policy: 'deny', rule: 3 });
  t.same(p.decide(req({ path: '/me', subject: { user: 'alice', groups: [] } })), { policy: 'bypass', rule: 1 });
  t.same(p.decide(req({ path: '/me', subject: { user: 'Alice', groups: [] } })), { policy: 'deny', rule: 3 }, 'user names are exact');
  t.same(p.decide(req({ path: '/both', subject: { user: 'alice', groups: ['users'] } })), { policy: 'deny', rule: 3 }, 'users AND groups');
  t.same(p.decide(req({ path: '/both', subject: { user: 'alice', groups: ['admins'] } })), { policy: 'one_factor', rule: 2 });
  t.end();
});

void t.test('anonymous requests on subject rules must sign in first, never fall through', (t) => {
  const p = compile({
    rules: [
      { paths: ['/me'], users: ['alice'], policy: 'bypass' },
      { paths: ['/ops'], groups: ['ops'], policy: 'two_factor', max_auth_age: '15m' },
      { paths: ['/no'], users: ['mallory'], policy: 'deny' },
      { paths: ['/'], policy: 'bypass' },
    ],
  });
  t.same(p.decide(req({ path: '/me' })), { policy: 'one_factor', rule: 0, needsSubject: true }, 'bypass raised to one_factor');
  t.same(p.decide(req({ path: '/ops' })), { policy: 'two_factor', rule: 1, maxAuthAge: 900_000, needsSubject: true });
  t.same(p.decide(req({ path: '/no' })), { policy: 'deny', rule: 2, needsSubject: true });
  t.same(p.decide(req({ path: '/other' })), { policy: 'bypass', rule: 3 });
  t.same(p.decide(req({ path: '/me', subject: { user: 'bob', groups: [] } })), { policy: 'bypass', rule: 3 }, 'a known subject that does not match falls through');
  t.end();
});

void t.test('first match wins and max_auth_age is carried', (t) => {
  const p = compile({
    rules: [
      { paths: ['/admin'], methods: ['GET'], policy: 'one_factor' },
      { paths: ['/admin'], policy: 'two_factor', max_auth_age: '15m' },
      { paths: ['/admin'], policy: 'deny' },
    ],
  });
  t.same(p.decide(req({ path: '/admin' })), { policy: 'one_factor', rule: 0 });
  t.same(p.decide(req({ path: '/admin', method: 'POST' })), { policy: 'two_factor', rule: 1, maxAuthAge: 900_000 });
  t.ok(Object.isFrozen(p.decide(req({ path: '/admin' }))), 'decisions are precompiled and frozen');
  t.end();
});

void t.test('empty criteria lists are treated as not given', (t) => {
  t.equal(compile({ rules: [{ paths: [], methods: [], policy: 'bypass' }] }).decide(req({ path: '/x' })).policy, 'bypass');
  t.end();
});

void t.test('portal paths are recognised and rules under the prefix are warned about', (t) => {
  const p = compile({ rules: [{ paths: ['/_gateway/login'], policy: 'deny' }, { paths: ['/x'], policy: 'deny' }] });
  t.ok(p.isPortalPath('/_gateway'));
  t.ok(p.isPortalPath('/_gateway/login'));
  t.notOk(p.isPortalPath('/_gatewayx'));
  t.equal(p.warnings.length, 1);
  t.match(p.warnings[0], /access\.rules\[0\]\.paths/);
  t.end();
});

void t.test('explain says why each rule did or did not match', (t) => {
  const p = compile({
    rules: [
      { hosts: ['other.example'], policy: 'bypass' },
      { paths: ['/public'], policy: 'bypass' },
      { paths: ['/admin'], methods: ['POST'], policy: 'deny' },
      { paths: ['/admin'], groups: ['admins'], policy: 'two_factor', max_auth_age: '5m' },
      { paths: ['/admin'], policy: 'one_factor' },
    ],
  });
  const lines = p.explain(req({ path: '/admin' }));
  t.match(lines[0], /anonymous/);
  t.match(lines[1], /rule 0 .*no match — host 'app\.example\.com' not in hosts/);
  t.match(lines[2], /rule 1 .*no match — path '\/admin' not in paths/);
  t.match(lines[3], /rule 2 .*no match — method 'GET' not in methods/);
  t.match(lines[4], /rule 3 .*MATCH pending sign-in/);
  t.match(lines[5], /rule 4 .*not evaluated/);
  t.match(lines[6], /decision: two_factor \(rule 3; max_auth_age=300000ms, needs sign-in/);
  const signedIn = p.explain(req({ path: '/admin', subject: { user: 'bob', groups: ['users'] } }));
  t.match(signedIn[4], /rule 3 .*no match — groups \[users\] not in groups/);
  t.match(signedIn[5], /rule 4 .*MATCH/);
  t.match(signedIn.at(-1), /decision: one_factor \(rule 4\)/);
  const none = p.explain(req({ path: '/_gateway/login', clientIp: '10.0.0.1' }));
  t.match(none[1], /portal prefix/);
  t.match(none.at(-2), /no rule matched: default_policy two_factor/);
  t.match(none.at(-1), /decision: two_factor \(default policy\)/);
  // explain and decide agree
  for (const r of [req({ path: '/admin' }), req({ path: '/public/x' }), req({ path: '/admin', method: 'POST' })]) {
    const d = p.decide(r);
    t.match(p.explain(r).at(-1), new RegExp(`decision: ${d.policy} `));
  }
  t.end();
});
