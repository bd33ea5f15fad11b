import type { Config } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import type { UserRecord } from '../users/directory.js';
import type { Charset } from './charsets.js';
import type { OneTimeCodes } from './codes.js';
import type { FactorState, FactorStateRecord } from './enrolment.js';
import type { Challenge, ChallengeRequest, Enrolled, SecondFactor, Verdict } from './factor.js';

/** The one-time code's key for a step and a method (its resend cooldown is kept under the same key). */
export function codeChallengeKey(flowId: string, method: string): string {
  return `${flowId}:${method}`;
}

/**
 * A code sent by email or SMS (seeds 000-002). The address is the directory's (trusted) or one the user
 * entered and verified by a code; codes live in OneTimeCodes under `<flow id>:<method>`.
 */
export class CodeFactor implements SecondFactor {
  readonly kind = 'destination' as const;
  readonly amr = 'otp';

  constructor(
    readonly method: 'email' | 'sms',
    private readonly codes: OneTimeCodes,
    private readonly delivery: Delivery,
    private readonly state: FactorState,
    private readonly cfg: () => Config['second_factor']['code'],
  ) {}

  codeFormat(): { length: number; charset: Charset } {
    const c = this.cfg();
    return { length: c.length, charset: c.charset };
  }

  enrolled(user: UserRecord, state: FactorStateRecord): Promise<Enrolled | undefined> {
    const directory = this.method === 'email' ? user.email : user.phone;
    if (directory) return Promise.resolve({ type: this.method, kind: this.kind, address: directory, source: 'directory' });
    const own = this.method === 'email' ? state.email : state.phone;
    if (own?.verified) return Promise.resolve({ type: this.method, kind: this.kind, address: 'address' in own ? own.address : own.number, source: 'user' });
    return Promise.resolve(undefined);
  }

  /**
   * Issues a code (RATE_LIMITED within `resend_after` of the last one) and sends it. A code that could
   * not be sent is withdrawn with its cooldown: the user may ask again at once (DELIVERY_FAILED).
   */
  async challenge(r: ChallengeRequest): Promise<Challenge> {
    if (!r.address) throw new TypeError(`a ${this.method} challenge needs an address`);
    const key = codeChallengeKey(r.flowId, this.method);
    const cfg = this.cfg();
    const { code } = await this.codes.issue(key, { user: r.user.username, channel: this.method, destination: r.address });
    try {
      const sent = await this.delivery.sendCode(
        { channel: this.method, address: r.address, ...(r.fallbackEmail ? { fallbackEmail: r.fallbackEmail } : {}) },
        code,
        { lang: r.lang, ttlMs: cfg.ttl, user: r.user.username, displayName: r.user.displayName, requestId: r.requestId },
      );
      return { kind: 'sent', ...sent };
    } catch (err) {
      await this.codes.withdraw(key);
      throw err;
    }
  }

  async verify(flowId: string, user: string, response: string): Promise<Verdict> {
    const res = await this.codes.verify(codeChallengeKey(flowId, this.method), response);
    if (res.result === 'invalid') return { result: 'invalid', attemptsLeft: res.attemptsLeft };
    if (res.result !== 'ok') return res;
    // A code is bound to the user and channel it was issued for.
    if (res.meta.user !== user || res.meta.channel !== this.method) return { result: 'expired' };
    return { result: 'ok', address: res.meta.destination };
  }

  /** Forgets the address the user entered (the directory's cannot be removed here). */
  async remove(user: string): Promise<void> {
    if (this.method === 'email') await this.state.clearEmail(user);
    else await this.state.clearPhone(user);
  }
}
