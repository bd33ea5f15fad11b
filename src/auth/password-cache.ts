/**
 * Remembers successful password checks of HTTP Basic clients for their `cache_ttl`, so a client sending
 * its password on every request does not cost a directory round-trip (or an argon2 hash) each time.
 * Entries are keyed by HMAC-SHA256(random per-process key, user NUL password): the password itself is
 * never stored, and a different password for the same user is a different key. Concurrent checks of
 * the same credentials share one directory call. Consulted only AFTER the regulation check
 * (auth/passwords.ts): a blocked user or client gets no answer from the cache.
 */
import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import { hmacSha256 } from '../util/compare.js';

export const MAX_CACHE_ENTRIES = 10_000;

export class PasswordCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { user: UserRecord; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<UserRecord | null>>();

  constructor(private readonly clock: Clock) {}

  keyFor(user: string, password: string): string {
    return hmacSha256(this.key, `${user}\u0000${password}`).toString('base64');
  }

  get(cacheKey: string): UserRecord | undefined {
    const e = this.entries.get(cacheKey);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return e.user;
  }

  set(cacheKey: string, user: UserRecord, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(cacheKey);
    if (this.entries.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(cacheKey, { user, expiresAt: this.clock.now() + ttlMs });
  }

  forgetUser(username: string): void {
    for (const [k, e] of this.entries) if (e.user.username === username) this.entries.delete(k);
  }

  /** Runs `check` once for concurrent callers with the same key. */
  async shared(cacheKey: string, check: () => Promise<UserRecord | null>): Promise<UserRecord | null> {
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
