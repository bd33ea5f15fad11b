import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import { createRedisClient, duplicateClient, type RedisClient, type RedisConfig } from './redis-client.js';
import { EXPIRE_OR_PERSIST, HASH_INCR_EXISTING, HASH_SET_TTL, INCR_WINDOW, SET_ADD_TTL, runScript } from './redis-scripts.js';
import type { KeyValueStore } from './store.js';

function unavailable(cause?: unknown): PortcullisError {
  if (isPortcullisError(cause)) return cause;
  return new PortcullisError('PORTCULLIS_ERR_STORE_UNAVAILABLE', 'The session store is unavailable', { cause });
}

/**
 * ioredis gives up for good ('end') in a few races (a Sentinel failover detected while a reconnect is
 * resolving the master): start over, so the store always recovers by itself.
 */
function keepAlive(client: RedisClient, isClosed: () => boolean): void {
  client.on('end', () => {
    if (isClosed()) return;
    const timer = setTimeout(() => {
      if (!isClosed() && client.status === 'end') client.connect().catch(() => {});
    }, 500);
    timer.unref();
  });
}

function ready(client: RedisClient): boolean {
  return client.status === 'ready';
}

/** Tracks whether a client has finished its first connection attempt (ok or not). */
function firstAttempt(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      client.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    client.on('ready', done);
    client.on('error', done);
    client.on('close', done);
  });
}

/**
 * KeyValueStore on Redis (single node, Sentinel or Cluster) via ioredis. Every key and channel is
 * prefixed with `key_prefix`; every operation touches one key, so it is Cluster-safe. Fail-fast: while
 * Redis is unreachable each call throws STORE_UNAVAILABLE at once (or after command_timeout for a
 * hung server); the client keeps reconnecting, and the store recovers by itself.
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly firstConnect: Promise<void>;
  private subscriber: RedisClient | undefined;
  private subscriberFirstConnect: Promise<void> = Promise.resolve();
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private closed = false;
  private down = false;

  constructor(
    private readonly config: RedisConfig,
    private readonly logger?: Logger,
  ) {
    this.prefix = config.key_prefix;
    this.client = createRedisClient(config);
    this.firstConnect = firstAttempt(this.client, config.connect_timeout);
    keepAlive(this.client, () => this.closed);
    this.client.on('error', (err: Error) => {
      if (!this.down) this.logger?.warn({ err: { message: err.message } }, 'session store: redis connection error');
      this.down = true;
    });
    this.client.on('close', () => {
      if (!this.down && !this.closed) this.logger?.warn('session store: redis connection lost; reconnecting');
      this.down = true;
    });
    this.client.on('ready', () => {
      if (this.down) this.logger?.info('session store: redis connection restored');
      this.down = false;
    });
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  /** Runs a command: waits only for the very first connection; afterwards fails fast while disconnected. */
  private async run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.closed) throw unavailable(new Error('store closed'));
    if (!ready(this.client)) {
      await this.firstConnect;
      if (!ready(this.client)) throw unavailable(new Error(`redis connection is ${this.client.status}`));
    }
    try {
      return await fn(this.client);
    } catch (err) {
      throw unavailable(err);
    }
  }

  get(key: string): Promise<string | null> {
    return this.run((c) => c.get(this.k(key)));
  }

  set(key: string, value: string, ttlMs: number, options?: { onlyIfAbsent?: boolean }): Promise<boolean> {
    return this.run(async (c) => {
      const k = this.k(key);
      const ttl = Math.ceil(ttlMs);
      let reply: string | null;
      if (ttl > 0) reply = options?.onlyIfAbsent ? await c.set(k, value, 'PX', ttl, 'NX') : await c.set(k, value, 'PX', ttl);
      else reply = options?.onlyIfAbsent ? await c.set(k, value, 'NX') : await c.set(k, value);
      return reply === 'OK';
    });
  }

  getDel(key: string): Promise<string | null> {
    return this.run((c) => c.getdel(this.k(key)));
  }

  del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.run(async (c) => {
      // One key per command: keys of one call may live in different cluster slots.
      if (c instanceof Cluster) return (await Promise.all(keys.map((key) => c.del(this.k(key))))).reduce((a, b) => a + b, 0);
      return c.del(...keys.map((key) => this.k(key)));
    });
  }

  ttl(key: string): Promise<number> {
    return this.run((c) => c.pttl(this.k(key)));
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.run(async (c) => (await runScript(c, EXPIRE_OR_PERSIST, this.k(key), [Math.max(0, Math.ceil(ttlMs))])) === 1);
  }

  incr(key: string, windowMs: number): Promise<number> {
    return this.run(async (c) => Number(await runScript(c, INCR_WINDOW, this.k(key), [Math.max(0, Math.ceil(windowMs))])));
  }

  hashSet(key: string, fields: Record<string, string>, ttlMs: number): Promise<void> {
    return this.run(async (c) => {
      await runScript(c, HASH_SET_TTL, this.k(key), [Math.max(0, Math.ceil(ttlMs)), ...Object.entries(fields).flat()]);
    });
  }

  hashGetAll(key: string): Promise<Record<string, string> | null> {
    return this.run(async (c) => {
      const fields = await c.hgetall(this.k(key));
      return Object.keys(fields).length === 0 ? null : fields;
    });
  }

  hashIncr(key: string, field: string, by: number): Promise<{ value: number; fields: Record<string, string> } | null> {
    return this.run(async (c) => {
      const reply = (await runScript(c, HASH_INCR_EXISTING, this.k(key), [field, String(by), Number.isInteger(by) ? 'int' : 'float'])) as
        | [string, string[]]
        | null;
      if (!reply) return null;
      const fields: Record<string, string> = {};
      const flat = reply[1];
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return { value: Number(reply[0]), fields };
    });
  }

  setAdd(key: string, member: string, ttlMs: number): Promise<void> {
    return this.run(async (c) => {
      await runScript(c, SET_ADD_TTL, this.k(key), [Math.max(0, Math.ceil(ttlMs)), member]);
    });
  }

  setRemove(key: string, member: string): Promise<void> {
    return this.run(async (c) => {
      await c.srem(this.k(key), member);
    });
  }

  setMembers(key: string): Promise<string[]> {
    return this.run((c) => c.smembers(this.k(key)));
  }

  publish(channel: string, message: string): Promise<void> {
    return this.run(async (c) => {
      await c.publish(this.k(channel), message);
    });
  }

  /**
   * Subscribes on a dedicated connection. The handler is registered at once; if Redis is down the
   * subscription is made (and after every reconnect, re-made) as soon as the connection is ready.
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw unavailable(new Error('store closed'));
    const sub = this.ensureSubscriber();
    const full = this.k(channel);
    let set = this.handlers.get(full);
    const isNew = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
    }
    set.add(handler);
    if (isNew) {
      if (!ready(sub)) await this.subscriberFirstConnect;
      if (ready(sub)) await sub.subscribe(full).catch(() => {});
    }
    return async () => {
      const current = this.handlers.get(full);
      if (!current?.delete(handler) || current.size > 0) return;
      this.handlers.delete(full);
      if (sub.status === 'ready') await sub.unsubscribe(full).catch(() => {});
    };
  }

  private ensureSubscriber(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const sub = duplicateClient(this.client);
    this.subscriberFirstConnect = firstAttempt(sub, this.config.connect_timeout);
    keepAlive(sub, () => this.closed);
    sub.on('error', () => {}); // the main client logs connection trouble
    sub.on('ready', () => {
      const channels = [...this.handlers.keys()];
      if (channels.length > 0) sub.subscribe(...channels).catch(() => {});
    });
    sub.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (err) {
          this.logger?.error({ err }, 'session store: subscriber handler failed');
        }
      }
    });
    this.subscriber = sub;
    return sub;
  }

  async ping(): Promise<void> {
    await this.run((c) => c.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const clients = [this.client, this.subscriber].filter((c): c is RedisClient => c !== undefined);
    await Promise.all(
      clients.map(async (c) => {
        try {
          if (c.status === 'ready') await c.quit();
        } catch {
          // closing anyway
        }
        // Also ends what quit() leaves behind (Sentinel failover detector, pending reconnect timers).
        c.disconnect();
      }),
    );
  }

  /** For diagnostics and tests: the configured prefix. */
  get keyPrefix(): string {
    return this.config.key_prefix;
  }
}
