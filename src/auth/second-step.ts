import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, FactorMethod } from '../config/schema/index.js';
import { WebAuthnFactor } from '../factors/webauthn.js';
import { maskEmail, maskPhone } from '../delivery/mask.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { OneTimeCodes } from '../factors/codes.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { SecondFactorResolution } from '../factors/methods.js';
import type { Metrics } from '../observability/metrics.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionManager } from '../session/sessions.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import { codeChallengeKey } from '../factors/code.js';
import type { Flow, FlowStore } from './flows.js';
import type { Notices } from './notices.js';
import type { UserRevocation } from './revocation.js';
import { describeDevice, type RequestInfo } from './request.js';

export interface SentInfo {
  channel: 'email' | 'sms';
  /** Masked. */
  destination: string;
  fellBack: boolean;
}

export interface StartedStep {
  flow: Flow;
  sent?: SentInfo;
  /** The code could not be sent (the step still runs: another method, or a resend). */
  sendError?: PortcullisError;
}

export interface SecondStepDeps {
  config: () => Readonly<Config>;
  clock: Clock;
  metrics: Metrics;
  notices: Notices;
  directory: UserDirectory;
  regulator: Regulator;
  factors: FactorRegistry;
  codes: OneTimeCodes;
  devices: TrustedDevices;
  grace: ReverifyGrace;
  sessions: SessionManager;
  flows: FlowStore;
  revocation: UserRevocation;
}

/**
 * The second step (SPEC §3 `/verify`, JSON `/verify` and `/resend`): which methods a step offers, sending
 * codes, and the one decision whether a second factor is accepted — with the account lockout, the
 * per-client code throttle and the reverify grace. Every method is reached through the factor registry.
 */
export class SecondStep {
  constructor(private readonly d: SecondStepDeps) {}

  /** Starts a step for `user` with the methods `resolution` offers; sends a code when the first method is one. */
  async begin(user: UserRecord, purpose: Flow['purpose'], resolution: SecondFactorResolution, info: RequestInfo): Promise<StartedStep> {
    const methods = resolution.methods.map((m) => ({ type: m.type, ...(m.address ? { address: m.address, destination: mask(m.type, m.address) } : {}) }));
    const method = resolution.preferred && methods.some((m) => m.type === resolution.preferred) ? resolution.preferred : methods[0]!.type;
    const emailEntry = methods.find((m) => m.type === 'email');
    const fallbackEmail = emailEntry?.address ?? user.email;
    const flow = await this.d.flows.create({
      user: user.username,
      purpose,
      methods,
      method,
      ...(info.deviceId ? { deviceId: info.deviceId } : {}),
      ...(fallbackEmail ? { fallbackEmail } : {}),
    });
    try {
      const sent = await this.send(flow, method, info);
      return sent ? { flow, sent } : { flow };
    } catch (err) {
      if (isPortcullisError(err)) return { flow, sendError: err };
      throw err;
    }
  }

  /**
   * A new step for a signed-in user whose last second factor is too old (`max_auth_age`) or of another
   * kind than `only` (`require_factor`); undefined when the user needs none or has no usable method,
   * `no_method` when the user has none of `only`.
   */
  async stepUp(user: UserRecord, info: RequestInfo, only?: readonly string[]): Promise<StartedStep | 'no_method' | undefined> {
    const { resolution, enrolled } = await this.d.factors.snapshot(user);
    if (only) {
      // `require_factor`: only the named methods will do, whatever the user's settings (or the operator's
      // assigned method) say: any enrolled method of those kinds is offered.
      const methods = enrolled.filter((m) => only.includes(m.type) && this.d.factors.get(m.type) !== undefined);
      if (methods.length === 0) return 'no_method';
      return this.begin(user, 'stepup', { ...resolution, methods, preferred: methods.some((m) => m.type === resolution.preferred) ? resolution.preferred : methods[0]!.type }, info);
    }
    if (!resolution.required || resolution.methods.length === 0) return undefined;
    return this.begin(user, 'stepup', resolution, info);
  }

  /**
   * Switches the step to `method` (or keeps its own) and, for a code method, sends a code. Throws
   * BAD_REQUEST for a method the step does not offer, LOCKED, RATE_LIMITED within `resend_after`,
   * DELIVERY_FAILED (the code is withdrawn: the user may ask again at once).
   */
  async send(flow: Flow, method: FactorMethod | undefined, info: RequestInfo): Promise<SentInfo | undefined> {
    const chosen = method ?? flow.method;
    const entry = flow.methods.find((m) => m.type === chosen);
    const factor = this.d.factors.get(chosen);
    if (!entry || !factor) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'That method is not available');
    flow.method = chosen;
    if (factor.kind !== 'destination' || !entry.address) {
      await this.d.flows.save(flow);
      return undefined;
    }
    // A locked account gets no new code (no mail or SMS an attacker could trigger at will).
    if (await this.d.regulator.isLocked(flow.user)) {
      this.d.notices.audit(info, 'code_sent', flow.user, 'failure', 'locked', { method: chosen });
      throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
    }
    const user = (await this.d.directory.lookup(flow.user)) ?? { username: flow.user, groups: [], disabled: false, source: 'unknown' };
    let challenge;
    try {
      challenge = await factor.challenge({ flowId: flow.id, user, address: entry.address, ...(flow.fallbackEmail ? { fallbackEmail: flow.fallbackEmail } : {}), lang: info.lang, requestId: info.requestId });
    } catch (err) {
      const reason = isPortcullisError(err) ? String((err.details as { reason?: string }).reason ?? err.code) : 'error';
      if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) {
        this.d.metrics.deliveryFailures.inc({ channel: chosen, reason });
        // Nothing was sent: the step no longer claims a code is on its way.
        delete flow.sent;
      }
      this.d.notices.audit(info, 'code_sent', flow.user, 'failure', reason, { method: chosen });
      await this.d.flows.save(flow);
      if (isPortcullisError(err)) throw err;
      throw new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', undefined, { cause: err });
    }
    if (challenge.kind !== 'sent') {
      await this.d.flows.save(flow);
      return undefined;
    }
    if (challenge.fellBack) this.d.metrics.deliveryFailures.inc({ channel: 'sms', reason: 'fell_back_to_email' });
    this.d.metrics.codesSent.inc({ channel: challenge.channel });
    const sent: SentInfo = { channel: challenge.channel, destination: mask(challenge.channel, challenge.address), fellBack: challenge.fellBack };
    flow.sent = { ...sent, at: this.d.clock.now() };
    await this.d.flows.save(flow);
    this.d.notices.audit(info, 'code_sent', flow.user, 'success', challenge.fellBack ? 'fell_back_to_email' : undefined, { method: challenge.channel });
    return sent;
  }

  /**
   * Seconds until a new code may be sent for the step's current method (`second_factor.code.resend_after`
   * after the last one); 0 when one may be sent now or the method sends none.
   */
  async resendIn(flow: Flow): Promise<number> {
    if (this.d.factors.get(flow.method)?.kind !== 'destination') return 0;
    const ms = await this.d.codes.cooldown(codeChallengeKey(flow.id, flow.method));
    return Math.ceil(ms / 1000);
  }

  /**
   * Decides whether a second factor is accepted. Throws INVALID_CODE (details.attempts_left, and
   * details.limit: `code` when this code runs out first — then a new code is needed — or `account`
   * when the account's lockout comes first), CODE_EXPIRED
   * (details.reason `too_many_attempts` when the code's attempts ran out), LOCKED, RATE_LIMITED, BAD_REQUEST,
   * UNAUTHENTICATED (the user is gone or disabled), RATE_LIMITED (retry_after 1) while another check of the
   * same user runs. Wrong answers count towards the account lockout
   * (separately from passwords) and the client's code throttle.
   */
  /** Passkey request options (JSON) for the flow's step on a page at `origin`; undefined when passkeys are not among its methods. */
  async passkeyOptions(flow: Flow, origin: string): Promise<string | undefined> {
    const f = this.d.factors.get('webauthn');
    if (!(f instanceof WebAuthnFactor) || !flow.methods.some((m) => m.type === 'webauthn')) return undefined;
    const options = await f.requestOptions(flow.id, flow.user, { origin });
    return options ? JSON.stringify(options) : undefined;
  }

  async verify(flow: Flow, input: { method?: FactorMethod | undefined; code: string }, info: RequestInfo): Promise<{ user: UserRecord; method: FactorMethod }> {
    const { regulator, notices } = this.d;
    const method = input.method ?? flow.method;
    const factor = this.d.factors.get(method);
    if (!factor || !flow.methods.some((m) => m.type === method)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'That method is not available');
    const user = await this.d.directory.lookup(flow.user);
    if (!user || user.disabled) {
      await this.d.flows.end(flow.id);
      throw new PortcullisError('PORTCULLIS_ERR_UNAUTHENTICATED');
    }
    await regulator.checkCode(info.clientIp);
    // One check per user at a time, on every instance: parallel guesses wait their turn (429 after a few
    // seconds) instead of all being evaluated before the lockout has counted them.
    if (!(await claimWithin(() => regulator.claimCodeCheck(user.username), CLAIM_WAIT_MS))) {
      notices.audit(info, 'second_factor', user.username, 'failure', 'busy', { method });
      throw new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { details: { retry_after: 1 } });
    }
    try {
      return await this.checkClaimed(flow, user, method, factor, input.code, info);
    } finally {
      await regulator.releaseCodeCheck(user.username);
    }
  }

  private async checkClaimed(flow: Flow, user: UserRecord, method: FactorMethod, factor: NonNullable<ReturnType<FactorRegistry['get']>>, code: string, info: RequestInfo): Promise<{ user: UserRecord; method: FactorMethod }> {
    const { regulator, metrics, notices } = this.d;
    if (await regulator.isLocked(user.username)) {
      notices.audit(info, 'second_factor', user.username, 'failure', 'locked', { method });
      throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
    }
    // A typed code is short; a passkey's assertion (JSON) is bounded by the factor itself.
    const response = typeof code === 'string' ? code.slice(0, factor.codeFormat() ? 64 : 16_384) : '';
    const verdict = await factor.verify(flow.id, user.username, response);
    if (verdict.result === 'expired' || verdict.result === 'exhausted') {
      metrics.secondFactor.inc({ method, result: verdict.result });
      notices.audit(info, 'second_factor', user.username, 'failure', verdict.result === 'expired' ? 'code_expired' : 'code_exhausted', { method });
      // `too_many_attempts`: the code's own attempts ran out (SPEC §3 JSON `reason`).
      throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', undefined, verdict.result === 'exhausted' ? { details: { reason: 'too_many_attempts' } } : {});
    }
    if (verdict.result === 'invalid') {
      metrics.secondFactor.inc({ method, result: 'failure' });
      const { locked, failures, newlyLocked } = await regulator.codeFailed(user.username, info.clientIp);
      notices.audit(info, 'second_factor', user.username, 'failure', 'invalid_code', { method, failures });
      if (locked) {
        // Of parallel wrong codes only one caller locks the account; it alone notifies.
        if (newlyLocked) await this.lockout(user, info);
        else await this.d.revocation.endEverythingOfUser(user.username, 'locked', { keepDevices: true });
        throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
      }
      // One rule for every method: the fewer of the code's own attempts and the account's lockout budget.
      const lockoutLeft = Math.max(0, this.d.config().second_factor.lockout.max_failures - failures);
      const codeFirst = verdict.attemptsLeft !== undefined && verdict.attemptsLeft < lockoutLeft;
      const left = codeFirst ? verdict.attemptsLeft! : lockoutLeft;
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CODE', undefined, { details: { attempts_left: left, limit: codeFirst ? 'code' : 'account' } });
    }
    await regulator.codeSucceeded(user.username);
    await this.d.flows.end(flow.id);
    if (flow.deviceId) await this.d.grace.record(user.username, flow.deviceId);
    metrics.secondFactor.inc({ method, result: 'success' });
    notices.audit(info, 'second_factor', user.username, 'success', undefined, { method });
    if (factor.notifyOnUse) await notices.user(user, factor.notifyOnUse, info);
    return { user, method };
  }

  /** Remembers this device for the user (seed 001): no code again until removed or logout everywhere. */
  async trustDevice(user: UserRecord, deviceId: string, meta: { name: string; ip: string; userAgent: string }, info: RequestInfo): Promise<void> {
    if (!this.d.config().second_factor.trusted_devices.enabled) return;
    const wasTrusted = await this.d.devices.isTrusted(user.username, deviceId);
    await this.d.devices.trust(user.username, deviceId, meta);
    if (!wasTrusted) {
      this.d.notices.audit(info, 'device_trusted', user.username, 'success');
      await this.d.notices.user(user, 'new_device', info, { device: meta.name, ip: meta.ip });
    }
  }

  /** Locks the account: pending codes die, sessions end, the user is told (seed 001). */
  async lockout(user: UserRecord, info: RequestInfo): Promise<void> {
    await this.d.codes.invalidateUser(user.username);
    await this.d.revocation.endEverythingOfUser(user.username, 'locked', { keepDevices: true });
    this.d.metrics.lockouts.inc();
    this.d.notices.audit(info, 'account_locked', user.username, 'failure', 'too_many_wrong_codes');
    // When, from which address (`ip`, added by Notices) and which browser or app (issue 17).
    if (this.d.config().second_factor.lockout.notify) await this.d.notices.user(user, 'locked', info, { device: describeDevice(info.userAgent) });
  }
}

/** How long a second-factor check waits for another check of the same user to finish. */
const CLAIM_WAIT_MS = 3000;

/** Tries `claim` until it succeeds or `waitMs` (real time) has passed. */
async function claimWithin(claim: () => Promise<boolean>, waitMs: number): Promise<boolean> {
  const end = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    if (await claim()) return true;
    if (Date.now() >= end) return false;
    await sleep(delay);
  }
}

export function mask(channel: string, address: string): string {
  return channel === 'sms' ? maskPhone(address) : maskEmail(address);
}
