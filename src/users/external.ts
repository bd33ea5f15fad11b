import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserDirectory, UserRecord } from './directory.js';
import { isOutcomeDirectory, type AuthOutcome, type OutcomeDirectory } from './outcome.js';
import type { PasswordVerifier } from './password.js';

/** `source` of a user made from an identity provider's claims: `idp:NAME`. */
export const EXTERNAL_SOURCE_PREFIX = 'idp:';

/** A user who exists only through an identity provider (`users: claims`): no local password. */
export function isExternalUser(user: Pick<UserRecord, 'source'>): boolean {
  return user.source.startsWith(EXTERNAL_SOURCE_PREFIX);
}

/** The provider-qualified user name of a claims user (`entra:alice`). */
export function externalUsername(provider: string, name: string): string {
  return `${provider}:${name}`;
}

/** Which user names belong to `users: claims` providers: `NAME:...` for each of `providers`. */
export function claimsNamespace(providers: Iterable<string>): (username: string) => boolean {
  const names = new Set(providers);
  return (username) => {
    const colon = username.indexOf(':');
    return colon > 0 && names.has(username.slice(0, colon));
  };
}

const MAX_RECORD = 16_384;

/**
 * Users made from an identity provider's claims (`users: claims`), kept in the runtime store as
 * `idp-user:<user>` so the second step, enrolment, the account page and operator commands find them
 * again like directory users. Each sign-in writes the record afresh (groups, email, phone from the
 * latest claims) and restarts its lifetime.
 */
export class ExternalUsers {
  constructor(private readonly store: KeyValueStore) {}

  async save(user: UserRecord, ttlMs: number): Promise<void> {
    if (!isExternalUser(user)) throw new TypeError('only users from an identity provider are kept here');
    await this.store.set(key(user.username), JSON.stringify(user), ttlMs);
  }

  async get(username: string): Promise<UserRecord | null> {
    if (typeof username !== 'string' || username.length === 0 || username.length > 512) return null;
    const raw = await this.store.get(key(username));
    if (raw === null || raw.length > MAX_RECORD) return null;
    try {
      const v = JSON.parse(raw) as Partial<UserRecord> | null;
      if (!v || v.username !== username || typeof v.source !== 'string' || !isExternalUser({ source: v.source }) || !Array.isArray(v.groups)) return null;
      return { ...(v as UserRecord), disabled: false };
    } catch {
      return null;
    }
  }
}

function key(username: string): string {
  return `idp-user:${userKey(username)}`;
}

/**
 * The directory with identity-provider users beside it: a name that `owns` (`NAME:...` of a provider
 * with `users: claims`) is looked up in {@link ExternalUsers} only, and never has a password (a
 * directory user of the same name cannot sign in with one; the check still does the dummy hash work so
 * the answer takes as long as for an unknown user). Everything else goes to the inner directory.
 */
export class ExternalUserDirectory implements OutcomeDirectory {
  readonly name: string;

  constructor(
    readonly inner: UserDirectory,
    private readonly external: ExternalUsers,
    private readonly owns: (username: string) => boolean,
    private readonly verifier: PasswordVerifier,
  ) {
    this.name = inner.name;
  }

  async verify(username: string, password: string): Promise<AuthOutcome> {
    if (this.owns(username)) {
      await this.verifier.verify(undefined, password);
      return { status: 'unknown' };
    }
    if (isOutcomeDirectory(this.inner)) return this.inner.verify(username, password);
    const user = await this.inner.authenticate(username, password);
    return user ? { status: 'ok', user } : { status: 'rejected', reason: 'wrong_password' };
  }

  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    const outcome = await this.verify(username, password);
    return outcome.status === 'ok' ? outcome.user : null;
  }

  lookup(username: string): Promise<UserRecord | null> {
    return this.owns(username) ? this.external.get(username) : this.inner.lookup(username);
  }

  check(): Promise<void> {
    return this.inner.check();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
