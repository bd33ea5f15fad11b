import { createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { configSchema } from '../../src/config/schema/index.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { createDirectories } from '../../src/users/chain.js';
import { LdapDirectory } from '../../src/users/ldap.js';
import { PasswordVerifier } from '../../src/users/password.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, slapdAvailable, startSlapd, type Slapd } from '../fixtures/slapd.js';

if (!slapdAvailable()) {
  t.plan(0, 'slapd, ldap-utils or openssl not installed');
} else {
  await run();
}

async function run() {
  const slapd: Slapd = await startSlapd();
  t.teardown(() => slapd.stop());
  const logger = createLogger({ level: 'silent' });

  const ldapInput = (overrides: Record<string, unknown> = {}) => ({
    url: slapd.url,
    bind_dn: SERVICE_DN,
    bind_password: SERVICE_PASSWORD,
    base_dn: BASE_DN,
    group_filter: '(&(objectClass=groupOfNames)(member={dn}))',
    group_base_dn: `ou=groups,${BASE_DN}`,
    timeout: '3s',
    pool_size: 2,
    ...overrides,
  });
  const ldapConfig = (overrides: Record<string, unknown> = {}) =>
    configSchema.parse({ session: { secret: 'x'.repeat(40) }, users: { ldap: ldapInput(overrides) } }).users.ldap!;

  const directory = (overrides: Record<string, unknown> = {}) => {
    const verifier = new PasswordVerifier({ concurrency: 2, queue: 64, warn: () => {} });
    const dir = new LdapDirectory(ldapConfig(overrides), { verifier, logger });
    t.teardown(() => dir.close());
    return { dir, verifier };
  };

  const unavailable = async (t: Test, promise: Promise<unknown>, what: string) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'), `${what}: DIRECTORY_UNAVAILABLE (got ${String(err)})`);
  };

  void t.test('signs in with the right password and reads the attributes and groups', async (t) => {
    const { dir, verifier } = directory();
    await dir.check();
    const alice = await dir.authenticate('alice', 'alice-ldap-pw');
    t.ok(alice);
    t.match(alice, {
      username: 'alice',
      displayName: 'Alice Operator',
      email: 'alice@example.com',
      phone: '+4915112345678',
      disabled: false,
      source: 'ldap',
    });
    t.same([...alice!.groups].sort(), ['operators', 'viewers']);
    const bob = await dir.authenticate('bob', 'bob-ldap-pw');
    t.match(bob, { username: 'bob', email: 'bob@example.com', displayName: undefined, phone: undefined }, 'a phone that is not E.164 is left out');
    t.same([...bob!.groups].sort(), ['admins', 'viewers']);
    t.match(await dir.authenticate('jürgen', 'juergen-ldap-pw'), { username: 'jürgen', groups: [] }, 'non-ASCII username');
    t.match(await dir.authenticate('ALICE', 'alice-ldap-pw'), { username: 'alice' }, "the directory's matching rule, and its spelling of the name");
    t.equal(verifier.stats.dummy, 4, 'every attempt costs one dummy verification, beside the bind');
  });

  void t.test('wrong password, unknown user, empty password, no password, ambiguous user', async (t) => {
    const { dir, verifier } = directory();
    t.equal(await dir.authenticate('alice', 'wrong'), null);
    t.same(await dir.verify('alice', 'wrong'), { status: 'rejected', reason: 'wrong_password' });
    t.equal(verifier.stats.dummy, 2, 'wrong password: the bind and one dummy verification each');
    t.equal(await dir.authenticate('nobody', 'alice-ldap-pw'), null);
    t.same(await dir.verify('nobody', 'x'), { status: 'unknown' });
    t.equal(verifier.stats.dummy, 4, 'unknown user: one dummy verification each, the same work');
    t.equal(await dir.authenticate('alice', ''), null, 'empty password refused');
    t.same(await dir.verify('alice', ''), { status: 'rejected', reason: 'empty_password' });
    t.equal(verifier.stats.dummy, 6, 'empty password: dummy verification, no bind');
    t.same(await dir.verify('nopw', 'anything'), { status: 'rejected', reason: 'wrong_password' }, 'an entry without userPassword cannot bind');
    t.same(await dir.verify('twin', 'twin-pw'), { status: 'rejected', reason: 'ambiguous' }, 'two entries match: refused');
    t.same(await dir.verify('', 'x'), { status: 'unknown' });
    t.same(await dir.verify('a'.repeat(300), 'x'), { status: 'unknown' }, 'overlong username: not sent');
  });

  void t.test('filter injection attempts find nobody', async (t) => {
    const { dir } = directory();
    for (const username of ['*', 'a*', '*)(uid=*', 'alice)(uid=*', 'alice)(|(uid=*)', '*)(|(objectClass=*', 'alice\\', 'alice\u0000', 'ali(ce']) {
      t.equal(await dir.authenticate(username, 'alice-ldap-pw'), null, `authenticate ${JSON.stringify(username)}`);
      t.equal(await dir.lookup(username), null, `lookup ${JSON.stringify(username)}`);
    }
  });

  void t.test('lookup without a password', async (t) => {
    const { dir } = directory();
    const alice = await dir.lookup('alice');
    t.match(alice, { username: 'alice', email: 'alice@example.com', source: 'ldap' });
    t.same([...alice!.groups].sort(), ['operators', 'viewers']);
    t.equal(await dir.lookup('nobody'), null);
    t.equal(await dir.lookup('twin'), null);
  });

  void t.test('groups from the memberOf attribute when there is no group_filter', async (t) => {
    const { dir } = directory({ group_filter: undefined, group_base_dn: undefined });
    const alice = await dir.authenticate('alice', 'alice-ldap-pw');
    t.same([...alice!.groups].sort(), ['operators', 'viewers']);
    t.same((await dir.lookup('jürgen'))!.groups, []);
  });

  void t.test('custom attribute names and user filter', async (t) => {
    const { dir } = directory({
      user_filter: '(&(objectClass=inetOrgPerson)(mail={username}))',
      attributes: { username: 'uid', email: 'mail', phone: 'telephoneNumber', display_name: 'cn' },
    });
    t.match(await dir.authenticate('alice@example.com', 'alice-ldap-pw'), { username: 'alice', displayName: 'Alice Operator', phone: undefined });
    t.equal(await dir.authenticate('*@example.com', 'alice-ldap-pw'), null);
  });

  void t.test('a service account with a wrong password: check and sign-in fail as unavailable', async (t) => {
    const { dir } = directory({ bind_password: 'wrong' });
    const err = await dir.check().catch((e: unknown) => e);
    t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'));
    t.match((err as Error).message, /ldap: cannot bind to ldap:\/\/127\.0\.0\.1:\d+ as 'cn=portcullis,ou=service,dc=example,dc=com': /);
    t.notMatch((err as Error).message, /wrong/, 'no password in the message');
    await unavailable(t, dir.authenticate('alice', 'alice-ldap-pw'), 'authenticate');
  });

  void t.test('a wrong base DN fails closed', async (t) => {
    const { dir } = directory({ base_dn: 'dc=nowhere,dc=org' });
    await unavailable(t, dir.authenticate('alice', 'alice-ldap-pw'), 'authenticate');
  });

  void t.test('a pool of one serves concurrent sign-ins', async (t) => {
    const { dir } = directory({ pool_size: 1 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? dir.authenticate('alice', 'alice-ldap-pw') : dir.lookup('bob'))));
    t.ok(results.every((r) => r !== null));
  });

  void t.test('ldaps:// and StartTLS', async (t) => {
    t.match(await directory({ url: slapd.ldapsUrl, tls: { ca_file: slapd.caFile } }).dir.authenticate('alice', 'alice-ldap-pw'), { username: 'alice' }, 'ldaps with the CA');
    t.match(await directory({ start_tls: true, tls: { ca_file: slapd.caFile } }).dir.authenticate('alice', 'alice-ldap-pw'), { username: 'alice' }, 'StartTLS with the CA');
    await unavailable(t, directory({ url: slapd.ldapsUrl }).dir.authenticate('alice', 'alice-ldap-pw'), 'ldaps, unknown CA');
    await unavailable(t, directory({ start_tls: true }).dir.authenticate('alice', 'alice-ldap-pw'), 'StartTLS, unknown CA');
    t.match(await directory({ url: slapd.ldapsUrl, tls: { insecure_skip_verify: true } }).dir.authenticate('alice', 'alice-ldap-pw'), { username: 'alice' }, 'insecure_skip_verify');
    t.throws(() => new LdapDirectory(ldapConfig({ tls: { ca_file: '/nonexistent/ca.pem' } }), { logger, verifier: new PasswordVerifier({ concurrency: 1, queue: 1 }) }), /ca_file: cannot read/);
  });

  void t.test('a server that never answers times out as unavailable', async (t) => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const { dir } = directory({ url: `ldap://127.0.0.1:${(server.address() as AddressInfo).port}`, timeout: '300ms' });
    await unavailable(t, dir.authenticate('alice', 'alice-ldap-pw'), 'authenticate');
    await unavailable(t, dir.check(), 'check');
  });

  void t.test('the users file first, then LDAP', async (t) => {
    const folder = mkdtempSync(join(tmpdir(), 'portcullis-ldap-chain-'));
    t.teardown(() => rmSync(folder, { recursive: true, force: true }));
    // alice is also in the file, with the password "password" (argon2id reference vector).
    writeFileSync(
      join(folder, 'users.yaml'),
      'users:\n  alice:\n    groups: [file-group]\n    password: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"\n',
    );
    const users = configSchema.parse({ session: { secret: 'x'.repeat(40) }, users: { file: 'users.yaml', ldap: ldapInput() } }).users;
    const chain = await createDirectories(users, { logger, configDir: folder, watch: false });
    t.teardown(() => chain.close());
    t.match(await chain.authenticate('alice', 'password'), { source: 'file', groups: ['file-group'] });
    t.equal(await chain.authenticate('alice', 'alice-ldap-pw'), null, "the file knows alice: LDAP's password does not count");
    t.match(await chain.authenticate('bob', 'bob-ldap-pw'), { source: 'ldap' }, 'unknown to the file: LDAP answers');
    t.match(await chain.lookup('bob'), { source: 'ldap' });
    t.equal(await chain.authenticate('nobody', 'x'), null);
    await chain.check();
  });

  // Last: takes the shared directory away and brings it back.
  void t.test('a directory that goes down answers unavailable, and is used again when it is back', async (t) => {
    const { dir } = directory();
    t.ok(await dir.authenticate('alice', 'alice-ldap-pw'), 'pooled connections exist');
    await slapd.kill();
    await unavailable(t, dir.authenticate('alice', 'alice-ldap-pw'), 'authenticate while down (stale pooled connection)');
    await unavailable(t, dir.authenticate('alice', 'alice-ldap-pw'), 'authenticate while down (refused)');
    await unavailable(t, dir.lookup('alice'), 'lookup while down');
    await unavailable(t, dir.authenticate('nobody', 'x'), 'unknown user while down');
    await unavailable(t, dir.check(), 'check while down');
    await slapd.start();
    t.match(await dir.authenticate('alice', 'alice-ldap-pw'), { username: 'alice' }, 'recovered');
    t.equal(await dir.authenticate('alice', 'wrong'), null);
    await dir.check();
  });
}
