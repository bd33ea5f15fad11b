import type { FactorMethod } from '../config/schema/index.js';

/** A person as the directories know them. Delivery details here are trusted (SPEC §6). */
export interface UserRecord {
  username: string;
  displayName?: string | undefined;
  email?: string | undefined;
  /** E.164. */
  phone?: string | undefined;
  groups: string[];
  disabled: boolean;
  /** Per-user override from the users file. */
  secondFactor?: { method?: FactorMethod | undefined; enabled?: boolean | undefined } | undefined;
  /** Which directory answered: 'file', 'ldap', or 'idp:NAME' for a user made from identity provider NAME's claims. */
  source: string;
}

export interface UserDirectory {
  readonly name: string;
  /**
   * Checks the password. Answers the user on success and null for an unknown user, a wrong password
   * or a disabled account (callers cannot tell which, by content or timing). Throws
   * PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE') when the directory cannot answer.
   */
  authenticate(username: string, password: string): Promise<UserRecord | null>;
  /** The user without a password check (sessions refresh groups, operators run commands). */
  lookup(username: string): Promise<UserRecord | null>;
  /** Start-up check: throws with a clear message when the directory is unusable. */
  check(): Promise<void>;
  close(): Promise<void>;
}
