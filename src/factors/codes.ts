import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { hmacSha256, safeEqual } from '../util/compare.js';
import type { Random } from '../util/random.js';
import { normalizeCode, randomCode } from './charsets.js';

export interface CodeMeta {
  user: string;
  channel: string;
  destination: string;
}

export type CodeVerifyResult =
  | { result: 'ok'; meta: CodeMeta }
  | { result: 'invalid'; attemptsLeft: number }
  | { result: 'expired' }
  | { result: 'exhausted' };

/** Flow ids are the caller's (for example `<flow id>:<method>`): bounded, no spaces or control characters. */
const FLOW = /^[A-Za-z0-9_.:-]{1,160}$/;
const MAX_CANDIDATE = 64;

/**
 * One-time codes sent by email or SMS. Only an HMAC of the code is stored (`code:<flow>`, a hash with
 * the attempt counter and the delivery meta, TTL = code.ttl). Attempts are counted atomically before
 * comparing, so parallel guesses get at most `max_attempts` comparisons; a right code is claimed by
 * deleting the record, so it works once. `code:rs:<flow>` holds the resend cooldown and
 * `code:u:<user>` indexes a user's pending flows (for invalidation at lockout).
 */
export class OneTimeCodes {
  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: Config['second_factor']['code'],
    private readonly secretKey: Buffer,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  generate(): string {
    return randomCode(this.cfg.length, this.cfg.charset, this.random);
  }

  /**
   * Issues a new code for `flow`, replacing any earlier one. Throws PORTCULLIS_ERR_RATE_LIMITED
   * (details.retry_after) within `resend_after` of the previous issue, and BAD_REQUEST for a malformed flow.
   */
  async issue(flow: string, meta: CodeMeta): Promise<{ code: string; expiresAt: number; resendAt: number }> {
    checkFlow(flow);
    const now = this.clock.now();
    const { ttl, resend_after } = this.cfg;
    if (resend_after > 0) {
      const free = await this.store.set(`code:rs:${flow}`, String(now), resend_after, { onlyIfAbsent: true });
      if (!free) {
        const left = await this.store.ttl(`code:rs:${flow}`);
        const ms = left > 0 ? left : resend_after;
        throw new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { details: { retry_after: Math.max(1, Math.ceil(ms / 1000)) } });
      }
    }
    const code = this.generate();
    const expiresAt = now + ttl;
    // A new hash replaces the old record wholesale, so the earlier code and its attempts are gone.
    await this.store.del(`code:${flow}`);
    await this.store.hashSet(
      `code:${flow}`,
      { h: this.digest(flow, code), a: '0', u: meta.user, c: meta.channel, d: meta.destination, x: String(expiresAt) },
      ttl,
    );
    await this.store.setAdd(`code:u:${userKey(meta.user)}`, flow, ttl);
    return { code, expiresAt, resendAt: now + resend_after };
  }

  async verify(flow: string, candidate: string): Promise<CodeVerifyResult> {
    if (!FLOW.test(flow)) return { result: 'expired' };
    const key = `code:${flow}`;
    const counted = await this.store.hashIncr(key, 'a', 1);
    if (counted === null) return { result: 'expired' };
    const { value: attempt, fields } = counted;
    if (!(Number(fields.x) > this.clock.now()) || !fields.h) return { result: 'expired' }; // fail closed on a damaged record
    const max = this.cfg.max_attempts;
    if (attempt > max) return { result: 'exhausted' };
    const normalized = normalizeCode(candidate, this.cfg.charset);
    const given = normalized.length <= MAX_CANDIDATE ? this.digest(flow, normalized) : 'x';
    if (!safeEqual(given, fields.h ?? '')) return { result: 'invalid', attemptsLeft: max - attempt };
    // Claim: of two parallel right answers only the one that deletes the record wins.
    if ((await this.store.del(key)) !== 1) return { result: 'expired' };
    const user = fields.u ?? '';
    await this.store.setRemove(`code:u:${userKey(user)}`, flow);
    return { result: 'ok', meta: { user, channel: fields.c ?? '', destination: fields.d ?? '' } };
  }

  /** Milliseconds until `flow` may be issued a new code (`resend_after`); 0 when it may now. */
  async cooldown(flow: string): Promise<number> {
    if (!FLOW.test(flow) || this.cfg.resend_after <= 0) return 0;
    return Math.max(0, await this.store.ttl(`code:rs:${flow}`));
  }

  /** Kills every pending code of the user (lockout, reset). */
  async invalidateUser(user: string): Promise<number> {
    const index = `code:u:${userKey(user)}`;
    const flows = await this.store.setMembers(index);
    let n = 0;
    for (const flow of flows) if (FLOW.test(flow)) n += await this.store.del(`code:${flow}`);
    await this.store.del(index);
    return n;
  }

  /** Kills the code of one flow (sign-in abandoned or finished by another method). */
  async invalidate(flow: string): Promise<void> {
    if (!FLOW.test(flow)) return;
    await this.store.del(`code:${flow}`);
  }

  /**
   * A code that was never delivered: it dies and the resend cooldown is lifted, so the user may ask
   * again at once (nothing reached them that a new code would race with).
   */
  async withdraw(flow: string): Promise<void> {
    if (!FLOW.test(flow)) return;
    await Promise.all([this.store.del(`code:${flow}`), this.store.del(`code:rs:${flow}`)]);
  }

  private digest(flow: string, code: string): string {
    return hmacSha256(this.secretKey, `${flow}\n${code}`).toString('base64url');
  }
}

function checkFlow(flow: string): void {
  if (!FLOW.test(flow)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Malformed sign-in flow');
}
