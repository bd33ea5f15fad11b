import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserDirectory, UserRecord } from './directory.js';
import { isOutcomeDirectory, type AuthOutcome, type OutcomeDirectory } from './outcome.js';
import { isSupportedHash, type PasswordVerifier } from './password.js';

/** Directories whose passwords a set-password invite may replace (LDAP passwords live in LDAP). */
export const OVERRIDABLE_SOURCES: ReadonlySet<string> = new Set(['file']);

/**
 * Passwords set through an invite link (seed 001), kept in the runtime store as `pwd:<user>` (a PHC
 * hash, no expiry). They win over the users file's hash for that user, until cleared.
 */
export class PasswordOverrides {
  constructor(private readonly store: KeyValueStore) {}

  async set(user: string, hash: string): Promise<void> {
    if (!isSupportedHash(hash)) throw new TypeError('not a supported password hash');
    await this.store.set(key(user), hash, 0);
  }

  async get(user: string): Promise<string | null> {
    if (typeof user !== 'string' || user.length === 0 || user.length > 256) return null;
    return this.store.get(key(user));
  }

  async clear(user: string): Promise<void> {
    await this.store.del(key(user));
  }
}

function key(user: string): string {
  return `pwd:${userKey(user)}`;
}

/**
 * The directory chain with invite-set passwords in front: for a user the inner directory knows (from
 * the users file) who has an override, the override's hash is checked instead of the file's; everyone
 * else is the inner directory's business. Lookups, checks and closing are delegated.
 */
export class OverridingDirectory implements OutcomeDirectory {
  readonly name: string;

  constructor(
    readonly inner: UserDirectory,
    readonly overrides: PasswordOverrides,
    private readonly verifier: PasswordVerifier,
  ) {
    this.name = inner.name;
  }

  async verify(username: string, password: string): Promise<AuthOutcome> {
    const hash = await this.overrides.get(username);
    if (hash === null) return this.delegate(username, password);
    const user = await this.inner.lookup(username);
    // The user left the file (or moved to LDAP): the override no longer applies.
    if (!user || user.username !== username || !OVERRIDABLE_SOURCES.has(user.source)) return this.delegate(username, password);
    const ok = await this.verifier.verify(user.disabled ? undefined : hash, password);
    if (user.disabled) return { status: 'rejected', reason: 'disabled' };
    return ok ? { status: 'ok', user } : { status: 'rejected', reason: 'wrong_password' };
  }

  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    const outcome = await this.verify(username, password);
    return outcome.status === 'ok' ? outcome.user : null;
  }

  lookup(username: string): Promise<UserRecord | null> {
    return this.inner.lookup(username);
  }

  check(): Promise<void> {
    return this.inner.check();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async delegate(username: string, password: string): Promise<AuthOutcome> {
    if (isOutcomeDirectory(this.inner)) return this.inner.verify(username, password);
    const user = await this.inner.authenticate(username, password);
    return user ? { status: 'ok', user } : { status: 'rejected', reason: 'wrong_password' };
  }
}
