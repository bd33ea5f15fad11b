/**
 * The pieces under invites and reset links: one-time tokens in the store (only their HMAC kept, atomic
 * use, expiry, replacement, failure counting) and invite-set passwords in front of the users file.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Invites } from '../../src/auth/invites.js';
import { OneTimeTokens } from '../../src/auth/one-time-tokens.js';
import { RecoveryLinks, MAX_RESET_FAILURES } from '../../src/auth/recovery-links.js';
import { createLogger } from '../../src/observability/logger.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { KeyValueStore } from '../../src/store/store.js';
import { DirectoryChain } from '../../src/users/chain.js';
import { FileDirectory } from '../../src/users/file.js';
import { OverridingDirectory, PasswordOverrides } from '../../src/users/overrides.js';
import { hashPassword, PasswordVerifier } from '../../src/users/password.js';
import { ManualClock } from '../../src/util/clock.js';

const KEY = Buffer.alloc(32, 7);

/** A real MemoryStore whose writes are also recorded, to check what is kept. */
function recordingStore(clock: ManualClock): { store: KeyValueStore; writes: string[] } {
  const inner = new MemoryStore(clock);
  const writes: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'set' && typeof value === 'function') {
        return (key: string, v: string, ttl: number, o?: { onlyIfAbsent?: boolean }) => {
          writes.push(`${key}=${v}`);
          return inner.set(key, v, ttl, o);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, writes };
}

void t.test('tokens: 256 random bits, only the HMAC stored, used once', async (t) => {
  const clock = new ManualClock();
  const { store, writes } = recordingStore(clock);
  const invites = new Invites(store, KEY, clock);
  const { token, expiresAt } = await invites.create('alice', 60_000);
  t.match(token, /^[A-Za-z0-9_-]{43}$/);
  t.equal(expiresAt, clock.now() + 60_000);
  t.notOk(writes.some((w) => w.includes(token)), 'the token itself is never written');
  t.ok(writes.some((w) => /^invite:[0-9a-f]{64}=/.test(w)), 'invite:<hash>');
  t.ok((await store.ttl(writes.find((w) => /^invite:[0-9a-f]{64}=/.test(w))!.split('=')[0]!)) > 0, 'with a TTL');

  t.match(await invites.peek(token), { status: 'valid', user: 'alice' });
  t.match(await invites.peek(token), { status: 'valid' }, 'peeking does not use it');
  const [a, b] = await Promise.all([invites.consume(token), invites.consume(token)]);
  t.same([a.status, b.status].sort(), ['used', 'valid'], 'one of two concurrent uses wins');
  t.same(await invites.peek(token), { status: 'used' });
  t.same(await invites.peek('A'.repeat(43)), { status: 'unknown' });
  t.same(await invites.peek('short'), { status: 'unknown' }, 'malformed');
  t.same(await invites.consume('../../etc'), { status: 'unknown' });
});

void t.test('tokens: expiry, replacement, separate namespaces', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const invites = new Invites(store, KEY, clock);
  const { token } = await invites.create('bob', 60_000);
  clock.advance(60_000);
  t.same(await invites.peek(token), { status: 'expired' });
  t.same(await invites.consume(token), { status: 'expired' });
  clock.advance(2 * 24 * 3_600_000);
  t.same(await invites.peek(token), { status: 'unknown' }, 'forgotten a day after expiry');

  const first = await invites.create('bob', 60_000);
  const second = await invites.create('bob', 60_000);
  t.same(await invites.peek(first.token), { status: 'unknown' }, 'replaced');
  t.match(await invites.peek(second.token), { status: 'valid', user: 'bob' });

  const links = new RecoveryLinks(store, KEY, clock);
  t.same(await links.peek(second.token), { status: 'unknown' }, 'an invite token is no reset link');
  const link = await links.create('bob', 60_000);
  t.match(await invites.peek(second.token), { status: 'valid' }, 'a reset link does not replace an invite');
  t.same(await invites.peek(link.token), { status: 'unknown' });
  await t.rejects(new OneTimeTokens(store, 'x', KEY, clock).create('bob', 0), RangeError);
  t.throws(() => new OneTimeTokens(store, 'x', Buffer.alloc(8), clock), TypeError);
});

void t.test('reset links: wrong passwords use the link up', async (t) => {
  const clock = new ManualClock();
  const links = new RecoveryLinks(new MemoryStore(clock), KEY, clock);
  const { token } = await links.create('carol', 60_000);
  const found = await links.peek(token);
  if (found.status !== 'valid') throw new Error('expected a valid link');
  const answers: boolean[] = [];
  for (let i = 0; i < MAX_RESET_FAILURES; i++) answers.push(await links.failed(found.hash));
  t.same(answers, [true, true, true, true, false]);
  t.same(await links.peek(token), { status: 'used' });
  t.same(await links.consume(token), { status: 'used' });
});

void t.test('password overrides win over the users file for file users only', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'users.yaml');
  const [alicePw, carolPw] = await Promise.all([hashPassword('file-password-a'), hashPassword('file-password-c')]);
  writeFileSync(file, stringify({ users: { alice: { password: alicePw, email: 'a@example.com' }, carol: { password: carolPw, disabled: true }, newbie: { email: 'n@example.com' } } }));
  const logger = createLogger({ level: 'silent' });
  const verifier = new PasswordVerifier({ concurrency: 2, queue: 16, warn: () => {} });
  const chain = new DirectoryChain([await FileDirectory.load(file, { verifier, logger, watch: false })], verifier);
  const store = new MemoryStore();
  const overrides = new PasswordOverrides(store);
  const directory = new OverridingDirectory(chain, overrides, verifier);
  t.teardown(() => directory.close());

  t.match(await directory.authenticate('alice', 'file-password-a'), { username: 'alice', source: 'file' }, 'no override: the file decides');
  t.equal(await directory.authenticate('newbie', 'anything at all'), null, 'a user without a password cannot sign in');

  await overrides.set('alice', await hashPassword('invited-password'));
  await overrides.set('newbie', await hashPassword('newbie-password'));
  await overrides.set('carol', await hashPassword('carol-new-password'));
  t.equal(await store.get('pwd:alice') !== null, true, 'kept as pwd:<user>');
  t.equal(await store.ttl('pwd:alice'), -1, 'with no expiry');
  t.match(await directory.authenticate('alice', 'invited-password'), { username: 'alice', email: 'a@example.com' });
  t.equal(await directory.authenticate('alice', 'file-password-a'), null, 'the file password no longer works');
  t.match(await directory.authenticate('newbie', 'newbie-password'), { username: 'newbie' });
  t.equal(await directory.authenticate('carol', 'carol-new-password'), null, 'a disabled user stays out');
  t.match(await directory.verify('carol', 'carol-new-password'), { status: 'rejected', reason: 'disabled' });
  t.match(await directory.verify('nobody', 'x'), { status: 'unknown' });
  t.match(await directory.lookup('alice'), { username: 'alice' });
  await t.rejects(overrides.set('alice', 'plain text'), TypeError, 'only hashes are stored');

  await overrides.clear('alice');
  t.match(await directory.authenticate('alice', 'file-password-a'), { username: 'alice' }, 'cleared: the file decides again');
});
