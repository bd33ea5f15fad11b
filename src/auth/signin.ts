import type { Config, FactorMethod } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import { maskEmail, maskPhone } from '../delivery/mask.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { OneTimeCodes } from '../factors/codes.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { FactorState } from '../factors/enrolment.js';
import { resolveSecondFactor } from '../factors/methods.js';
import type { RecoveryCodes } from '../factors/recovery-codes.js';
import type { TotpFactor } from '../factors/totp.js';
import { audit, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionManager } from '../session/sessions.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import type { Flow, FlowStore } from './flows.js';

export interface SignInDeps {
  config: () => Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  directory: UserDirectory;
  regulator: Regulator;
  codes: OneTimeCodes;
  totp: TotpFactor;
  recovery: RecoveryCodes;
  devices: TrustedDevices;
  grace: ReverifyGrace;
  factorState: FactorState;
  delivery: Delivery;
  sessions: SessionManager;
  flows: FlowStore;
}

/** Who is asking, for audit lines and localised messages. */
export interface RequestInfo {
  clientIp: string;
  requestId: string;
  lang: string;
  deviceId?: string | undefined;
}

export interface SentInfo {
  channel: 'email' | 'sms';
  destination: string;
  fellBack: boolean;
}

export type PasswordOutcome =
  | { kind: 'authenticated'; user: UserRecord; via: 'exempt' | 'grace' | 'trusted_device' }
  | { kind: 'second_factor'; user: UserRecord; flow: Flow; sent?: SentInfo; sendError?: PortcullisError }
  | { kind: 'enrol'; user: UserRecord; method: FactorMethod };

export type VerifyOutcome = { user: UserRecord; method: FactorMethod };

const CODE_METHODS = new Set<FactorMethod>(['email', 'sms']);

/** The two steps of signing in, shared by the portal, the JSON API and forward-auth. */
export class SignIn {
  constructor(private readonly d: SignInDeps) {}

  private audit(info: RequestInfo, event: string, user: string | undefined, result: 'success' | 'failure' | 'info', reason?: string, extra?: Record<string, unknown>) {
    audit(this.d.logger, { event, user, client_ip: info.clientIp, request_id: info.requestId, result, reason, ...extra });
  }

  /** Step one. Throws INVALID_CREDENTIALS (also for locked and disabled users), RATE_LIMITED, DIRECTORY_UNAVAILABLE. */
  async password(username: string, password: string, info: RequestInfo): Promise<PasswordOutcome> {
    const { regulator, directory, metrics } = this.d;
    if (!username || username.length > 256 || password.length > 1024 || !password) {
      metrics.logins.inc({ result: 'failure', reason: 'invalid_input' });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CREDENTIALS');
    }
    try {
      await regulator.checkPassword(username, info.clientIp);
    } catch (err) {
      metrics.logins.inc({ result: 'failure', reason: 'rate_limited' });
      this.audit(info, 'login', username, 'failure', 'rate_limited', { method: 'password' });
      throw err;
    }
    const user = await directory.authenticate(username, password);
    if (!user) {
      await regulator.passwordFailed(username, info.clientIp);
      metrics.logins.inc({ result: 'failure', reason: 'invalid_credentials' });
      this.audit(info, 'login', username, 'failure', 'invalid_credentials', { method: 'password' });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CREDENTIALS');
    }
    if (await regulator.isLocked(user.username)) {
      metrics.logins.inc({ result: 'failure', reason: 'locked' });
      this.audit(info, 'login', user.username, 'failure', 'locked', { method: 'password' });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CREDENTIALS');
    }
    await regulator.passwordSucceeded(user.username);
    metrics.logins.inc({ result: 'success', reason: 'password' });
    this.audit(info, 'login', user.username, 'success', 'password', { method: 'password' });

    const resolved = await this.resolve(user);
    if (!resolved.required) return { kind: 'authenticated', user, via: 'exempt' };
    const cfg = this.d.config();
    if (info.deviceId) {
      if (await this.d.grace.within(user.username, info.deviceId)) {
        this.audit(info, 'second_factor', user.username, 'success', 'reverify_grace');
        return { kind: 'authenticated', user, via: 'grace' };
      }
      if (cfg.second_factor.trusted_devices.enabled && (await this.d.devices.isTrusted(user.username, info.deviceId))) {
        this.audit(info, 'second_factor', user.username, 'success', 'trusted_device');
        return { kind: 'authenticated', user, via: 'trusted_device' };
      }
    }
    if (resolved.mustEnrol || resolved.methods.length === 0) {
      const method = resolved.enrolMethod ?? cfg.second_factor.methods.find((m) => m !== 'recovery_code') ?? 'totp';
      this.audit(info, 'enrolment_required', user.username, 'info', method);
      return { kind: 'enrol', user, method };
    }
    return this.startFlow(user, 'signin', resolved, info);
  }

  /** A second-factor step for a signed-in user whose last factor is too old (`max_auth_age`). */
  async stepUp(user: UserRecord, info: RequestInfo): Promise<{ flow: Flow; sent?: SentInfo; sendError?: PortcullisError } | undefined> {
    const resolved = await this.resolve(user);
    if (!resolved.required || resolved.methods.length === 0) return undefined;
    const out = await this.startFlow(user, 'stepup', resolved, info);
    return out.kind === 'second_factor' ? out : undefined;
  }

  private async resolve(user: UserRecord) {
    const [state, totpEnrolled, recoveryCodesLeft] = await Promise.all([
      this.d.factorState.get(user.username),
      this.d.totp.isEnrolled(user.username),
      this.d.recovery.remaining(user.username),
    ]);
    return resolveSecondFactor({ user, cfg: this.d.config().second_factor, state, totpEnrolled, webauthnCount: 0, recoveryCodesLeft });
  }

  private async startFlow(user: UserRecord, purpose: Flow['purpose'], resolved: Awaited<ReturnType<SignIn['resolve']>>, info: RequestInfo): Promise<PasswordOutcome & { kind: 'second_factor' }> {
    const methods = resolved.methods.map((m) => ({
      type: m.type,
      ...(m.address ? { address: m.address, destination: mask(m.type, m.address) } : {}),
    }));
    const method = resolved.preferred && methods.some((m) => m.type === resolved.preferred) ? resolved.preferred : methods[0]!.type;
    const emailEntry = methods.find((m) => m.type === 'email');
    const flow = await this.d.flows.create({
      user: user.username,
      purpose,
      methods,
      method,
      ...(info.deviceId ? { deviceId: info.deviceId } : {}),
      ...(emailEntry?.address ?? user.email ? { fallbackEmail: emailEntry?.address ?? user.email } : {}),
    });
    if (!CODE_METHODS.has(method)) return { kind: 'second_factor', user, flow };
    try {
      const sent = await this.send(flow, method, info);
      return { kind: 'second_factor', user, flow, sent };
    } catch (err) {
      if (isPortcullisError(err)) return { kind: 'second_factor', user, flow, sendError: err };
      throw err;
    }
  }

  /** Sends (or re-sends) a code for the flow's method, or switches the flow to another method. */
  async send(flow: Flow, method: FactorMethod | undefined, info: RequestInfo): Promise<SentInfo | undefined> {
    const chosen = method ?? flow.method;
    const entry = flow.methods.find((m) => m.type === chosen);
    if (!entry) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'That method is not available');
    flow.method = chosen;
    if (!CODE_METHODS.has(chosen) || !entry.address) {
      await this.d.flows.save(flow);
      return undefined;
    }
    // A locked account gets no new code (no mail or SMS an attacker could trigger at will).
    if (await this.d.regulator.isLocked(flow.user)) {
      this.audit(info, 'code_sent', flow.user, 'failure', 'locked', { method: chosen });
      throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
    }
    const cfg = this.d.config();
    const { code } = await this.d.codes.issue(`${flow.id}:${chosen}`, { user: flow.user, channel: chosen, destination: entry.address });
    let result: { channel: 'email' | 'sms'; address: string; fellBack: boolean };
    try {
      result = await this.d.delivery.sendCode(
        { channel: chosen as 'email' | 'sms', address: entry.address, ...(flow.fallbackEmail ? { fallbackEmail: flow.fallbackEmail } : {}) },
        code,
        { lang: info.lang, ttlMs: cfg.second_factor.code.ttl, user: flow.user, requestId: info.requestId },
      );
    } catch (err) {
      const reason = isPortcullisError(err) ? String((err.details as { reason?: string }).reason ?? err.code) : 'error';
      this.d.metrics.deliveryFailures.inc({ channel: chosen, reason });
      this.audit(info, 'code_sent', flow.user, 'failure', reason, { method: chosen });
      await this.d.flows.save(flow);
      if (isPortcullisError(err)) throw err;
      throw new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', undefined, { cause: err });
    }
    if (result.fellBack) this.d.metrics.deliveryFailures.inc({ channel: 'sms', reason: 'fell_back_to_email' });
    this.d.metrics.codesSent.inc({ channel: result.channel });
    const sent: SentInfo = { channel: result.channel, destination: mask(result.channel, result.address), fellBack: result.fellBack };
    flow.sent = { ...sent, at: this.d.clock.now() };
    await this.d.flows.save(flow);
    this.audit(info, 'code_sent', flow.user, 'success', result.fellBack ? 'fell_back_to_email' : undefined, { method: result.channel });
    return sent;
  }

  /**
   * Step two. Throws INVALID_CODE (details.attempts_left), CODE_EXPIRED, LOCKED, BAD_REQUEST.
   * Wrong codes count towards the account lockout (separately from passwords).
   */
  async verify(flow: Flow, input: { method?: FactorMethod | undefined; code: string }, info: RequestInfo): Promise<VerifyOutcome> {
    const { regulator, metrics } = this.d;
    const method = input.method ?? flow.method;
    if (!flow.methods.some((m) => m.type === method)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'That method is not available');
    const user = await this.d.directory.lookup(flow.user);
    if (!user || user.disabled) {
      await this.d.flows.end(flow.id);
      throw new PortcullisError('PORTCULLIS_ERR_UNAUTHENTICATED');
    }
    if (await regulator.isLocked(user.username)) {
      this.audit(info, 'second_factor', user.username, 'failure', 'locked', { method });
      throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
    }
    await regulator.checkCode(info.clientIp);
    const code = typeof input.code === 'string' ? input.code.slice(0, 64) : '';
    let ok = false;
    let attemptsLeft: number | undefined;
    if (CODE_METHODS.has(method)) {
      const res = await this.d.codes.verify(`${flow.id}:${method}`, code);
      if (res.result === 'expired' || res.result === 'exhausted') {
        metrics.secondFactor.inc({ method, result: res.result });
        this.audit(info, 'second_factor', user.username, 'failure', res.result === 'expired' ? 'code_expired' : 'code_exhausted', { method });
        throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', undefined, { details: { reason: res.result } });
      }
      ok = res.result === 'ok';
      if (res.result === 'invalid') attemptsLeft = res.attemptsLeft;
    } else if (method === 'totp') {
      ok = code.length > 0 && (await this.d.totp.verify(user.username, code));
    } else if (method === 'recovery_code') {
      ok = code.length > 0 && (await this.d.recovery.consume(user.username, code));
    } else {
      throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Use the passkey prompt for this method');
    }

    if (!ok) {
      metrics.secondFactor.inc({ method, result: 'failure' });
      const { locked, failures, newlyLocked } = await regulator.codeFailed(user.username, info.clientIp);
      this.audit(info, 'second_factor', user.username, 'failure', 'invalid_code', { method, failures });
      if (locked) {
        // Of parallel wrong codes only one caller locks the account; it alone notifies.
        if (newlyLocked) await this.lockout(user, info);
        else await this.d.sessions.revokeUser(user.username);
        throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
      }
      const lockoutLeft = Math.max(0, this.d.config().second_factor.lockout.max_failures - failures);
      const left = attemptsLeft === undefined ? lockoutLeft : Math.min(attemptsLeft, lockoutLeft);
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CODE', undefined, { details: { attempts_left: left } });
    }
    await regulator.codeSucceeded(user.username);
    await this.d.flows.end(flow.id);
    if (flow.deviceId) await this.d.grace.record(user.username, flow.deviceId);
    metrics.secondFactor.inc({ method, result: 'success' });
    this.audit(info, 'second_factor', user.username, 'success', undefined, { method });
    if (method === 'recovery_code') await this.notify(user, 'recovery_code_used', info, {});
    return { user, method };
  }

  auditLogout(user: string, info: RequestInfo, everywhere: boolean): void {
    this.audit(info, 'logout', user, 'success', everywhere ? 'everywhere' : undefined);
  }

  /** Remembers this device for the user (seed 001): no code again until removed or logout everywhere. */
  async trustDevice(user: UserRecord, deviceId: string, meta: { name: string; ip: string; userAgent: string }, info: RequestInfo): Promise<void> {
    if (!this.d.config().second_factor.trusted_devices.enabled) return;
    const wasTrusted = await this.d.devices.isTrusted(user.username, deviceId);
    await this.d.devices.trust(user.username, deviceId, meta);
    if (!wasTrusted) {
      this.audit(info, 'device_trusted', user.username, 'success');
      await this.notify(user, 'new_device', info, { device: meta.name, ip: meta.ip });
    }
  }

  /** Locks the account: pending codes die, sessions end, the user is told (seed 001). */
  async lockout(user: UserRecord, info: RequestInfo): Promise<void> {
    await this.d.codes.invalidateUser(user.username);
    await this.d.sessions.revokeUser(user.username);
    this.d.metrics.lockouts.inc();
    this.audit(info, 'account_locked', user.username, 'failure', 'too_many_wrong_codes');
    if (this.d.config().second_factor.lockout.notify) await this.notify(user, 'locked', info, {});
  }

  async notify(user: UserRecord, kind: 'locked' | 'new_device' | 'factor_changed' | 'recovery_code_used', info: RequestInfo, vars: Record<string, string>): Promise<void> {
    const cfg = this.d.config();
    if (!cfg.second_factor.notify_user.includes(kind) || !user.email) return;
    try {
      await this.d.delivery.notify(kind, user.email, { user: user.username, name: user.displayName ?? user.username, ip: info.clientIp, ...vars }, info.lang);
    } catch (err) {
      this.d.metrics.deliveryFailures.inc({ channel: 'email', reason: 'notification' });
      this.d.logger.warn({ err: { message: (err as Error).message }, user: user.username, kind, request_id: info.requestId }, 'security notification not sent');
    }
  }
}

export function mask(channel: string, address: string): string {
  return channel === 'sms' ? maskPhone(address) : maskEmail(address);
}
