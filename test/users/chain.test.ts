import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { configSchema } from '../../src/config/schema/index.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { createDirectories, DirectoryChain } from '../../src/users/chain.js';
import { FileDirectory } from '../../src/users/file.js';
import { LdapDirectory } from '../../src/users/ldap.js';
import { DEMO_PASSWORDS } from '../../src/users/demo-users.js';
import { PasswordVerifier } from '../../src/users/password.js';

const logger = createLogger({ level: 'silent' });
const DEMO_FILE = fileURLToPath(new URL('../../../config/users.yaml', import.meta.url));
const SECRET = 'x'.repeat(40);

const PASSWORD_HASH = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'; // "password"
const CORRECT_HORSE_HASH = '$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e'; // "correct horse"

/** A real FileDirectory that also counts what it was asked. */
class CountingFileDirectory extends FileDirectory {
  readonly asked: string[] = [];
  override async verify(username: string, password: string) {
    this.asked.push(username);
    return super.verify(username, password);
  }
}

function usersFile(t: Test, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-chain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

function usersConfig(users: Record<string, unknown>) {
  return configSchema.parse({ session: { secret: SECRET }, users }).users;
}

void t.test('the demo users file loads and every demo password signs in', async (t) => {
  const chain = await createDirectories(usersConfig({ file: DEMO_FILE }), { logger, watch: false });
  t.teardown(() => chain.close());
  t.same(Object.keys(DEMO_PASSWORDS).sort(), ['alice', 'bob', 'carol', 'dave', 'svc-export']);
  for (const [user, password] of Object.entries(DEMO_PASSWORDS)) t.match(await chain.authenticate(user, password), { username: user, source: 'file' }, user);
  t.match(await chain.lookup('alice'), { email: 'alice@example.com', phone: '+4915112345678', groups: ['operators'] });
  t.match(await chain.lookup('bob'), { groups: ['admins'] });
  t.match(await chain.lookup('svc-export'), { secondFactor: { enabled: false } });
  t.equal(await chain.authenticate('alice', DEMO_PASSWORDS.bob!), null);
  await chain.check();
});

void t.test('createDirectories resolves a relative users file against configDir and reports a missing one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-chain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'people.yaml'), 'users:\n  zed: {groups: [g]}\n');
  const chain = await createDirectories(usersConfig({ file: './people.yaml' }), { logger, configDir: dir, watch: false });
  t.teardown(() => chain.close());
  t.match(await chain.lookup('zed'), { groups: ['g'] });
  const err = await createDirectories(usersConfig({ file: './missing.yaml' }), { logger, configDir: dir }).catch((e: unknown) => e);
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG'));
  t.match((err as Error).message, /missing\.yaml does not exist/);
});

void t.test('no directory: every sign-in fails, with the dummy verification', async (t) => {
  const chain = await createDirectories(usersConfig({}), { logger });
  t.equal(chain.directories.length, 0);
  t.equal(await chain.authenticate('alice', 'x'), null);
  t.equal(chain.verifier.stats.dummy, 1);
  t.equal(await chain.lookup('alice'), null);
  await chain.check();
});

void t.test('the first directory that knows the user answers', async (t) => {
  const verifier = new PasswordVerifier({ concurrency: 2, queue: 8 });
  const first = new CountingFileDirectory(
    usersFile(t, 'first', `users:\n  alice:\n    password: "${PASSWORD_HASH}"\n  both:\n    groups: [one]\n    password: "${PASSWORD_HASH}"\n  carol:\n    disabled: true\n`),
    { logger, verifier, watch: false },
  );
  const second = new CountingFileDirectory(
    usersFile(t, 'second', `users:\n  bob:\n    password: "${CORRECT_HORSE_HASH}"\n  both:\n    groups: [two]\n    password: "${CORRECT_HORSE_HASH}"\n  carol:\n    password: "${CORRECT_HORSE_HASH}"\n`),
    { logger, verifier, watch: false },
  );
  const chain = new DirectoryChain([first, second], verifier);
  t.match(await chain.authenticate('alice', 'password'), { username: 'alice' });
  t.match(await chain.authenticate('bob', 'correct horse'), { username: 'bob' }, 'unknown to the first: the second answers');
  t.match(await chain.authenticate('both', 'password'), { groups: ['one'] });
  second.asked.length = 0;
  t.equal(await chain.authenticate('both', 'correct horse'), null, 'known to the first with a wrong password: not retried');
  t.equal(await chain.authenticate('carol', 'correct horse'), null, 'disabled in the first: not retried');
  t.same(second.asked, [], 'the second directory was not asked');
  t.same(await chain.verify('both', 'x'), { status: 'rejected', reason: 'wrong_password' });
  t.same(await chain.verify('nobody', 'x'), { status: 'unknown' });
  t.same(second.asked, ['nobody']);
  t.match(await chain.lookup('both'), { groups: ['one'] });
  t.match(await chain.lookup('bob'), { username: 'bob' });
  t.equal(await chain.lookup('nobody'), null);
});

void t.test('file then a directory that is down: file users still sign in, others fail closed', async (t) => {
  const verifier = new PasswordVerifier({ concurrency: 2, queue: 8 });
  const users = new FileDirectory(usersFile(t, 'users', `users:\n  alice:\n    password: "${PASSWORD_HASH}"\n`), { logger, verifier, watch: false });
  const port = await closedPort();
  const ldap = new LdapDirectory(
    configSchema.parse({
      session: { secret: SECRET },
      users: { ldap: { url: `ldap://127.0.0.1:${port}`, bind_dn: 'cn=svc,dc=example,dc=com', bind_password: 'x', base_dn: 'dc=example,dc=com', timeout: '2s' } },
    }).users.ldap!,
    { logger, verifier },
  );
  const chain = new DirectoryChain([users, ldap], verifier);
  t.teardown(() => chain.close());
  t.match(await chain.authenticate('alice', 'password'), { source: 'file' }, 'the down directory is not needed');
  t.equal(await chain.authenticate('alice', 'other'), null);
  const err = await chain.authenticate('dave', 'x').catch((e: unknown) => e);
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'), 'unknown to the file, next directory down: unavailable, never a pass');
  const checkErr = await chain.check().catch((e: unknown) => e);
  t.ok(isPortcullisError(checkErr, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'));
  t.match((checkErr as Error).message, /ldap: cannot bind to ldap:\/\/127\.0\.0\.1:\d+ as 'cn=svc,dc=example,dc=com'/);
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
