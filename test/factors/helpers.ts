import { pino } from 'pino';
import { configSchema, type Config, type ConfigInput } from '../../src/config/schema/index.js';
import { createDelivery } from '../../src/delivery/index.js';
import { createFactors } from '../../src/factors/registry.js';
import { Keyring } from '../../src/keys/keyring.js';
import { cryptoRandom } from '../../src/util/random.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { redisAvailable, startRedis } from '../fixtures/redis.js';

/** A parsed config with only the sections a test sets (session secret filled in). */
export function config(input: Omit<ConfigInput, 'session'> = {}): Config {
  return configSchema.parse({ session: { secret: 's'.repeat(32), store: 'memory' }, ...input });
}

export function secondFactor(input: NonNullable<ConfigInput['second_factor']> = {}): Config['second_factor'] {
  return config({ second_factor: input }).second_factor;
}

/** A MemoryStore on a ManualClock, closed at teardown. */
export function memoryStore(t: { teardown(fn: () => unknown): void }): { store: MemoryStore; clock: ManualClock } {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  t.teardown(() => store.close());
  return { store, clock };
}

export const KEY = Buffer.alloc(32, 7);

/**
 * Wraps a store and records every key it is asked about and every value written (to inspect what is
 * kept at rest without reaching into the store's internals).
 */
export function recording<S extends object>(store: S): { store: S; keys: Set<string>; written: string[] } {
  const keys = new Set<string>();
  const written: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof args[0] === 'string' && prop !== 'publish' && prop !== 'subscribe') keys.add(args[0]);
        if (prop === 'del') for (const k of args) keys.add(String(k));
        if (prop === 'set' || prop === 'setAdd') written.push(String(args[1]));
        if (prop === 'hashSet') written.push(...Object.values(args[1] as Record<string, string>));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, keys, written };
}

/**
 * Two RedisStore instances on one real redis-server with the same key prefix: two gateway
 * instances sharing state. Skips (answers undefined) when redis-server is not on PATH.
 */
export async function redisPair(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<{ a: RedisStore; b: RedisStore } | undefined> {
  if (!redisAvailable()) return undefined;
  const server = await startRedis();
  const redis = config({}).session.redis;
  const a = new RedisStore({ ...redis, url: server.url, key_prefix: prefix });
  const b = new RedisStore({ ...redis, url: server.url, key_prefix: prefix });
  t.teardown(async () => {
    await a.close();
    await b.close();
    await server.stop();
  });
  await a.ping();
  await b.ping();
  return { a, b };
}

/** Every factor of a gateway on a MemoryStore with console delivery (codes land in the outbox). */
export function factorsFor(t: { teardown(fn: () => unknown): void }, input: Omit<ConfigInput, 'session'> = {}) {
  const { store, clock } = memoryStore(t);
  const cfg = config(input);
  const delivery = createDelivery(cfg.delivery, { logger: pino({ level: 'silent' }), title: 'Test', clock });
  const built = createFactors({ store, keyring: new Keyring(['k'.repeat(40)]), delivery, clock, random: cryptoRandom, config: () => cfg });
  return { ...built, store, clock, delivery, outbox: delivery.outbox!, config: cfg };
}
