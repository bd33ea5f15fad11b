/**
 * Remembers successful HTTP Basic checks for `cache_ttl`, so a client sending its password on every
 * request does not cost a directory round-trip (or an argon2 hash) each time. Entries are keyed by
 * HMAC-SHA256(random per-process key, user NUL password): the password itself is never stored, and a
 * different password for the same user is a different key (a changed password misses the cache).
 * Concurrent checks of the same credentials share one directory call.
 */
import { randomBytes } from 'node:crypto';
import { hmacSha256 } from '../util/compare.js';
import type { Clock } from '../util/clock.js';

export interface BasicIdentity {
  user: string;
  groups: string[];
}

export const MAX_CACHE_ENTRIES = 10_000;

export class BasicAuthCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { identity: BasicIdentity; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<BasicIdentity | null>>();

  constructor(private readonly clock: Clock) {}

  keyFor(user: string, password: string): string {
    return hmacSha256(this.key, `${user}\u0000${password}`).toString('base64');
  }

  get(cacheKey: string): BasicIdentity | undefined {
    const e = this.entries.get(cacheKey);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return e.identity;
  }

  set(cacheKey: string, identity: BasicIdentity, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(cacheKey);
    if (this.entries.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(cacheKey, { identity, expiresAt: this.clock.now() + ttlMs });
  }

  /** Runs `check` once for concurrent callers with the same key. */
  async shared(cacheKey: string, check: () => Promise<BasicIdentity | null>): Promise<BasicIdentity | null> {
    const running = this.inflight.get(cacheKey);
    if (running) return running;
    const p = check().finally(() => this.inflight.delete(cacheKey));
    this.inflight.set(cacheKey, p);
    return p;
  }

  get size(): number {
    return this.entries.size;
  }
}
