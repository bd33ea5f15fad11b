import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { OneTimeTokens, type TokenLookup } from './one-time-tokens.js';

/** Default lifetime of a set-password link (`users.invite_ttl`). */
export const DEFAULT_INVITE_TTL = 7 * 24 * 3_600_000;

/**
 * Set-password invites (seed 001): `portcullis users invite U` makes one, the link
 * `<public_url><portal_prefix>/invite/<token>` sets the password and signs the user in without a code,
 * once. Stored as `invite:<hmac of the token>` with a TTL; a new invite replaces the user's previous one.
 */
export class Invites {
  private readonly tokens: OneTimeTokens;

  /** `key`: the services' `keys.invite` (derived from the session secret). */
  constructor(store: KeyValueStore, key: Buffer, clock: Clock, random?: Random) {
    this.tokens = new OneTimeTokens(store, 'invite', key, clock, random);
  }

  create(user: string, ttlMs: number = DEFAULT_INVITE_TTL): Promise<{ token: string; expiresAt: number }> {
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
}

/** The path of an invite link under the portal prefix. */
export function invitePath(prefix: string, token: string): string {
  return `${prefix}/invite/${encodeURIComponent(token)}`;
}
