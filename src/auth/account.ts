import type { Config, FactorMethod } from '../config/schema/index.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { PasskeySummary, WebAuthnFactor } from '../factors/webauthn.js';
import { sessionRef, type SessionManager } from '../session/sessions.js';
import type { SessionData } from '../session/session-data.js';
import type { UserRecord } from '../users/directory.js';
import { sha256Hex } from '../util/compare.js';
import type { Notices } from './notices.js';
import type { RequestInfo } from './request.js';
import type { UserRevocation } from './revocation.js';
import type { FoundSession } from './session-lookup.js';
import type { UserDirectory } from '../users/directory.js';

/** One listed method: the directory's addresses cannot be removed here, the user's own can. */
export interface AccountMethod {
  type: FactorMethod;
  /** Unmasked address, or undefined for app-held secrets. */
  address?: string;
  source?: 'directory' | 'user';
  removable: boolean;
  /** Recovery codes left. */
  remaining?: number;
}

export interface AccountOverview {
  user: UserRecord;
  methods: AccountMethod[];
  devices: Array<{ id: string; name: string; ip: string; lastUsedAt: number; current: boolean }>;
  sessions: Array<{ ref: string; ip: string; userAgent: string; createdAt: number; lastSeenAt: number; current: boolean; level: string; factors: string[]; api: boolean }>;
  /** Policy `optional` and no operator choice: the user may turn two-step verification on or off. */
  canOptIn: boolean;
  canOptOut: boolean;
  enrollable: FactorMethod[];
  /** The user's passkeys, each with its name and dates (passkeys offered, else empty). */
  passkeys: PasskeySummary[];
}

export type AccountAccess = { kind: 'allowed'; user: UserRecord } | { kind: 'sign_in' } | { kind: 'second_step' } | { kind: 'enrol' };

/**
 * Whether a change to the user's own credentials needs a fresh second factor first
 * (`second_factor.sensitive_action_age`): a session whose last second factor is older — or that was let in
 * by a trusted device, which is not a factor — is sent through step-up. Sessions of users who need no
 * second factor, and enrolments during sign-in, are not.
 */
export function needsFreshFactor(session: SessionData, maxAge: number, now: number): boolean {
  if (maxAge <= 0 || session.secondFactorExempt || session.level !== 'two_factor') return false;
  const at = session.secondFactorAt ?? 0;
  return now - at > maxAge;
}

/**
 * The signed-in user's own account (SPEC §3 `/account`): what is listed, and every change a user may
 * make — remove a method (never the last one under policy `required`), a trusted device or another
 * session, turn two-step verification off (policy `optional`), sign out (here or everywhere).
 */
export class Account {
  constructor(
    private readonly d: {
      config: () => Readonly<Config>;
      directory: UserDirectory;
      factors: FactorRegistry;
      devices: TrustedDevices;
      grace: ReverifyGrace;
      sessions: SessionManager;
      notices: Notices;
      revocation: UserRevocation;
      /** Passkeys: listed one by one, renamed and removed singly. */
      webauthn?: WebAuthnFactor;
    },
  ) {}

  /** The passkey factor, when passkeys are offered. */
  private passkeyFactor(): WebAuthnFactor | undefined {
    const w = this.d.webauthn;
    return w && this.d.factors.get(w.method) ? w : undefined;
  }

  /** Only a browser session that finished signing in, of a user who still exists and is enabled. */
  async access(found: FoundSession | undefined): Promise<AccountAccess> {
    if (!found || found.viaBearer) return { kind: 'sign_in' };
    if (found.session.level !== 'two_factor') return found.session.enrol ? { kind: 'enrol' } : { kind: 'second_step' };
    const user = await this.d.directory.lookup(found.session.user);
    if (!user || user.disabled) {
      await this.d.sessions.revoke(found.id);
      return { kind: 'sign_in' };
    }
    return { kind: 'allowed', user };
  }

  async overview(user: UserRecord, current: FoundSession, deviceId: string | undefined): Promise<AccountOverview> {
    const { factors } = this.d;
    const snap = await factors.snapshot(user);
    const methods: AccountMethod[] = [];
    for (const f of factors.offered()) {
      const e = snap.enrolled.find((x) => x.type === f.method);
      if (f.kind === 'destination') {
        const directory = f.method === 'email' ? user.email : user.phone;
        if (directory) methods.push({ type: f.method, address: directory, source: 'directory', removable: false });
        const own = f.method === 'email' ? snap.state.email : snap.state.phone;
        const ownAddress = own && ('address' in own ? own.address : own.number);
        if (own?.verified && ownAddress && ownAddress !== directory) methods.push({ type: f.method, address: ownAddress, source: 'user', removable: true });
      } else if (e && f.kind === 'backup') {
        methods.push({ type: f.method, removable: false, remaining: e.remaining ?? 0 });
      } else if (e) {
        methods.push({ type: f.method, removable: true });
      }
    }
    const currentDevice = deviceId ? deviceRef(deviceId) : undefined;
    const devices = (await this.d.devices.list(user.username)).map((d) => ({ id: d.id, name: d.name, ip: d.ip, lastUsedAt: d.lastUsedAt, current: d.id === currentDevice }));
    const currentRef = sessionRef(current.id);
    const sessions = (await this.d.sessions.list(user.username))
      // A browser that has only passed the password step is not a session of the user's (SPEC §3).
      .filter((x) => x.session.level === 'two_factor' || x.id === currentRef)
      .map((x) => ({
        ref: x.id,
        ip: x.session.clientIp ?? '',
        userAgent: x.session.userAgent ?? '',
        createdAt: x.session.createdAt,
        lastSeenAt: x.session.lastSeenAt,
        current: x.id === currentRef,
        api: x.session.apiToken === true,
        level: x.session.level,
        factors: x.session.factors.map((f) => f.method),
      }))
      .sort((a, b) => Number(b.current) - Number(a.current) || b.createdAt - a.createdAt);
    const optional = this.d.config().second_factor.policy === 'optional' && factors.operatorMethod(user) === undefined && user.secondFactor?.enabled !== false;
    return {
      user,
      methods,
      devices,
      sessions,
      canOptIn: optional && !snap.resolution.required,
      canOptOut: optional && snap.resolution.required,
      enrollable: factors.enrollable(user),
      passkeys: (await this.passkeyFactor()?.list(user.username)) ?? [],
    };
  }

  /**
   * Removes a method the user set up. Answers `last_method` (and changes nothing) when it is the last
   * usable method and the policy is `required`; `not_found` for what the user does not have.
   * `only.passkey`: the user's one remaining passkey is what goes (removePasskey).
   */
  async removeMethod(user: UserRecord, method: string, info: RequestInfo, only?: { passkey: PasskeySummary }): Promise<'removed' | 'last_method' | 'not_found'> {
    const { factors, notices } = this.d;
    const factor = factors.get(method);
    if (!factor || factor.kind === 'backup') return 'not_found';
    const snap = await factors.snapshot(user);
    const own = factor.kind === 'destination' ? (factor.method === 'email' ? snap.state.email : snap.state.phone) : undefined;
    const has = factor.kind === 'destination' ? own !== undefined : snap.enrolled.some((e) => e.type === factor.method);
    if (!has) return 'not_found';
    const state = { ...snap.state };
    if (factor.method === 'email') delete state.email;
    if (factor.method === 'sms') delete state.phone;
    const remaining = [];
    for (const f of factors.offered()) {
      const e = f.method === factor.method && factor.kind !== 'destination' ? undefined : await f.enrolled(user, state);
      if (e) remaining.push(e);
    }
    const after = factors.resolve(user, state, remaining);
    const extra = only ? { credential: only.passkey.id.slice(0, 16) } : {};
    if (this.d.config().second_factor.policy === 'required' && after.required && after.mustEnrol && !snap.resolution.mustEnrol) {
      notices.audit(info, 'factor_removed', user.username, 'failure', 'last_method', { method, ...extra });
      return 'last_method';
    }
    if (only) await this.passkeyFactor()?.removeOne(user.username, only.passkey.id);
    else await factor.remove(user.username);
    notices.audit(info, 'factor_removed', user.username, 'success', undefined, { method, ...extra });
    await notices.user(user, 'factor_changed', info, { method, change: 'removed', ...(only ? { item: only.passkey.name } : {}) });
    return 'removed';
  }

  /**
   * Removes one passkey (by credential id). The user's last passkey follows the rule of every method:
   * not when it is their last method under policy `required` (`last_method`, nothing changed).
   */
  async removePasskey(user: UserRecord, id: string, info: RequestInfo): Promise<'removed' | 'last_method' | 'not_found'> {
    const w = this.passkeyFactor();
    const list = w ? await w.list(user.username) : [];
    const passkey = list.find((p) => p.id === id);
    if (!w || !passkey) return 'not_found';
    if (list.length === 1) return this.removeMethod(user, w.method, info, { passkey });
    if (!(await w.removeOne(user.username, id))) return 'not_found';
    this.d.notices.audit(info, 'factor_removed', user.username, 'success', undefined, { method: w.method, credential: id.slice(0, 16) });
    await this.d.notices.user(user, 'factor_changed', info, { method: w.method, change: 'removed', item: passkey.name });
    return 'removed';
  }

  /** Renames one of the user's passkeys; false for an unknown id or an empty name. */
  async renamePasskey(user: UserRecord, id: string, name: string, info: RequestInfo): Promise<boolean> {
    const w = this.passkeyFactor();
    if (!w || !(await w.rename(user.username, id, name))) return false;
    this.d.notices.audit(info, 'passkey_renamed', user.username, 'success', undefined, { method: w.method, credential: id.slice(0, 16) });
    return true;
  }

  /** Forgets a trusted device (by the short reference from the list); this browser's reverify grace ends too. */
  async removeDevice(user: UserRecord, id: string, deviceId: string | undefined, info: RequestInfo): Promise<boolean> {
    if (!(await this.d.devices.revoke(user.username, id.slice(0, 64)))) return false;
    if (deviceId && deviceRef(deviceId) === id) await this.d.grace.clear(user.username, deviceId);
    this.d.notices.audit(info, 'device_removed', user.username, 'success');
    return true;
  }

  /** Ends another of the user's sessions (never the current one: that is sign-out). */
  async removeSession(user: UserRecord, ref: string, current: FoundSession, info: RequestInfo): Promise<boolean> {
    if (ref === sessionRef(current.id)) return false;
    const mine = (await this.d.sessions.list(user.username)).some((x) => x.id === ref);
    if (!mine || !(await this.d.sessions.revokeById(ref))) return false;
    this.d.notices.audit(info, 'session_removed', user.username, 'success');
    return true;
  }

  /**
   * Policy `optional` only, and not for a user an operator assigned a method: the opt-in ends and the
   * secret factors and backup codes are removed (they would keep two-step verification on); verified
   * addresses stay for a later opt-in.
   */
  async disableSecondFactor(user: UserRecord, info: RequestInfo): Promise<boolean> {
    const { factors, notices } = this.d;
    if (this.d.config().second_factor.policy !== 'optional' || factors.operatorMethod(user) !== undefined) {
      notices.audit(info, 'second_factor_disabled', user.username, 'failure', 'policy');
      return false;
    }
    await factors.state.setOptedIn(user.username, false);
    for (const f of factors.offered()) if (f.kind !== 'destination') await f.remove(user.username);
    notices.audit(info, 'second_factor_disabled', user.username, 'success');
    await notices.user(user, 'factor_changed', info, { change: 'disabled' });
    return true;
  }

  /** Signs out this session, or everywhere: every session and trusted device of the user, and this browser's grace. */
  async signOut(found: FoundSession, everywhere: boolean, deviceId: string | undefined, info: RequestInfo): Promise<{ everywhere: boolean; sessions: number; devices: number }> {
    const user = found.session.user;
    let result = { everywhere: false, sessions: 1, devices: 0 };
    // Only a session that finished signing in may end the others: a password alone must not sign the
    // user out of every device and forget their trusted browsers (SPEC §3: a half-signed-in session is none).
    if (everywhere && found.session.level !== 'two_factor') {
      this.d.notices.audit(info, 'logout', user, 'failure', 'everywhere_needs_second_factor');
      everywhere = false;
    }
    if (everywhere) {
      const { sessions, devices } = await this.d.revocation.endEverythingOfUser(user, 'logout_everywhere');
      // A complete logout (seed 001): this device is asked for a code next time, grace or not.
      if (deviceId) await this.d.grace.clear(user, deviceId);
      result = { everywhere: true, sessions, devices };
    } else {
      await this.d.sessions.revoke(found.id);
    }
    this.d.notices.audit(info, 'logout', user, 'success', everywhere ? 'everywhere' : undefined);
    return result;
  }
}

/** The short reference of a device id, as TrustedDevices lists it. */
export function deviceRef(deviceId: string): string {
  return sha256Hex(`device:${deviceId}`).slice(0, 12);
}
