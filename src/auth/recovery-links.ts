import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { OneTimeTokens, type TokenLookup } from './one-time-tokens.js';

/** Wrong passwords on one reset link before it stops working. */
export const MAX_RESET_FAILURES = 5;

/**
 * Second-factor reset links (seed 004): `/recover` mails `<public_url><portal_prefix>/recover/<token>`
 * (TTL `second_factor.recovery.link_ttl`); the link, with the user's password, removes their second
 * factors. Stored as `recover:<hmac of the token>`; a new link replaces the user's previous one, and
 * MAX_RESET_FAILURES wrong passwords use a link up.
 */
export class RecoveryLinks {
  private readonly tokens: OneTimeTokens;

  constructor(store: KeyValueStore, key: Buffer, clock: Clock, random?: Random) {
    this.tokens = new OneTimeTokens(store, 'recover', key, clock, random);
  }

  create(user: string, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    return this.tokens.create(user, ttlMs);
  }

  /** Withdraws the user's outstanding link ("this wasn't me"). */
  revokeUser(user: string): Promise<boolean> {
    return this.tokens.revokeUser(user);
  }

  peek(token: string): Promise<TokenLookup> {
    return this.tokens.peek(token);
  }

  consume(token: string): Promise<TokenLookup> {
    return this.tokens.consume(token);
  }

  /** A wrong password on the link's page; answers whether the link still works. */
  async failed(hash: string): Promise<boolean> {
    return (await this.tokens.fail(hash, MAX_RESET_FAILURES)) < MAX_RESET_FAILURES;
  }
}

export function recoveryPath(prefix: string, token: string): string {
  return `${prefix}/recover/${encodeURIComponent(token)}`;
}
