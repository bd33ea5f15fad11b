import type { FactorMethod } from '../config/schema/index.js';
import type { UserRecord } from '../users/directory.js';
import type { Charset } from './charsets.js';
import type { FactorStateRecord } from './enrolment.js';

/**
 * What a factor is to a user:
 * - `secret`: a credential the user holds (authenticator app, passkey); enrolling one turns two-step
 *   verification on under policy `optional`;
 * - `destination`: a code sent to an address (email, SMS), from the directory or verified by the user;
 * - `backup`: only ever offered beside a primary method (recovery codes).
 */
export type FactorKind = 'secret' | 'destination' | 'backup';

/** A method the user can use now. */
export interface Enrolled {
  type: FactorMethod;
  kind: FactorKind;
  /** The delivery address (email or E.164), unmasked: callers mask it before showing it. */
  address?: string;
  /** Where the address comes from: the directory (trusted) or the user (verified by a code). */
  source?: 'directory' | 'user';
  /** Single-use answers left (recovery codes). */
  remaining?: number;
}

/** A challenge to start for one step: the flow it belongs to and where a code goes. */
export interface ChallengeRequest {
  /** Names the challenge (a flow id, or an enrolment's key); a new challenge for it replaces the old. */
  flowId: string;
  user: UserRecord;
  /** Where to send (code factors). */
  address?: string;
  /** An SMS that cannot be sent goes here instead (with `delivery.sms.fallback_to_email`). */
  fallbackEmail?: string;
  lang: string;
  requestId?: string;
}

export type Challenge =
  | { kind: 'none' }
  | { kind: 'sent'; channel: 'email' | 'sms'; address: string; fellBack: boolean };

/** The answer to a response. `invalid` counts against the account's lockout; the others do not. */
export type Verdict =
  | { result: 'ok'; address?: string }
  | { result: 'invalid'; attemptsLeft?: number }
  | { result: 'expired' }
  | { result: 'exhausted' };

/**
 * One second-factor method. Adding a method means one implementation of this interface in `factors/`
 * (registered in `createFactors`) plus its views; the sign-in, enrolment and account use-cases in
 * `auth/` treat every method through it. Each implementation passes test/conformance/factors.test.ts.
 */
export interface SecondFactor {
  readonly method: FactorMethod;
  readonly kind: FactorKind;
  /** RFC 8176 authentication method reference for the session's `amr` and the identity assertion. */
  readonly amr: string;
  /** The security notification sent when the method is used (recovery codes), if any. */
  readonly notifyOnUse?: 'recovery_code_used';
  /** How a typed answer looks (for the code field), or undefined when the answer is not typed. */
  codeFormat(): { length: number; charset: Charset } | undefined;
  /** Whether the user can use this method now, and where its codes go. */
  enrolled(user: UserRecord, state: FactorStateRecord): Promise<Enrolled | undefined>;
  /** Starts a challenge (sends a code); `none` when the user's own device makes the answer. */
  challenge(request: ChallengeRequest): Promise<Challenge>;
  /** Checks a response for `flowId`; a right answer works once. */
  verify(flowId: string, user: string, response: string): Promise<Verdict>;
  /** Removes everything this method keeps for the user (`users reset-2fa`, the account page). */
  remove(user: string): Promise<void>;
}
