import type { UserDirectory, UserRecord } from './directory.js';

/**
 * What a directory concluded about a sign-in, for the chain and for audit logs (never shown to the user,
 * who sees one generic failure). `unknown` lets the chain ask the next directory; `rejected` stops it.
 */
export type AuthOutcome =
  | { status: 'ok'; user: UserRecord }
  | { status: 'unknown' }
  | { status: 'rejected'; reason: 'wrong_password' | 'disabled' | 'no_password' | 'empty_password' | 'ambiguous' };

/** A directory that can say whether it knows the user, as well as whether the password is right. */
export interface OutcomeDirectory extends UserDirectory {
  verify(username: string, password: string): Promise<AuthOutcome>;
}

export function isOutcomeDirectory(dir: UserDirectory): dir is OutcomeDirectory {
  return typeof (dir as Partial<OutcomeDirectory>).verify === 'function';
}
