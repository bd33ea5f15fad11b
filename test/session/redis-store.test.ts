/** RedisStore and SessionManager against real Redis failures: crash, hang, late start, Sentinel failover, Cluster. */
import t, { type Test } from 'tap';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema, type Config } from '../../src/config/schema/index.js';
import { isPortcullisError } from '../../src/errors/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { createStore } from '../../src/store/create-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { SessionManager, type NewSession } from '../../src/session/sessions.js';
import { ManualClock } from '../../src/util/clock.js';
import { freePort, rawCommand, redisAvailable, redisCliAvailable, startCluster, startRedis, startSentinelSetup, type SentinelSetup } from '../fixtures/redis.js';

const SECRET = 'r'.repeat(40);

function sessionConfig(redis: Record<string, unknown>, extra: Record<string, unknown> = {}): Config['session'] {
  return configSchema.parse({ session: { secret: SECRET, redis, ...extra } }).session;
}

function newSession(user: string): NewSession {
  return { user, groups: [], authenticatedAt: 0, factors: [{ method: 'password', at: 0 }], level: 'one_factor' };
}

async function poll(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    await sleep(25);
  }
  return false;
}

/** The promise's rejection, or 'hung' when it has not settled after `ms` (a generous bound, not a timing assertion). */
async function rejection(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([p.then(() => 'resolved', (err: unknown) => err), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const unavailable = (err: unknown) => isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE');

void t.test('createStore: memory warns loudly, redis gives a RedisStore', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'info' }, sink);
  const memory = createStore(sessionConfig({}, { store: 'memory' }), logger);
  t.teardown(() => memory.close());
  t.ok(memory instanceof MemoryStore);
  t.equal(memory.kind, 'memory');
  const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.level === 'warn');
  t.match(warning?.msg, /IN MEMORY.*lost on restart.*NOT shared/);
  const port = await freePort();
  const redis = createStore(sessionConfig({ url: `redis://127.0.0.1:${port}/0`, connect_timeout: '200ms' }), logger);
  t.teardown(() => redis.close());
  t.ok(redis instanceof RedisStore);
  t.equal(redis.kind, 'redis');
});

void t.test('with Redis', { skip: !redisAvailable() && 'redis-server is not on PATH' }, (t) => {
  void t.test('everything lives under key_prefix; the raw session id is in no key', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.stop());
    const store = new RedisStore(sessionConfig({ url: server.url, key_prefix: 'pfx:' }).redis);
    t.teardown(() => store.close());
    const manager = new SessionManager(store, sessionConfig({ url: server.url }));
    t.teardown(() => manager.close());
    const s = await manager.create(newSession('alice'));
    await store.incr('counter', 60_000);
    const keys = (await rawCommand(server.port, 'KEYS *')).split('\r\n').filter((l) => l && !/^[*$]/.test(l));
    t.ok(keys.length >= 4, keys.join(' '));
    for (const k of keys) {
      t.match(k, /^pfx:/);
      t.notMatch(k, s.id);
    }
    t.ok(keys.includes(`pfx:session:${s.ref}`));
    t.ok(keys.includes('pfx:user-sessions:alice'));
    const ttl = Number((await rawCommand(server.port, `PTTL pfx:session:${s.ref}`)).slice(1));
    t.ok(ttl > 0 && ttl <= 12 * 3600_000, 'the record has the remaining lifetime as TTL');
  });

  void t.test('Redis killed: fails fast with STORE_UNAVAILABLE, then recovers by itself on restart', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.stop());
    const config = sessionConfig({ url: server.url, command_timeout: '1s' });
    const lines: Array<{ level: string; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString('utf8')) as { level: string; msg: string });
        cb();
      },
    });
    const store = new RedisStore(config.redis, createLogger({ level: 'info' }, sink));
    const peerStore = new RedisStore(config.redis);
    t.teardown(() => Promise.all([store.close(), peerStore.close()]));
    const clock = new ManualClock();
    const manager = new SessionManager(store, config, { clock });
    const peer = new SessionManager(peerStore, config, { clock });
    t.teardown(() => Promise.all([manager.close(), peer.close()]));
    await peer.ready;
    const s = await manager.create(newSession('alice'));
    t.ok(await manager.get(s.cookie));

    await server.kill();
    t.ok(unavailable(await rejection(store.get('anything'))), 'store: STORE_UNAVAILABLE, no hang');
    clock.advance(2000); // past the cache
    t.ok(unavailable(await rejection(manager.get(s.cookie))), 'sessions: STORE_UNAVAILABLE (fail closed)');
    t.ok(unavailable(await rejection(manager.create(newSession('bob')))));
    t.ok(unavailable(await rejection(store.ping())));

    await server.restart();
    t.ok(await poll(async () => (await store.ping(), true)), 'the same store object reconnects');
    const warnings = lines.filter((l) => l.level === 'warn');
    t.ok(warnings.length >= 1 && warnings.length <= 2, `the outage is logged once, not per retry (${warnings.length})`);
    t.ok(lines.some((l) => l.level === 'info' && /restored/.test(l.msg)), 'the recovery is logged');
    t.equal(await manager.get(s.cookie), undefined, 'data did not survive (no persistence); the answer is a clean "no session"');
    const again = await manager.create(newSession('alice'));
    t.ok(await manager.get(again.cookie), 'new sessions work again');
    t.ok(await poll(async () => (await peerStore.ping(), true)));
    t.ok(await peer.get(again.cookie), 'cached on the peer');
    // The peer's subscriber re-subscribed after the restart: the revocation still reaches it.
    t.ok(
      await poll(async () => {
        await manager.revoke(again.id);
        return (await peer.get(again.cookie)) === undefined;
      }, 5000),
      'revocation fan-out works after the restart',
    );
  });

  void t.test('a hung Redis (SIGSTOP) is bounded by command_timeout', async (t) => {
    const server = await startRedis();
    t.teardown(async () => {
      server.resume();
      await server.stop();
    });
    const store = new RedisStore(sessionConfig({ url: server.url, command_timeout: '300ms' }).redis);
    t.teardown(() => store.close());
    await store.set('k', 'v', 60_000);
    server.pause();
    t.ok(unavailable(await rejection(store.get('k'))), 'STORE_UNAVAILABLE instead of hanging');
    server.resume();
    t.ok(await poll(async () => (await store.get('k')) === 'v'), 'answers again when the server does');
  });

  void t.test('a client that ioredis gave up on ("end") is started again', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.stop());
    const store = new RedisStore(sessionConfig({ url: server.url }).redis);
    t.teardown(() => store.close());
    await store.set('k', 'v', 60_000);
    const client = (store as unknown as { client: { disconnect(): void; status: string } }).client;
    client.disconnect(); // what ioredis does to itself in the Sentinel race: status 'end', no more retries
    t.ok(unavailable(await rejection(store.get('k'))), 'fails fast meanwhile');
    t.ok(await poll(async () => (await store.get('k')) === 'v'), 'recovers by itself');
  });

  void t.test('Redis not there at start: STORE_UNAVAILABLE, then connects when it appears', async (t) => {
    const port = await freePort();
    const store = new RedisStore(sessionConfig({ url: `redis://127.0.0.1:${port}/0`, connect_timeout: '300ms' }).redis);
    t.teardown(() => store.close());
    t.ok(unavailable(await rejection(store.get('k'))));
    const server = await startRedis({ port });
    t.teardown(() => server.stop());
    t.ok(await poll(async () => (await store.set('k', 'v', 1000), true)), 'connected by itself');
    t.equal(await store.get('k'), 'v');
  });
  t.end();
});

function sentinelManager(t: Test, setup: SentinelSetup) {
  const config = sessionConfig({ sentinel: { master_name: setup.masterName, nodes: setup.sentinels }, command_timeout: '1s', connect_timeout: '1s' });
  const store = new RedisStore(config.redis);
  t.teardown(() => store.close());
  const clock = new ManualClock();
  const manager = new SessionManager(store, config, { clock });
  t.teardown(() => manager.close());
  /** Polls until a new session's record lands on `port` (the client follows the new master). */
  const writesReach = (port: number) =>
    poll(async () => {
      const s = await manager.create(newSession('probe'));
      return (await rawCommand(port, `EXISTS portcullis:session:${s.ref}`)).startsWith(':1');
    }, 20_000);
  /** Polls until the session record has reached the master's replica (the precondition of a lossless failover). */
  const replicated = async (ref: string) => {
    const info = await rawCommand(await setup.masterPort(), 'INFO replication');
    const replica = Number(/slave0:.*port=(\d+)/.exec(info)?.[1]);
    return poll(async () => (await rawCommand(replica, `EXISTS portcullis:session:${ref}`)).startsWith(':1'), 10_000);
  };
  return { manager, clock, writesReach, replicated };
}

void t.test('Sentinel: SENTINEL FAILOVER keeps sessions working', { skip: !redisAvailable() && 'redis-server is not on PATH' }, async (t) => {
  const setup = await startSentinelSetup();
  t.teardown(() => setup.stop());
  const { manager, clock, writesReach, replicated } = sentinelManager(t, setup);
  const s = await manager.create(newSession('alice'));
  const before = await setup.masterPort();
  t.ok(await replicated(s.ref), 'replicated');

  const after = await setup.failover();
  t.not(after, before, 'the replica is the new master');
  clock.advance(2000); // past the cache: answers must come from Redis
  t.ok(await poll(async () => (await manager.get(s.cookie))?.session.user === 'alice', 20_000), 'the session survives the switch');
  t.ok(await writesReach(after), 'new sessions are written to the new master');
  t.match(await rawCommand(after, `EXISTS portcullis:session:${s.ref}`), /^:1/, 'the old session is on the new master');
});

void t.test('Sentinel: a master crash keeps sessions working', { skip: !redisAvailable() && 'redis-server is not on PATH' }, async (t) => {
  const setup = await startSentinelSetup();
  t.teardown(() => setup.stop());
  const { manager, clock, writesReach, replicated } = sentinelManager(t, setup);
  const s = await manager.create(newSession('carol'));
  const before = await setup.masterPort();
  t.ok(await replicated(s.ref), 'replicated');
  const after = await setup.killMaster();
  t.not(after, before);
  clock.advance(2000);
  t.ok(await poll(async () => (await manager.get(s.cookie))?.session.user === 'carol', 20_000), 'the session survives the crash');
  t.ok(await writesReach(after), 'writes go to the promoted replica');
});

void t.test('Cluster: sessions across slots, revocation fan-out', { skip: (!redisAvailable() || !redisCliAvailable()) && 'redis-server/redis-cli are not on PATH' }, async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const config = sessionConfig({ cluster: { nodes: cluster.nodes } });
  const storeA = new RedisStore(config.redis);
  const storeB = new RedisStore(config.redis);
  t.teardown(() => Promise.all([storeA.close(), storeB.close()]));
  const clock = new ManualClock();
  const a = new SessionManager(storeA, config, { clock });
  const b = new SessionManager(storeB, config, { clock });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await b.ready;
  const sessions: Awaited<ReturnType<SessionManager["create"]>>[] = [];
  for (let i = 0; i < 30; i++) sessions.push(await a.create(newSession(`user${i % 5}`)));
  for (const s of sessions) t.equal((await b.get(s.cookie))?.id, s.id);
  const perNode = await Promise.all(cluster.nodes.map(async (n) => Number((await rawCommand(Number(n.split(':')[1]), 'DBSIZE')).slice(1))));
  t.ok(perNode.filter((n) => n > 0).length >= 2, `keys spread over nodes: ${perNode.join(',')}`);
  t.equal((await a.list()).length, 30);
  t.equal(await a.revokeUser('user0'), 6);
  const revoked = sessions.filter((s) => s.session.user === 'user0');
  t.ok(await poll(async () => (await Promise.all(revoked.map((s) => b.get(s.cookie)))).every((r) => r === undefined), 2000), 'seen on b');
  const rotated = await a.rotate(sessions[1]!.id, { level: 'two_factor' });
  t.equal((await b.get(rotated.cookie))?.session.level, 'two_factor');
  t.ok(await poll(async () => (await b.get(sessions[1]!.cookie)) === undefined, 2000));
  t.ok((await a.revokeAll()) >= 23);
  t.same(await b.list(), []);
});
