/** SessionManager against the memory store and a real redis-server (same tests, both backends). */
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema, type Config } from '../../src/config/schema/index.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { sessionRef, SessionManager, type NewSession } from '../../src/session/sessions.js';
import type { KeyValueStore } from '../../src/store/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { redisAvailable, startRedis } from '../fixtures/redis.js';
import { countingStore } from './counting-store.js';

const OLD = 'old-secret-'.padEnd(40, 'o');
const NEW = 'new-secret-'.padEnd(40, 'n');
const MIN = 60_000;

function sessionConfig(extra: Record<string, unknown> = {}): Config['session'] {
  return configSchema.parse({ session: { secret: OLD, ...extra } }).session;
}

function newSession(user = 'alice', extra: Partial<NewSession> = {}): NewSession {
  return {
    user,
    displayName: 'Alice',
    email: `${user}@example.com`,
    groups: ['operators'],
    authenticatedAt: Date.UTC(2026, 0, 1),
    factors: [{ method: 'password', at: Date.UTC(2026, 0, 1) }],
    level: 'one_factor',
    ...extra,
  };
}

async function poll(check: () => boolean | Promise<boolean>, timeoutMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(10);
  }
  return check();
}

interface Backend {
  /** A store on the shared backend; each call may give a new connection (as another gateway instance would have). */
  store(): KeyValueStore;
  close(): Promise<void>;
}

function suite(name: string, makeBackend: () => Backend | Promise<Backend>): void {
  void t.test(name, async (t) => {
    const backend = await makeBackend();
    t.teardown(() => backend.close());
    let run = 0;

    /** A manager on a fresh namespace (users differ per test) with a ManualClock. */
    const setup = (t: Test, extra: Record<string, unknown> = {}, clock = new ManualClock()) => {
      const store = countingStore(backend.store());
      const manager = new SessionManager(store, sessionConfig(extra), { clock });
      t.teardown(() => manager.close());
      const user = `user${++run}`;
      return { store, manager, clock, user };
    };

    void t.test('create then get returns the session; the store key is the sha256 of the id', async (t) => {
      const { manager, store, user, clock } = setup(t);
      const issued = await manager.create(newSession(user));
      t.match(issued.cookie, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      t.equal(issued.ref, sessionRef(issued.id));
      t.equal(issued.session.createdAt, clock.now());
      t.equal(issued.session.expiresAt, clock.now() + 12 * 60 * MIN);
      t.match(issued.session.csrf, /^[A-Za-z0-9_-]{43}$/);
      for (const w of store.writes) t.notMatch(w.key, issued.id, `raw id never in a key (${w.key})`);
      t.ok(store.writes.some((w) => w.key === `session:${issued.ref}`));
      const got = await manager.get(issued.cookie);
      t.equal(got?.id, issued.id);
      t.equal(got?.ref, issued.ref);
      t.same(got?.session, issued.session);
      got!.session.groups.push('admins');
      got!.session.level = 'two_factor';
      t.same((await manager.get(issued.cookie))?.session.groups, ['operators'], 'callers cannot change the cached copy');
      t.equal((await manager.get(issued.cookie))?.session.level, 'one_factor');
      const other = await manager.create(newSession(user));
      t.not(other.id, issued.id);
      t.not(other.session.csrf, issued.session.csrf);
    });

    void t.test('a second manager on the same backend sees the session (no shared memory)', async (t) => {
      const a = setup(t);
      const b = setup(t);
      const issued = await a.manager.create(newSession(a.user));
      t.equal((await b.manager.get(issued.cookie))?.session.user, a.user);
    });

    void t.test('bad cookies are rejected without touching the store', async (t) => {
      const { manager, store, user } = setup(t);
      const issued = await manager.create(newSession(user));
      store.reset();
      const [id, sig] = issued.cookie.split('.') as [string, string];
      const tampered = `${id}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
      const foreign = new SessionManager(new MemoryStore(), sessionConfig({ secret: NEW })).signer.sign(id);
      for (const bad of [tampered, foreign, 'x'.repeat(5000), `${issued.cookie}.x`, '', undefined, null]) {
        t.equal(await manager.get(bad as string), undefined);
      }
      t.equal(store.total(), 0, 'no store round trip before a valid signature');
    });

    void t.test('a valid signature for a session that does not exist (or was deleted) is refused', async (t) => {
      const { manager, user } = setup(t);
      const unknown = manager.signer.sign('A'.repeat(43));
      t.equal(await manager.get(unknown), undefined);
      const issued = await manager.create(newSession(user));
      await manager.revoke(issued.id);
      t.equal(await manager.get(issued.cookie), undefined);
    });

    void t.test('a cached session costs no store round trip; after cache_ttl it is read again', async (t) => {
      const { manager, store, user, clock } = setup(t);
      const issued = await manager.create(newSession(user));
      store.reset();
      for (let i = 0; i < 20; i++) t.ok(await manager.get(issued.cookie));
      t.equal(store.total(), 0, 'served from cache');
      clock.advance(1000);
      t.ok(await manager.get(issued.cookie));
      t.ok(store.total() > 0, 'read from the store after cache_ttl');
    });

    void t.test('concurrent cache misses share one store read', async (t) => {
      const a = setup(t);
      const b = setup(t);
      const issued = await a.manager.create(newSession(a.user));
      b.store.reset();
      const results = await Promise.all(Array.from({ length: 20 }, () => b.manager.get(issued.cookie)));
      t.ok(results.every((r) => r?.session.user === a.user));
      t.equal(b.store.calls.get, 2, 'one read of the record and one of its last-seen time');
    });

    void t.test('rotate: new id works, the old one is dead at once, lifetime kept, CSRF renewed', async (t) => {
      const { manager, user, clock } = setup(t);
      const peer = setup(t);
      const first = await manager.create(newSession(user));
      t.ok(await peer.manager.get(first.cookie), 'peer has it cached');
      clock.advance(5 * MIN);
      const rotated = await manager.rotate(first.id, { level: 'two_factor', secondFactorAt: clock.now(), factors: [...first.session.factors, { method: 'email', at: clock.now() }] });
      t.not(rotated.id, first.id);
      t.not(rotated.session.csrf, first.session.csrf);
      t.equal(rotated.session.createdAt, first.session.createdAt);
      t.equal(rotated.session.expiresAt, first.session.expiresAt);
      t.equal(rotated.session.level, 'two_factor');
      t.equal(rotated.session.user, user);
      t.equal(await manager.get(first.cookie), undefined, 'old id dead on this instance');
      t.ok(await poll(async () => (await peer.manager.get(first.cookie)) === undefined), 'old id dead on the peer (fan-out)');
      const got = await manager.get(rotated.cookie);
      t.equal(got?.session.level, 'two_factor');
      t.same(got?.session.factors.map((f) => f.method), ['password', 'email']);
      t.equal((await peer.manager.get(rotated.cookie))?.session.level, 'two_factor');
      const err = await manager.rotate(first.id).catch((e: unknown) => e);
      t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_UNAUTHENTICATED'), 'rotating a dead id fails');
      const listed = await manager.list(user);
      t.same(listed.map((l) => l.id), [rotated.ref], 'the user index follows the rotation');
    });

    void t.test('of two concurrent rotations of one session only one succeeds', async (t) => {
      const { manager, user } = setup(t);
      const first = await manager.create(newSession(user));
      const results = await Promise.allSettled([manager.rotate(first.id), manager.rotate(first.id)]);
      t.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      t.equal((await manager.list(user)).length, 1);
    });

    void t.test('update changes fields without a new id; not on an ended session', async (t) => {
      const { manager, user } = setup(t);
      const peer = setup(t);
      const s = await manager.create(newSession(user));
      t.ok(await peer.manager.get(s.cookie));
      const updated = await manager.update(s.id, { deviceId: 'dev-1', groups: ['admins'] });
      t.equal(updated?.deviceId, 'dev-1');
      t.equal(updated?.csrf, s.session.csrf, 'CSRF unchanged');
      t.equal((await manager.get(s.cookie))?.session.deviceId, 'dev-1');
      t.ok(await poll(async () => (await peer.manager.get(s.cookie))?.session.deviceId === 'dev-1'), 'peer drops its cached copy');
      await manager.revoke(s.id);
      t.equal(await manager.update(s.id, { deviceId: 'dev-2' }), undefined);
      t.equal(await manager.get(s.cookie), undefined, 'update did not resurrect it');
      t.ok(await poll(async () => (await peer.manager.get(s.cookie)) === undefined), 'peer sees the revocation');
    });

    void t.test('absolute lifetime: the session ends at expiresAt whatever the activity', async (t) => {
      const { manager, user, clock } = setup(t, { lifetime: '1h' });
      const s = await manager.create(newSession(user));
      for (let i = 0; i < 5; i++) {
        clock.advance(11 * MIN);
        t.ok(await manager.get(s.cookie), `alive at ${(i + 1) * 11} min`);
      }
      clock.advance(5 * MIN);
      t.equal(await manager.get(s.cookie), undefined, 'ended after 1h');
      const short = await manager.create(newSession(user, { lifetimeMs: 5 * MIN }));
      t.equal(short.session.expiresAt - short.session.createdAt, 5 * MIN, 'lifetimeMs overrides');
      clock.advance(5 * MIN);
      t.equal(await manager.get(short.cookie), undefined);
    });

    void t.test('idle timeout: ends an unused session, activity keeps it alive', async (t) => {
      const { manager, user, clock } = setup(t, { idle_timeout: '10m' });
      const peer = setup(t, { idle_timeout: '10m' }, clock);
      const busy = await manager.create(newSession(user));
      const idle = await manager.create(newSession(user));
      for (let i = 0; i < 6; i++) {
        clock.advance(4 * MIN);
        t.ok(await manager.get(busy.cookie), `busy alive at ${(i + 1) * 4} min`);
      }
      t.ok(await peer.manager.get(busy.cookie), 'last-seen is shared through the store');
      t.equal(await manager.get(idle.cookie), undefined, 'idle one ended');
      t.same((await manager.list(user)).map((l) => l.id), [busy.ref]);
      clock.advance(11 * MIN);
      t.equal(await peer.manager.get(busy.cookie), undefined);
    });

    void t.test('sliding refresh writes at most once per interval, never per request', async (t) => {
      const { manager, store, user, clock } = setup(t);
      const s = await manager.create(newSession(user));
      store.reset();
      for (let i = 0; i < 600; i++) {
        clock.advance(500);
        t.ok(await manager.get(s.cookie));
      }
      const writes = store.writes.length;
      t.ok(writes >= 4 && writes <= 6, `${writes} writes in 5 minutes of requests (one per 60 s)`);
      t.ok(store.writes.every((w) => w.key === `session-seen:${s.ref}`), 'only the last-seen key');
      const idleCase = setup(t, { idle_timeout: '100s' });
      const s2 = await idleCase.manager.create(newSession(idleCase.user));
      idleCase.store.reset();
      for (let i = 0; i < 200; i++) {
        idleCase.clock.advance(500);
        await idleCase.manager.get(s2.cookie);
      }
      const w2 = idleCase.store.writes.length;
      t.ok(w2 >= 9 && w2 <= 11, `${w2} writes in 100 s with idle_timeout 100s (one per 10 s)`);
    });

    void t.test('revoke, revokeUser, revokeAll and list', async (t) => {
      const { manager, user, clock } = setup(t);
      const bob = `${user}-bob`;
      const a1 = await manager.create(newSession(user));
      clock.advance(1000);
      const a2 = await manager.create(newSession(user, { apiToken: true }));
      const b1 = await manager.create(newSession(bob));
      const listed = await manager.list(user);
      t.same(listed.map((l) => l.id), [a2.ref, a1.ref], 'newest first, by safe reference');
      for (const l of listed) {
        t.match(l.id, /^[0-9a-f]{64}$/);
        t.notOk('csrf' in l.session, 'no CSRF secret in listings');
        t.not(l.id, a1.id);
      }
      const all = await manager.list();
      t.ok(all.some((l) => l.id === b1.ref) && all.some((l) => l.id === a1.ref));

      t.equal(await manager.revokeById(a2.ref), true);
      t.equal(await manager.revokeById(a2.ref), false, 'already gone');
      t.equal(await manager.revokeById('not-a-ref'), false);
      t.equal(await manager.get(a2.cookie), undefined);
      t.ok(await manager.get(a1.cookie));

      const a3 = await manager.create(newSession(user));
      t.equal(await manager.revokeUser(user), 2);
      t.equal(await manager.get(a1.cookie), undefined);
      t.equal(await manager.get(a3.cookie), undefined);
      t.same(await manager.list(user), []);
      t.ok(await manager.get(b1.cookie), "another user's session survives");
      const a4 = await manager.create(newSession(user));
      t.ok(await manager.get(a4.cookie), 'the user can sign in again');

      t.ok((await manager.revokeAll()) >= 2);
      t.equal(await manager.get(b1.cookie), undefined);
      t.equal(await manager.get(a4.cookie), undefined);
      t.same(await manager.list(), []);
    });

    void t.test('a revocation is seen by a second instance within one second (pub/sub, cache warm)', async (t) => {
      // ManualClock: the peer's cache never ages, so only the pushed revocation can end it.
      const a = setup(t);
      const b = setup(t, {}, a.clock);
      await b.manager.ready;
      const one = await a.manager.create(newSession(a.user));
      const two = await a.manager.create(newSession(a.user));
      const other = await a.manager.create(newSession(`${a.user}-x`));
      for (const s of [one, two, other]) t.ok(await b.manager.get(s.cookie), 'cached on b');
      await a.manager.revoke(one.id);
      t.ok(await poll(async () => (await b.manager.get(one.cookie)) === undefined), 'revoke seen');
      t.ok(await b.manager.get(two.cookie));
      await a.manager.revokeUser(a.user);
      t.ok(await poll(async () => (await b.manager.get(two.cookie)) === undefined), 'revokeUser seen');
      t.ok(await b.manager.get(other.cookie));
      await a.manager.revokeAll();
      t.ok(await poll(async () => (await b.manager.get(other.cookie)) === undefined), 'revokeAll seen');
    });

    void t.test('key rotation: old-secret cookies verify under [new, old] and not after old is dropped', async (t) => {
      const { manager, user } = setup(t, { secret: OLD });
      const s = await manager.create(newSession(user));
      const rotated = setup(t, { secrets: [NEW, OLD] });
      t.equal((await rotated.manager.get(s.cookie))?.id, s.id);
      const fresh = await rotated.manager.create(newSession(user));
      t.equal((await manager.get(fresh.cookie)), undefined, 'new cookies are signed with the new secret');
      const dropped = setup(t, { secrets: [NEW] });
      t.equal(await dropped.manager.get(s.cookie), undefined);
      t.ok(await dropped.manager.get(fresh.cookie));
    });

    void t.test('store failures surface as STORE_UNAVAILABLE (callers fail closed)', async (t) => {
      const { manager, store, user, clock } = setup(t);
      const s = await manager.create(newSession(user));
      clock.advance(1000);
      store.failWith = new Error('connection reset');
      for (const op of [() => manager.get(s.cookie), () => manager.create(newSession(user)), () => manager.revoke(s.id), () => manager.rotate(s.id), () => manager.list()]) {
        const err = await op().catch((e: unknown) => e);
        t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE'), String((err as Error)?.message));
      }
      store.failWith = undefined;
      t.ok(await manager.get(s.cookie), 'works again once the store answers');
    });
  });
}

suite('SessionManager on MemoryStore', () => {
  const store = new MemoryStore();
  return { store: () => store, close: () => store.close() };
});

if (redisAvailable()) {
  suite('SessionManager on RedisStore', async () => {
    const server = await startRedis();
    const config = configSchema.parse({ session: { secret: OLD, redis: { url: server.url, key_prefix: 'sessions-test:' } } }).session.redis;
    const stores: RedisStore[] = [];
    return {
      store: () => {
        const s = new RedisStore(config);
        stores.push(s);
        return s;
      },
      close: async () => {
        await Promise.all(stores.map((s) => s.close()));
        await server.stop();
      },
    };
  });
} else {
  void t.test('SessionManager on RedisStore', { skip: 'redis-server is not on PATH' }, async () => {});
}
