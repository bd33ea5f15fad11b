import type { Config, FactorMethod } from '../config/schema/index.js';
import { isE164 } from '../delivery/phone.js';
import { PortcullisError } from '../errors/index.js';
import type { OneTimeCodes } from '../factors/codes.js';
import type { ReverifyGrace } from '../factors/devices.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { RecoveryCodes } from '../factors/recovery-codes.js';
import type { TotpFactor } from '../factors/totp.js';
import type { WebAuthnFactor } from '../factors/webauthn.js';
import type { Metrics } from '../observability/metrics.js';
import type { Regulator } from '../regulation/regulator.js';
import { sessionRef, type SessionData, type SessionManager } from '../session/sessions.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import { isExternalUser } from '../users/external.js';
import type { Clock } from '../util/clock.js';
import type { Notices } from './notices.js';
import type { Passwords } from './passwords.js';
import type { RequestInfo } from './request.js';
import { promoteSession } from './sessions.js';
import type { FoundSession } from './session-lookup.js';

export type DestinationKind = 'email' | 'sms';

/** How recent an identity provider's sign-in must be to stand in for the password (SPEC §2 `sensitive_action_age`'s default). */
export const FRESH_SIGN_IN_MS = 5 * 60_000;

/** Who may use the enrolment pages, decided here alone. */
export type EnrolmentAccess =
  | { kind: 'allowed'; user: UserRecord; forced: boolean }
  | { kind: 'sign_in' }
  | { kind: 'second_step' };

/** A method was set up: the session (promoted when the enrolment was forced) and recovery codes to show once. */
export interface EnrolmentDone {
  method: FactorMethod;
  forced: boolean;
  /** The new session after a forced enrolment (its id rotated): set its cookie. */
  promoted?: { cookie: string; session: SessionData };
  recoveryCodes?: string[];
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A well-formed address or E.164 number as the user typed it (phone separators removed), or undefined. */
export function normalizeDestination(kind: DestinationKind, input: string): string | undefined {
  const v = input.trim();
  if (v.length === 0 || v.length > 254 || [...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return undefined;
  if (kind === 'email') return EMAIL.test(v) ? v : undefined;
  const phone = v.replace(/[\s().-]/g, '');
  return isE164(phone) ? phone : undefined;
}

/** A one-factor session that must set up a second factor before it can finish signing in. */
export function isForcedEnrolment(session: SessionData): boolean {
  return session.level === 'one_factor' && typeof session.enrol === 'string' && session.enrol.length > 0;
}

export interface EnrolmentDeps {
  config: () => Readonly<Config>;
  clock: Clock;
  metrics: Metrics;
  notices: Notices;
  store: KeyValueStore;
  directory: UserDirectory;
  regulator: Regulator;
  passwords: Passwords;
  factors: FactorRegistry;
  totp: TotpFactor;
  webauthn?: WebAuthnFactor;
  recovery: RecoveryCodes;
  codes: OneTimeCodes;
  sessions: SessionManager;
  grace: ReverifyGrace;
}

/**
 * Setting up a second factor (SPEC §3 `/enroll/*`, seeds 001, 003, 004): forced after the password
 * (policy `required`) or from the account page. Decides who may enrol what, checks the password and the
 * first code, verifies user-entered addresses by a code, and finishes an enrolment the same way for
 * every method.
 */
export class Enrolment {
  constructor(private readonly d: EnrolmentDeps) {}

  /** A forced-enrolment session or a two-factor session may enrol; the user must still exist and be enabled. */
  async access(found: FoundSession | undefined): Promise<EnrolmentAccess> {
    if (!found || found.viaBearer) return { kind: 'sign_in' };
    const forced = isForcedEnrolment(found.session);
    if (found.session.level !== 'two_factor' && !forced) return { kind: 'second_step' };
    const user = await this.d.directory.lookup(found.session.user);
    if (!user || user.disabled) {
      await this.d.sessions.revoke(found.id);
      return { kind: 'sign_in' };
    }
    return { kind: 'allowed', user, forced };
  }

  enrollable(user: UserRecord): FactorMethod[] {
    return this.d.factors.enrollable(user);
  }

  /** The same secret until it is confirmed or expires: a reload or a wrong first code keeps the scanned QR valid. */
  async totpSetup(user: UserRecord): Promise<{ secretBase32: string; uri: string; qrSvg: string; replaces: boolean }> {
    const { totp } = this.d;
    const pending = (await totp.pendingEnrolment(user.username, user.username)) ?? (await totp.beginEnrolment(user.username, user.username));
    return { ...pending, replaces: await totp.isEnrolled(user.username) };
  }

  /**
   * Confirms an authenticator app with the password (the one regulated check) and its first code.
   * Throws INVALID_CREDENTIALS, RATE_LIMITED, INVALID_CODE.
   */
  async confirmTotp(found: FoundSession, user: UserRecord, password: string, code: string, info: RequestInfo): Promise<EnrolmentDone> {
    if (this.needsPassword(user)) await this.d.passwords.confirmPassword(user.username, password, info, { event: 'enrolment', method: 'totp', expectedUser: user.username });
    else this.requireFreshSignIn(found, user, info);
    await this.d.regulator.checkCode(info.clientIp);
    if (!code || !(await this.d.totp.confirmEnrolment(user.username, code.slice(0, 64)))) {
      this.d.notices.audit(info, 'enrolment', user.username, 'failure', 'invalid_code', { method: 'totp' });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CODE');
    }
    return this.complete(found, user, 'totp', info);
  }

  /**
   * Passkey registration options (JSON) for a page at `origin`; undefined when passkeys are not
   * offered or the origin is not one the RP ID covers.
   */
  async passkeyOptions(user: UserRecord, origin: string): Promise<string | undefined> {
    const w = this.d.webauthn;
    if (!w || !this.d.factors.get(w.method)) return undefined;
    const options = await w.creationOptions(user, { origin });
    return options ? JSON.stringify(options) : undefined;
  }

  /** Checks the browser's registration response (JSON) and keeps the named passkey. Throws INVALID_CODE. */
  async confirmPasskey(found: FoundSession, user: UserRecord, name: string, credential: string, info: RequestInfo): Promise<EnrolmentDone> {
    const w = this.d.webauthn;
    let parsed: unknown;
    try {
      parsed = credential.length > 0 && credential.length <= 16_384 ? JSON.parse(credential) : undefined;
    } catch {
      parsed = undefined;
    }
    const added = w && this.d.factors.get(w.method) ? await w.finishRegistration(user.username, name, parsed) : undefined;
    if (!added) {
      this.d.notices.audit(info, 'enrolment', user.username, 'failure', 'invalid_credential', { method: 'webauthn' });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CODE');
    }
    return this.complete(found, user, 'webauthn', info, added.name);
  }

  /** Whether setting up an authenticator app asks for the password: not for users who have none (made from an identity provider's claims). */
  needsPassword(user: UserRecord): boolean {
    return !isExternalUser(user);
  }

  /**
   * A user without a local password proves it is them by a recent sign-in at their identity provider
   * instead: the forced enrolment right after it, or a sign-in younger than {@link FRESH_SIGN_IN_MS}.
   * Throws REAUTH_REQUIRED.
   */
  private requireFreshSignIn(found: FoundSession, user: UserRecord, info: RequestInfo): void {
    const age = this.d.clock.now() - found.session.authenticatedAt;
    if (isForcedEnrolment(found.session) || age <= FRESH_SIGN_IN_MS) return;
    this.d.notices.audit(info, 'enrolment', user.username, 'failure', 'reauth_required', { method: 'totp' });
    throw new PortcullisError('PORTCULLIS_ERR_REAUTH_REQUIRED');
  }

  /**
   * Sends a code to an address the user typed (no fallback to another channel) and keeps the address
   * server-side until the code comes back. Throws BAD_REQUEST (details.reason `invalid_destination`),
   * RATE_LIMITED, DELIVERY_FAILED.
   */
  async sendDestinationCode(found: FoundSession, user: UserRecord, kind: DestinationKind, input: string, info: RequestInfo): Promise<{ destination: string }> {
    const destination = normalizeDestination(kind, input);
    if (!destination) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Enter a valid address', { details: { reason: 'invalid_destination' } });
    const factor = this.d.factors.get(kind)!;
    const key = this.keys(found, kind);
    try {
      await factor.challenge({ flowId: key.flow, user, address: destination, lang: info.lang, requestId: info.requestId });
    } catch (err) {
      if (!(err instanceof PortcullisError && err.code === 'PORTCULLIS_ERR_RATE_LIMITED')) {
        this.d.metrics.deliveryFailures.inc({ channel: kind, reason: 'enrolment' });
        this.d.notices.audit(info, 'code_sent', user.username, 'failure', 'enrolment_delivery_failed', { method: kind });
      }
      throw err;
    }
    await this.d.store.set(key.pending, destination, this.d.config().second_factor.code.ttl);
    this.d.metrics.codesSent.inc({ channel: kind });
    this.d.notices.audit(info, 'code_sent', user.username, 'success', 'enrolment', { method: kind });
    return { destination };
  }

  /** The address waiting for its code, if any. */
  async pendingDestination(found: FoundSession, kind: DestinationKind): Promise<string | undefined> {
    return (await this.d.store.get(this.keys(found, kind).pending)) ?? undefined;
  }

  /** Checks the code sent to the new address and saves it as verified. Throws INVALID_CODE, CODE_EXPIRED, RATE_LIMITED. */
  async confirmDestination(found: FoundSession, user: UserRecord, kind: DestinationKind, code: string, info: RequestInfo): Promise<EnrolmentDone & { destination: string }> {
    const key = this.keys(found, kind);
    const destination = await this.d.store.get(key.pending);
    if (destination === null) throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED');
    await this.d.regulator.checkCode(info.clientIp);
    const verdict = await this.d.factors.get(kind)!.verify(key.flow, user.username, code.slice(0, 64));
    if (verdict.result === 'invalid') {
      this.d.notices.audit(info, 'enrolment', user.username, 'failure', 'invalid_code', { method: kind });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CODE', undefined, { details: { attempts_left: verdict.attemptsLeft } });
    }
    await this.d.store.del(key.pending);
    if (verdict.result !== 'ok' || verdict.address !== destination) {
      this.d.notices.audit(info, 'enrolment', user.username, 'failure', 'code_expired', { method: kind });
      throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED');
    }
    if (kind === 'email') await this.d.factors.state.setEmail(user.username, destination, true);
    else await this.d.factors.state.setPhone(user.username, destination, true);
    return { ...(await this.complete(found, user, kind, info)), destination };
  }

  /** Recovery codes of the user's set still unused; undefined when recovery codes are not offered. */
  async recoveryCodesLeft(user: UserRecord): Promise<number | undefined> {
    if (!this.d.factors.get(this.d.recovery.method)) return undefined;
    return this.d.recovery.remaining(user.username);
  }

  /** A new set of recovery codes replaces the old one; shown once. Two-factor sessions only (the caller checked access). */
  async regenerateRecoveryCodes(user: UserRecord, info: RequestInfo): Promise<string[]> {
    if (!this.d.factors.get(this.d.recovery.method)) throw new PortcullisError('PORTCULLIS_ERR_NOT_FOUND');
    const codes = await this.d.recovery.generate(user.username);
    this.d.notices.audit(info, 'recovery_codes_generated', user.username, 'success', undefined, { method: this.d.recovery.method });
    await this.d.notices.user(user, 'new_recovery_codes', info);
    return codes;
  }

  /**
   * A method was just set up and proven. It becomes the preferred method; under policy `optional` it
   * turns two-step verification on. A forced enrolment counts as the second step: the session is
   * promoted and this browser gets the reverify grace. Recovery codes (when offered) are made and shown
   * once: always after a forced enrolment, otherwise when the user has none.
   */
  private async complete(found: FoundSession, user: UserRecord, method: FactorMethod, info: RequestInfo, item?: string): Promise<EnrolmentDone> {
    const { factors, notices } = this.d;
    const cfg = this.d.config().second_factor;
    const forced = isForcedEnrolment(found.session);
    await factors.state.setPreferred(user.username, method);
    if (cfg.policy === 'optional') await factors.state.setOptedIn(user.username, true);
    notices.audit(info, 'factor_enrolled', user.username, 'success', forced ? 'required' : 'voluntary', { method });
    await notices.user(user, 'factor_changed', info, item === undefined ? { method } : { method, item });
    const done: EnrolmentDone = { method, forced };
    if (forced) {
      const now = this.d.clock.now();
      const made = await promoteSession(this.d.sessions, found.id, found.session, method, now);
      done.promoted = { cookie: made.cookie, session: made.session };
      if (info.deviceId) await this.d.grace.record(user.username, info.deviceId);
      this.d.metrics.secondFactor.inc({ method, result: 'success' });
      notices.audit(info, 'second_factor', user.username, 'success', 'enrolment', { method });
    }
    const recovery = factors.get(this.d.recovery.method);
    if (recovery && (forced || (await this.d.recovery.remaining(user.username)) === 0)) {
      done.recoveryCodes = await this.d.recovery.generate(user.username);
      notices.audit(info, 'recovery_codes_generated', user.username, 'success', undefined, { method: this.d.recovery.method });
    }
    return done;
  }

  /** Per session and kind: the code's challenge key and where the address waiting for its code is kept. */
  private keys(found: FoundSession, kind: DestinationKind): { flow: string; pending: string } {
    const ref = sessionRef(found.id);
    return { flow: `enrol:${ref}`, pending: `enrol-pending:${ref}:${kind}` };
  }
}
