import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { isPortcullisError, type PortcullisError } from '../../src/errors/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { FileDirectory } from '../../src/users/file.js';
import { PasswordVerifier, hashPassword } from '../../src/users/password.js';

// Hashes from other implementations (see password.test.ts): both of the password shown.
const ARGON2ID_PASSWORD = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'; // "password"
const BCRYPT_CORRECT_HORSE = '$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e'; // "correct horse"

const USERS = `# demo
users:
  alice:
    display_name: Alice Operator
    email: alice@example.com
    phone: "+4915112345678"
    groups: [operators, viewers]
    password: "${ARGON2ID_PASSWORD}"
    second_factor: {method: email}
  bob:
    groups: [admins]
    password: "${BCRYPT_CORRECT_HORSE}"
  carol:
    password: "${ARGON2ID_PASSWORD}"
    disabled: true
  svc-export:
    password: "${BCRYPT_CORRECT_HORSE}"
    second_factor: {enabled: false}
  nopass:
    email: nopass@example.com
`;

function setup(t: Test, text = USERS) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'users.yaml');
  writeFileSync(file, text);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'debug' }, sink);
  const verifier = new PasswordVerifier({ concurrency: 2, queue: 16, warn: () => {} });
  return { dir, file, lines, logger, verifier };
}

async function loadError(t: Test, text: string): Promise<PortcullisError> {
  const { file, logger, verifier } = setup(t, text);
  const err = await FileDirectory.load(file, { logger, verifier, watch: false }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG'), 'a config error');
  return err as PortcullisError;
}

void t.test('loads every field of a user', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = await FileDirectory.load(file, { logger, verifier, watch: false });
  t.teardown(() => users.close());
  t.equal(users.name, 'file');
  t.equal(users.size, 5);
  t.same(await users.lookup('alice'), {
    username: 'alice',
    displayName: 'Alice Operator',
    email: 'alice@example.com',
    phone: '+4915112345678',
    groups: ['operators', 'viewers'],
    disabled: false,
    secondFactor: { method: 'email' },
    source: 'file',
  });
  t.match(await users.lookup('bob'), { username: 'bob', groups: ['admins'], disabled: false, email: undefined, secondFactor: undefined });
  t.match(await users.lookup('svc-export'), { secondFactor: { enabled: false } });
  t.match(await users.lookup('carol'), { disabled: true }, 'lookup shows disabled users as such');
  t.equal(await users.lookup('nobody'), null);
  t.equal(await users.lookup('Alice'), null, 'usernames are case-sensitive');
  t.equal(await users.lookup('constructor'), null, 'no prototype keys');
  await users.check();
});

void t.test('authenticate: right, wrong, unknown, disabled, no password', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, watch: false });
  t.match(await users.authenticate('alice', 'password'), { username: 'alice', source: 'file' });
  t.match(await users.authenticate('bob', 'correct horse'), { username: 'bob' });
  t.equal(await users.authenticate('alice', 'Password'), null, 'wrong password');
  t.equal(await users.authenticate('alice', ''), null, 'empty password');
  t.equal(await users.authenticate('ALICE', 'password'), null, 'case matters');
  t.equal(verifier.stats.dummy, 1, 'the unknown-case username cost a dummy verification');
  t.equal(await users.authenticate('nobody', 'password'), null, 'unknown user');
  t.equal(verifier.stats.dummy, 2, 'unknown user: dummy verification');
  t.equal(await users.authenticate('carol', 'password'), null, 'disabled user with the right password');
  t.equal(verifier.stats.dummy, 3, 'disabled user: dummy verification');
  t.same(await users.verify('carol', 'password'), { status: 'rejected', reason: 'disabled' });
  t.equal(await users.authenticate('nopass', ''), null, 'a user without a password cannot sign in');
  t.same(await users.verify('nopass', 'x'), { status: 'rejected', reason: 'no_password' });
  t.same(await users.verify('nobody', 'x'), { status: 'unknown' });
  t.same(await users.verify('alice', 'x'), { status: 'rejected', reason: 'wrong_password' });
});

void t.test('a missing file is a clear start-up error', async (t) => {
  const { dir, logger, verifier } = setup(t);
  const err = await FileDirectory.load(join(dir, 'nope.yaml'), { logger, verifier }).catch((e: unknown) => e);
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG'));
  t.match((err as Error).message, /users file .*nope\.yaml does not exist/);
  t.throws(() => new FileDirectory(join(dir, 'nope.yaml'), { logger, verifier }), /does not exist/);
});

void t.test('invalid files: every problem with file, line and column', async (t) => {
  const err = await loadError(
    t,
    `users:
  alice:
    phone: "+49 151 1234"
    email: not-an-email
    emial: alice@example.com
  bob:
    phone: +4915112345678
    password: "{SSHA}abc"
    second_factor: {method: pigeon}
    disabled: "no"
    groups: operators
`,
  );
  const msg = err.message;
  t.match(msg, /users\.yaml:3:5 users\.alice\.phone: must be an E\.164 phone number/);
  t.match(msg, /users\.yaml:4:5 users\.alice\.email: must be an email address/);
  t.match(msg, /users\.yaml:5:5 users\.alice: .*emial/, 'unknown key at its own line');
  t.match(msg, /users\.yaml:7:5 users\.bob\.phone: must be quoted/);
  t.match(msg, /users\.yaml:8:5 users\.bob\.password: must be an argon2/);
  t.match(msg, /users\.yaml:9:\d+ users\.bob\.second_factor\.method:/);
  t.match(msg, /users\.yaml:10:5 users\.bob\.disabled:/);
  t.match(msg, /users\.yaml:11:5 users\.bob\.groups:/);
  t.equal((err.details.problems as unknown[]).length, 8, 'all problems collected');
});

void t.test('invalid files: YAML syntax, duplicate users, wrong shape, bad usernames', async (t) => {
  t.match((await loadError(t, 'users:\n  alice: {groups: [a\n')).message, /users\.yaml:\d+:\d+: /);
  t.match((await loadError(t, 'users:\n  alice: {}\n  alice: {}\n')).message, /users\.yaml:3:3: .*[Uu]nique/);
  t.match((await loadError(t, 'people:\n  alice: {}\n')).message, /users\.yaml:1:1 : |users\.yaml:1:1 /);
  t.match((await loadError(t, 'users: [alice]\n')).message, /users\.yaml:1:1 users: .*expected record/);
  t.match((await loadError(t, 'users:\n  "al ice": {}\n')).message, /users\.yaml:2:3 users\.al ice: a username must be/);
  t.match((await loadError(t, '')).message, /users/);
  t.match((await loadError(t, 'users:\n  __proto__: {groups: [admins]}\n')).message, /users\.yaml:2:3 users\.__proto__: '__proto__' cannot be a username/);
});

void t.test('an empty users map is valid', async (t) => {
  const { file, logger, verifier, lines } = setup(t, 'users: {}\n');
  const users = new FileDirectory(file, { logger, verifier, watch: false });
  t.equal(users.size, 0);
  await users.check();
  t.ok(lines.some((l) => l.level === 'warn' && /no users/.test(String(l.msg))));
});

void t.test('reloads when the file changes; an invalid change keeps the old users', async (t) => {
  const { dir, file, logger, verifier, lines } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, debounceMs: 20 });
  t.teardown(() => users.close());
  // The watcher does not hold the process open (a server does); the test must, while it waits.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));

  const reloaded = once(users, 'reload');
  writeFileSync(file, USERS.replace('groups: [admins]', 'groups: [admins, auditors]').concat(`  dave:\n    password: "${BCRYPT_CORRECT_HORSE}"\n`));
  t.same((await reloaded)[0], { users: 6, disabled: [], removed: [], passwordChanged: [] });
  t.match(await users.lookup('bob'), { groups: ['admins', 'auditors'] });
  t.match(await users.authenticate('dave', 'correct horse'), { username: 'dave' });

  const failed = once(users, 'reload-error');
  writeFileSync(file, 'users:\n  dave:\n    phone: "0151"\n');
  const [err] = (await failed) as [Error];
  t.match(err.message, /users\.yaml:3:5 users\.dave\.phone/);
  t.match(await users.authenticate('dave', 'correct horse'), { username: 'dave' }, 'old users kept');
  t.equal(users.size, 6);
  const logged = lines.find((l) => l.level === 'error');
  t.match(logged, { msg: /previous users stay in effect/ });
  t.notOk(JSON.stringify(lines).includes('$2b$'), 'no hash in the log');

  // An editor that writes a new file and renames it over the old one.
  const replaced = once(users, 'reload');
  writeFileSync(join(dir, 'users.yaml.tmp'), `users:\n  erin:\n    password: "${BCRYPT_CORRECT_HORSE}"\n`);
  renameSync(join(dir, 'users.yaml.tmp'), file);
  t.same((await replaced)[0], { users: 1, disabled: [], removed: ['alice', 'bob', 'carol', 'svc-export', 'nopass', 'dave'], passwordChanged: [] });
  t.equal(await users.lookup('alice'), null, 'alice is gone');
  t.match(await users.lookup('erin'), { username: 'erin' });

  const gone = once(users, 'reload-error');
  rmSync(file);
  t.match(((await gone) as [Error])[0].message, /does not exist/);
  t.match(await users.lookup('erin'), { username: 'erin' }, 'a deleted file keeps the users');
});

void t.test('reload() by hand answers whether anything changed', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, watch: false });
  t.equal(await users.reload(), false, 'unchanged');
  writeFileSync(file, 'users: {}\n');
  t.equal(await users.reload(), true);
  t.equal(users.size, 0);
  writeFileSync(file, 'users: [\n');
  t.equal(await users.reload(), false);
  t.equal(users.size, 0);
});

void t.test('polling mode notices a change too', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, poll: true, pollIntervalMs: 20, debounceMs: 5 });
  t.teardown(() => users.close());
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const reloaded = once(users, 'reload');
  writeFileSync(file, `users:\n  frank:\n    password: "${BCRYPT_CORRECT_HORSE}"\n    groups: [polled]\n`);
  t.same((await reloaded)[0], { users: 1, disabled: [], removed: ['alice', 'bob', 'carol', 'svc-export', 'nopass'], passwordChanged: [] });
  t.match(await users.lookup('frank'), { groups: ['polled'] });
});

void t.test('`disabled: true`: isDisabled answers at once, and a reload names the users it newly disables', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, watch: false });
  t.equal(users.isDisabled('carol'), true);
  t.equal(users.isDisabled('bob'), false);
  t.equal(users.isDisabled('nobody'), false, 'an unknown user is not "disabled" here (other directories may know them)');
  const events: unknown[] = [];
  users.on('reload', (e) => events.push(e));
  writeFileSync(file, USERS.replace('    groups: [admins]\n', '    groups: [admins]\n    disabled: true\n'));
  t.equal(await users.reload(), true);
  t.same(events, [{ users: 5, disabled: ['bob'], removed: [], passwordChanged: [] }], 'bob is newly disabled; carol was already');
  t.equal(users.isDisabled('bob'), true);
  writeFileSync(file, USERS);
  await users.reload();
  t.same(events[1], { users: 5, disabled: [], removed: [], passwordChanged: [] }, 'enabling again disables nobody');
  t.equal(users.isDisabled('bob'), false);
});

void t.test('a reload names the users whose password hash changed (what was tied to the old password ends)', async (t) => {
  const { file, logger, verifier } = setup(t);
  const users = new FileDirectory(file, { logger, verifier, watch: false });
  const events: Array<{ passwordChanged?: string[] }> = [];
  users.on('reload', (e: { passwordChanged?: string[] }) => events.push(e));
  const hash = /bob:\n(?:.*\n)*?\s+password: (\S+)/.exec(USERS)?.[1];
  t.ok(hash, 'bob has a hash in the fixture');
  writeFileSync(file, USERS.replace(hash!, JSON.stringify(await hashPassword('a-new-password-1', 'argon2id'))));
  t.equal(await users.reload(), true);
  t.same(events[0]?.passwordChanged, ['bob']);
});
