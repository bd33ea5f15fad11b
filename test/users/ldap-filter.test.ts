import { FilterParser } from 'ldapts';
import t from 'tap';
import { buildGroupFilter, escapeFilterValue, fillFilter, firstRdnValue } from '../../src/users/ldap-filter.js';
import { connectAndBind } from '../../src/users/ldap-pool.js';

void t.test('escapeFilterValue escapes RFC 4515 specials and controls, keeps other characters', (t) => {
  t.equal(escapeFilterValue('alice'), 'alice');
  t.equal(escapeFilterValue('*'), '\\2a');
  t.equal(escapeFilterValue('a(b)c'), 'a\\28b\\29c');
  t.equal(escapeFilterValue('back\\slash'), 'back\\5cslash');
  t.equal(escapeFilterValue('nul\u0000'), 'nul\\00');
  t.equal(escapeFilterValue('tab\tdel\u007f'), 'tab\\09del\\7f');
  t.equal(escapeFilterValue('alice)(uid=*'), 'alice\\29\\28uid=\\2a');
  t.equal(escapeFilterValue('jürgen 日本 😀'), 'jürgen 日本 😀', 'non-ASCII sent as UTF-8, as RFC 4515 allows');
  t.end();
});

void t.test('an escaped value parses back to itself and stays one equality assertion', (t) => {
  for (const value of ['*', 'alice)(uid=*', '*)(|(objectClass=*', 'x\\', '\u0000', 'jürgen', '😀(*)']) {
    const filter = FilterParser.parseString(fillFilter('(&(objectClass=person)(uid={username}))', { username: value }));
    const json = JSON.parse(JSON.stringify(filter)) as { filters: Array<{ attribute: string; value: string }> };
    t.equal(json.filters.length, 2, `${JSON.stringify(value)}: still two assertions`);
    t.equal(filter.constructor.name, 'AndFilter');
    t.equal(json.filters[1]!.attribute, 'uid');
    t.equal(json.filters[1]!.value, value, `${JSON.stringify(value)} round-trips`);
  }
  t.end();
});

void t.test('fillFilter fills every known placeholder and leaves the others', (t) => {
  t.equal(fillFilter('(&(uid={username})(x={username}))', { username: 'a*' }), '(&(uid=a\\2a)(x=a\\2a))');
  t.equal(fillFilter('(member={dn})', { dn: 'uid=a\\,b,dc=x' }), '(member=uid=a\\5c,b,dc=x)');
  t.equal(fillFilter('(cn={other})', { username: 'x' }), '(cn={other})');
  t.equal(fillFilter('(cn={constructor})', {}), '(cn={constructor})');
  t.end();
});

void t.test('buildGroupFilter: group_filter, member-of, and the AD matching rule in chain', (t) => {
  const dn = 'CN=Alice (Ops),OU=People,DC=example,DC=com';
  t.equal(buildGroupFilter({ group_filter: '(&(objectClass=group)(member={dn}))', nested_groups: false }, dn, 'alice'), '(&(objectClass=group)(member=CN=Alice \\28Ops\\29,OU=People,DC=example,DC=com))');
  t.equal(buildGroupFilter({ group_filter: '(memberUid={username})', nested_groups: false }, dn, 'al*ce'), '(memberUid=al\\2ace)');
  t.equal(buildGroupFilter({ nested_groups: false }, dn, 'alice'), undefined, 'no filter: use memberOf');
  const nested = buildGroupFilter({ group_filter: '(member={dn})', nested_groups: true }, dn, 'alice');
  t.equal(nested, '(member:1.2.840.113556.1.4.1941:=CN=Alice \\28Ops\\29,OU=People,DC=example,DC=com)');
  t.equal(FilterParser.parseString(nested!).constructor.name, 'ExtensibleFilter', 'ldapts parses it as an extensible match');
  t.end();
});

void t.test('firstRdnValue takes the CN of a memberOf DN', (t) => {
  t.equal(firstRdnValue('cn=operators,ou=groups,dc=example,dc=com'), 'operators');
  t.equal(firstRdnValue('CN=VMS Operators\\, Berlin,OU=Groups,DC=example,DC=com'), 'VMS Operators, Berlin');
  t.equal(firstRdnValue('cn=J\\C3\\BCrgen\\2BCo,dc=x'), 'Jürgen+Co');
  t.equal(firstRdnValue('cn=Grüne 😀,dc=x'), 'Grüne 😀');
  t.equal(firstRdnValue('cn=a+uid=b,dc=x'), 'a', 'multi-valued RDN: the cn part');
  t.equal(firstRdnValue('ou=groups,dc=x'), undefined, 'not a CN');
  t.equal(firstRdnValue('garbage'), undefined);
  t.equal(firstRdnValue('cn=,dc=x'), undefined);
  t.end();
});

void t.test('connectAndBind refuses an empty password before connecting', async (t) => {
  await t.rejects(connectAndBind({ url: 'ldap://127.0.0.1:1', startTls: false, tls: {}, timeout: 1000 }, 'uid=alice,dc=x', ''), /without a password/);
});
