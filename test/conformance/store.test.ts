/**
 * One suite, every KeyValueStore implementation: MemoryStore (ManualClock), RedisStore on a real
 * redis-server, and RedisStore on a real 3-master Cluster.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema } from '../../src/config/schema/index.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { KeyValueStore } from '../../src/store/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { redisAvailable, redisCliAvailable, startCluster, startRedis } from '../fixtures/redis.js';

interface Harness {
  store: KeyValueStore;
  /** The same backend under another key prefix (memory: another instance). */
  other: KeyValueStore;
  /** Lets `ms` pass (memory: moves the clock; redis: real time), then polls `check` until true or gives up. */
  after(ms: number, check: () => Promise<boolean>): Promise<boolean>;
  close(): Promise<void>;
}

const SECRET = 'x'.repeat(40);

function redisConfig(redis: Record<string, unknown>) {
  return configSchema.parse({ session: { secret: SECRET, redis } }).session.redis;
}

async function poll(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(10);
  }
  return check();
}

function memoryHarness(): Harness {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const other = new MemoryStore(clock);
  return {
    store,
    other,
    after: async (ms, check) => {
      clock.advance(ms);
      return check();
    },
    close: async () => {
      await store.close();
      await other.close();
    },
  };
}

function redisHarness(redis: Record<string, unknown>, run: string): Harness {
  const store = new RedisStore(redisConfig({ ...redis, key_prefix: `conf-${run}:` }));
  const other = new RedisStore(redisConfig({ ...redis, key_prefix: `conf-${run}-other:` }));
  return {
    store,
    other,
    after: async (ms, check) => {
      await sleep(ms);
      return poll(check);
    },
    close: async () => {
      await store.close();
      await other.close();
    },
  };
}

function conformance(name: string, make: () => Harness | Promise<Harness>): void {
  void t.test(name, async (t) => {
    const h = await make();
    t.teardown(() => h.close());
    const s = h.store;
    let n = 0;
    const key = (what: string) => `${what}-${++n}`;

    void t.test('ping answers; kind names the implementation', async (t) => {
      await t.resolves(s.ping());
      t.equal(s.kind, name.startsWith('Memory') ? 'memory' : 'redis');
    });

    void t.test('get, set, overwrite and del', async (t) => {
      const k = key('basic');
      t.equal(await s.get(k), null);
      t.equal(await s.set(k, 'one', 0), true);
      t.equal(await s.get(k), 'one');
      t.equal(await s.set(k, 'two', 0), true);
      t.equal(await s.get(k), 'two');
      const k2 = key('basic');
      await s.set(k2, 'x', 10_000);
      t.equal(await s.del(k, k2, key('missing')), 2);
      t.equal(await s.get(k), null);
      t.equal(await s.del(), 0);
      t.equal(await s.del(k), 0);
    });

    void t.test('values keep unicode and separators intact', async (t) => {
      const k = key('unicode');
      const value = 'ä:{x}\n"quoted" ✓ ' + 'z'.repeat(2000);
      await s.set(k, value, 10_000);
      t.equal(await s.get(k), value);
    });

    void t.test('onlyIfAbsent sets only a missing key', async (t) => {
      const k = key('nx');
      t.equal(await s.set(k, 'first', 10_000, { onlyIfAbsent: true }), true);
      t.equal(await s.set(k, 'second', 10_000, { onlyIfAbsent: true }), false);
      t.equal(await s.get(k), 'first');
      await s.del(k);
      t.equal(await s.set(k, 'third', 0, { onlyIfAbsent: true }), true);
      t.equal(await s.get(k), 'third');
    });

    void t.test('ttl reports remaining time, -1 without expiry, -2 when missing', async (t) => {
      const k = key('ttl');
      await s.set(k, 'v', 60_000);
      const ttl = await s.ttl(k);
      t.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
      const k2 = key('ttl');
      await s.set(k2, 'v', 0);
      t.equal(await s.ttl(k2), -1);
      t.equal(await s.ttl(key('missing')), -2);
    });

    void t.test('a key expires after its TTL', async (t) => {
      const k = key('expiry');
      await s.set(k, 'v', 50);
      t.ok(await h.after(60, async () => (await s.get(k)) === null), 'gone');
      t.equal(await s.ttl(k), -2);
      t.equal(await s.set(k, 'again', 10_000, { onlyIfAbsent: true }), true, 'an expired key counts as absent');
    });

    void t.test('expire sets a new TTL on an existing key only; 0 removes it', async (t) => {
      const k = key('expire');
      await s.set(k, 'v', 0);
      t.equal(await s.expire(k, 30_000), true);
      const ttl = await s.ttl(k);
      t.ok(ttl > 0 && ttl <= 30_000, `ttl ${ttl}`);
      t.equal(await s.expire(k, 0), true);
      t.equal(await s.ttl(k), -1);
      t.equal(await s.expire(key('missing'), 1000), false);
      t.equal(await s.ttl(key('missing')), -2, 'expire does not create a key');
      await s.expire(k, 50);
      t.ok(await h.after(60, async () => (await s.get(k)) === null), 'expired');
    });

    void t.test('getDel returns the value once', async (t) => {
      const k = key('getdel');
      await s.set(k, 'secret', 10_000);
      t.equal(await s.getDel(k), 'secret');
      t.equal(await s.getDel(k), null);
      t.equal(await s.get(k), null);
    });

    void t.test('of 50 concurrent getDel exactly one gets the value', async (t) => {
      const k = key('getdel-race');
      await s.set(k, 'once', 10_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => s.getDel(k)));
      t.same(
        results.filter((r) => r !== null),
        ['once'],
      );
    });

    void t.test('incr counts in a window that starts at the first increment', async (t) => {
      const k = key('incr');
      t.equal(await s.incr(k, 60_000), 1);
      t.equal(await s.incr(k, 60_000), 2);
      t.equal(await s.incr(k, 60_000), 3);
      const ttl = await s.ttl(k);
      t.ok(ttl > 0 && ttl <= 60_000, `window ttl ${ttl}`);
      const w = key('incr-window');
      t.equal(await s.incr(w, 50), 1);
      t.equal(await s.incr(w, 5_000), 2, 'a later increment does not restart the window');
      t.ok(await h.after(60, async () => (await s.get(w)) === null), 'window over');
      t.equal(await s.incr(w, 60_000), 1, 'a new window starts at 1');
    });

    void t.test('incr is atomic under 100 parallel calls', async (t) => {
      const k = key('incr-par');
      const values = await Promise.all(Array.from({ length: 100 }, () => s.incr(k, 60_000)));
      t.same(
        [...values].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });

    void t.test('hashSet merges fields; hashGetAll answers null when missing', async (t) => {
      const k = key('hash');
      t.equal(await s.hashGetAll(k), null);
      await s.hashSet(k, { a: '1', b: 'two' }, 60_000);
      await s.hashSet(k, { b: '2', c: 'three' }, 60_000);
      t.same(await s.hashGetAll(k), { a: '1', b: '2', c: 'three' });
      const ttl = await s.ttl(k);
      t.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
      const empty = key('hash-empty');
      await s.hashSet(empty, {}, 60_000);
      t.equal(await s.hashGetAll(empty), null, 'a hash without fields does not exist');
      const e = key('hash-exp');
      await s.hashSet(e, { a: '1' }, 50);
      t.ok(await h.after(60, async () => (await s.hashGetAll(e)) === null), 'hash expired');
    });

    void t.test('hashIncr increments an existing hash only', async (t) => {
      const k = key('hincr');
      t.equal(await s.hashIncr(k, 'n', 1), null);
      t.equal(await s.hashGetAll(k), null, 'a missing hash is not created');
      await s.hashSet(k, { user: 'alice', n: '0' }, 60_000);
      t.same(await s.hashIncr(k, 'n', 1), { value: 1, fields: { user: 'alice', n: '1' } });
      t.same(await s.hashIncr(k, 'n', 5), { value: 6, fields: { user: 'alice', n: '6' } });
      t.same(await s.hashIncr(k, 'fresh', 2), { value: 2, fields: { user: 'alice', n: '6', fresh: '2' } });
      const ttl = await s.ttl(k);
      t.ok(ttl > 0 && ttl <= 60_000, 'keeps the TTL');
      const str = key('hincr-string');
      await s.set(str, 'plain', 60_000);
      t.equal(await s.hashIncr(str, 'n', 1), null, 'a non-hash key answers null');
    });

    void t.test('hashIncr is atomic under 100 parallel calls', async (t) => {
      const k = key('hincr-par');
      await s.hashSet(k, { attempts: '0' }, 60_000);
      const results = await Promise.all(Array.from({ length: 100 }, () => s.hashIncr(k, 'attempts', 1)));
      t.same(
        results.map((r) => r?.value).sort((a, b) => (a ?? 0) - (b ?? 0)),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      for (const r of results) t.equal(r?.fields.attempts, String(r?.value), 'fields are read in the same step');
    });

    void t.test('sets: add, members, remove, TTL', async (t) => {
      const k = key('set');
      t.same(await s.setMembers(k), []);
      await s.setAdd(k, 'a', 60_000);
      await s.setAdd(k, 'b', 60_000);
      await s.setAdd(k, 'a', 60_000);
      t.same((await s.setMembers(k)).sort(), ['a', 'b']);
      await s.setRemove(k, 'a');
      await s.setRemove(k, 'not-there');
      t.same(await s.setMembers(k), ['b']);
      await s.setRemove(k, 'b');
      t.same(await s.setMembers(k), []);
      t.equal(await s.ttl(k), -2, 'an empty set is gone');
      await s.setRemove(key('missing-set'), 'x');
      const e = key('set-exp');
      await s.setAdd(e, 'm', 50);
      t.ok(await h.after(60, async () => (await s.setMembers(e)).length === 0), 'set expired');
    });

    void t.test('pub/sub delivers to every handler until it unsubscribes', async (t) => {
      const channel = key('chan');
      const a: string[] = [];
      const b: string[] = [];
      const offA = await s.subscribe(channel, (m) => a.push(m));
      const offB = await s.subscribe(channel, (m) => b.push(m));
      await s.publish(channel, 'one');
      t.ok(await poll(() => a.length === 1 && b.length === 1), 'both got the first message');
      t.same(a, ['one']);
      await offA();
      await s.publish(channel, 'two');
      t.ok(await poll(() => b.length === 2), 'b got the second message');
      t.same(a, ['one'], 'a unsubscribed');
      t.same(b, ['one', 'two']);
      await offB();
      await offB();
    });

    void t.test('pub/sub crosses store instances on the same backend (same prefix)', { skip: s.kind === 'memory' && 'the memory store is one process' }, async (t) => {
      const channel = key('fanout');
      const got: string[] = [];
      const off = await s.subscribe(channel, (m) => got.push(m));
      t.teardown(off);
      const peer = s as RedisStore;
      const twin = new RedisStore(redisConfig({ ...(peerConfig.get(peer) ?? {}), key_prefix: peer.keyPrefix }));
      t.teardown(() => twin.close());
      await twin.publish(channel, 'from-the-twin');
      t.ok(await poll(() => got.length === 1), 'delivered');
      t.same(got, ['from-the-twin']);
    });

    void t.test('two key prefixes do not see each other', async (t) => {
      const k = key('iso');
      await s.set(k, 'mine', 60_000);
      t.equal(await h.other.get(k), null);
      await h.other.set(k, 'theirs', 60_000);
      t.equal(await s.get(k), 'mine');
      await h.other.hashSet(k + 'h', { a: '1' }, 60_000);
      t.equal(await s.hashGetAll(k + 'h'), null);
      t.equal(await s.incr(k + 'c', 60_000), 1);
      t.equal(await h.other.incr(k + 'c', 60_000), 1);
      const channel = key('iso-chan');
      const mine: string[] = [];
      const theirs: string[] = [];
      const off1 = await s.subscribe(channel, (m) => mine.push(m));
      const off2 = await h.other.subscribe(channel, (m) => theirs.push(m));
      await h.other.publish(channel, 'for-other');
      await s.publish(channel, 'for-me');
      t.ok(await poll(() => mine.length === 1 && theirs.length === 1));
      t.same(mine, ['for-me']);
      t.same(theirs, ['for-other']);
      await off1();
      await off2();
    });
  });
}

/** Connection settings of each RedisStore made here, so a twin can be built for the fan-out test. */
const peerConfig = new WeakMap<RedisStore, Record<string, unknown>>();

conformance('MemoryStore', () => memoryHarness());

if (!redisAvailable()) {
  void t.test('RedisStore', { skip: 'redis-server is not on PATH' }, async () => {});
} else {
  conformance('RedisStore (single node)', async () => {
    const server = await startRedis();
    const h = redisHarness({ url: server.url }, 'single');
    peerConfig.set(h.store as RedisStore, { url: server.url });
    return { ...h, close: async () => (await h.close(), await server.stop()) };
  });

  if (!redisCliAvailable()) {
    void t.test('RedisStore (cluster)', { skip: 'redis-cli is not on PATH (needed to create the cluster)' }, async () => {});
  } else {
    conformance('RedisStore (cluster)', async () => {
      const cluster = await startCluster();
      const h = redisHarness({ cluster: { nodes: cluster.nodes } }, 'cluster');
      peerConfig.set(h.store as RedisStore, { cluster: { nodes: cluster.nodes } });
      return { ...h, close: async () => (await h.close(), await cluster.stop()) };
    });
  }
}

void t.test('a closed store refuses work with STORE_UNAVAILABLE', { skip: !redisAvailable() && 'redis-server is not on PATH' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const store = new RedisStore(redisConfig({ url: server.url }));
  await store.ping();
  await store.close();
  const err = await store.get('x').catch((e: unknown) => e);
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE'), 'STORE_UNAVAILABLE');
});
