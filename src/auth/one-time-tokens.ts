import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { hmacSha256 } from '../util/compare.js';
import { cryptoRandom, randomToken, type Random } from '../util/random.js';

/** 32 random bytes, base64url without padding. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** How long an expired or used token is still recognised as such (a clear "expired" instead of "unknown"). */
const AFTERLIFE = 24 * 3_600_000;

export type TokenStatus = 'valid' | 'expired' | 'used' | 'unknown';

export type TokenLookup = { status: 'valid'; user: string; expiresAt: number; hash: string } | { status: Exclude<TokenStatus, 'valid'> };

interface TokenRecord {
  u: string;
  x: number;
}

/**
 * Emailed or printed one-time tokens bound to a user (set-password invites, second-factor reset links).
 * Only the HMAC of a token is stored (`<ns>:<hmac>`, a TTL slightly past its expiry), so a read of the
 * store never yields a usable link. A user has at most one live token per namespace (`<ns>:u:<user>`):
 * a new one replaces the old. Consuming is atomic (getDel): one caller wins. A consumed token leaves a
 * tombstone so a second use is told "already used" rather than "unknown".
 */
export class OneTimeTokens {
  constructor(
    private readonly store: KeyValueStore,
    private readonly namespace: string,
    private readonly key: Buffer,
    private readonly clock: Clock,
    private readonly random: Random = cryptoRandom,
  ) {
    if (key.length < 16) throw new TypeError('OneTimeTokens needs a key of at least 16 bytes');
  }

  async create(user: string, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    if (!(ttlMs > 0)) throw new RangeError('the token lifetime must be > 0');
    const token = randomToken(TOKEN_BYTES, this.random);
    const hash = this.hash(token);
    const expiresAt = this.clock.now() + ttlMs;
    const record: TokenRecord = { u: user, x: expiresAt };
    const index = this.indexKey(user);
    const previous = await this.store.getDel(index);
    if (previous !== null && /^[0-9a-f]{64}$/.test(previous)) await this.store.del(this.recordKey(previous));
    await this.store.set(this.recordKey(hash), JSON.stringify(record), ttlMs + AFTERLIFE);
    await this.store.set(index, hash, ttlMs + AFTERLIFE);
    return { token, expiresAt };
  }

  /** Withdraws the user's live token, if any (answers whether there was one): the link stops working. */
  async revokeUser(user: string): Promise<boolean> {
    const hash = await this.store.getDel(this.indexKey(user));
    if (hash === null || !/^[0-9a-f]{64}$/.test(hash)) return false;
    return (await this.store.del(this.recordKey(hash))) > 0;
  }

  /** What the token is, without using it up. */
  async peek(token: string): Promise<TokenLookup> {
    if (!wellFormed(token)) return { status: 'unknown' };
    const hash = this.hash(token);
    const raw = await this.store.get(this.recordKey(hash));
    if (raw === null) return this.gone(hash);
    const record = parse(raw);
    if (!record) return { status: 'unknown' };
    if (record.x <= this.clock.now()) return { status: 'expired' };
    return { status: 'valid', user: record.u, expiresAt: record.x, hash };
  }

  /** Uses the token up; only one of several concurrent callers gets `valid`. */
  async consume(token: string): Promise<TokenLookup> {
    if (!wellFormed(token)) return { status: 'unknown' };
    const hash = this.hash(token);
    const raw = await this.store.getDel(this.recordKey(hash));
    if (raw === null) return this.gone(hash);
    const record = parse(raw);
    if (!record) return { status: 'unknown' };
    const now = this.clock.now();
    await this.store.set(this.usedKey(hash), '1', Math.max(record.x - now, 0) + AFTERLIFE);
    const index = this.indexKey(record.u);
    if ((await this.store.get(index)) === hash) await this.store.del(index);
    if (record.x <= now) return { status: 'expired' };
    return { status: 'valid', user: record.u, expiresAt: record.x, hash };
  }

  /**
   * Counts a failed use of a live token (a wrong password on the reset step); at `max` the token is
   * used up. Answers the failures so far.
   */
  async fail(hash: string, max: number): Promise<number> {
    const raw = await this.store.get(this.recordKey(hash));
    const record = raw === null ? undefined : parse(raw);
    const window = record ? Math.max(record.x - this.clock.now(), 1000) : 1000;
    const n = await this.store.incr(`${this.namespace}:f:${hash}`, window);
    if (n >= max && (await this.store.getDel(this.recordKey(hash))) !== null) {
      await this.store.set(this.usedKey(hash), '1', window + AFTERLIFE);
    }
    return n;
  }

  private async gone(hash: string): Promise<TokenLookup> {
    return (await this.store.get(this.usedKey(hash))) !== null ? { status: 'used' } : { status: 'unknown' };
  }

  private hash(token: string): string {
    return hmacSha256(this.key, `${this.namespace}\0${token}`).toString('hex');
  }

  private recordKey(hash: string): string {
    return `${this.namespace}:${hash}`;
  }

  private usedKey(hash: string): string {
    return `${this.namespace}:used:${hash}`;
  }

  private indexKey(user: string): string {
    return `${this.namespace}:u:${userKey(user)}`;
  }
}

function wellFormed(token: string): boolean {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

function parse(raw: string): TokenRecord | undefined {
  try {
    const v = JSON.parse(raw) as Partial<TokenRecord>;
    return typeof v.u === 'string' && v.u.length > 0 && typeof v.x === 'number' ? { u: v.u, x: v.x } : undefined;
  } catch {
    return undefined;
  }
}
