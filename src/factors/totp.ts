import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Config } from '../config/schema/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { UserRecord } from '../users/directory.js';
import type { Charset } from './charsets.js';
import type { Challenge, Enrolled, SecondFactor, Verdict } from './factor.js';
import { open, seal } from './sealed.js';

const PENDING_TTL = 15 * 60_000;
const MAX_LABEL = 128;

/**
 * Authenticator apps (RFC 6238). Keys: `totp:<user>` (active secret, sealed), `totp:p:<user>`
 * (pending enrolment, sealed, 15 min), `totp:last:<user>` and `totp:used:<user>:<step>` (replay
 * protection: a time step is accepted once, and never one older than the last accepted).
 * A record that does not decrypt counts as not enrolled (fail closed).
 */
export class TotpFactor implements SecondFactor {
  readonly method = 'totp' as const;
  readonly kind = 'secret' as const;
  readonly amr = 'otp';

  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: Config['second_factor']['totp'],
    private readonly encryptionKey: Buffer,
    private readonly clock: Clock,
  ) {
    if (encryptionKey.length !== 32) throw new TypeError('The TOTP encryption key must be 32 bytes');
  }

  /** Starts (or restarts) enrolment: a new pending secret, its otpauth:// URI and a QR code of it. */
  async beginEnrolment(user: string, label: string): Promise<{ secretBase32: string; uri: string; qrSvg: string }> {
    const secret = new Secret({ size: 20 });
    const totp = this.totp(secret, label.slice(0, MAX_LABEL) || user.slice(0, MAX_LABEL));
    await this.store.set(`totp:p:${userKey(user)}`, seal(this.encryptionKey, secret.base32, aad('pending', user)), PENDING_TTL);
    const uri = totp.toString();
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 }); // the standard quiet zone: 4 modules
    return { secretBase32: secret.base32, uri, qrSvg };
  }

  /** The pending enrolment again (a reloaded page, a wrong first code), or undefined when none is pending. */
  async pendingEnrolment(user: string, label: string): Promise<{ secretBase32: string; uri: string; qrSvg: string } | undefined> {
    const sealed = await this.store.get(`totp:p:${userKey(user)}`);
    const base32 = sealed === null ? null : open(this.encryptionKey, sealed, aad('pending', user));
    if (base32 === null) return undefined;
    const uri = this.totp(Secret.fromBase32(base32), label.slice(0, MAX_LABEL) || user.slice(0, MAX_LABEL)).toString();
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 }); // the standard quiet zone: 4 modules
    return { secretBase32: base32, uri, qrSvg };
  }

  /** Checks the first code against the pending secret; on success it becomes the active one. */
  async confirmEnrolment(user: string, code: string): Promise<boolean> {
    const k = userKey(user);
    const sealed = await this.store.get(`totp:p:${k}`);
    if (sealed === null) return false;
    const base32 = open(this.encryptionKey, sealed, aad('pending', user));
    if (base32 === null) return false;
    if (!(await this.check(user, base32, code))) return false;
    // Claim the pending record so two parallel confirmations install it once.
    if ((await this.store.getDel(`totp:p:${k}`)) === null) return false;
    await this.store.set(`totp:${k}`, seal(this.encryptionKey, base32, aad('active', user)), 0);
    return true;
  }

  /** True once per time step for a right code of the active secret. */
  async accepts(user: string, code: string): Promise<boolean> {
    const base32 = await this.activeSecret(user);
    if (base32 === null) return false;
    return this.check(user, base32, code);
  }

  async isEnrolled(user: string): Promise<boolean> {
    return (await this.activeSecret(user)) !== null;
  }

  codeFormat(): { length: number; charset: Charset } {
    return { length: this.cfg.digits, charset: 'digits' };
  }

  async enrolled(user: UserRecord): Promise<Enrolled | undefined> {
    return (await this.isEnrolled(user.username)) ? { type: 'totp', kind: 'secret' } : undefined;
  }

  /** The user's app makes the code: nothing to send. */
  challenge(): Promise<Challenge> {
    return Promise.resolve({ kind: 'none' });
  }

  async verify(_flowId: string, user: string, response: string): Promise<Verdict> {
    return response.length > 0 && (await this.accepts(user, response)) ? { result: 'ok' } : { result: 'invalid' };
  }

  async remove(user: string): Promise<void> {
    const k = userKey(user);
    await Promise.all([this.store.del(`totp:${k}`), this.store.del(`totp:p:${k}`), this.store.del(`totp:last:${k}`)]);
  }

  private async activeSecret(user: string): Promise<string | null> {
    const sealed = await this.store.get(`totp:${userKey(user)}`);
    return sealed === null ? null : open(this.encryptionKey, sealed, aad('active', user));
  }

  private async check(user: string, base32: string, code: string): Promise<boolean> {
    const token = code.replace(/[\s-]/g, '');
    if (!/^\d+$/.test(token) || token.length !== this.cfg.digits) return false;
    const totp = this.totp(Secret.fromBase32(base32), user);
    const now = this.clock.now();
    const delta = totp.validate({ token, timestamp: now, window: this.cfg.skew });
    if (delta === null) return false;
    const step = totp.counter({ timestamp: now }) + delta;
    const k = userKey(user);
    const keep = (2 * this.cfg.skew + 2) * this.cfg.period;
    const last = await this.store.get(`totp:last:${k}`);
    if (last !== null && step <= Number(last)) return false;
    if (!(await this.store.set(`totp:used:${k}:${step}`, '1', keep, { onlyIfAbsent: true }))) return false;
    await this.store.set(`totp:last:${k}`, String(step), keep);
    return true;
  }

  private totp(secret: Secret, label: string): TOTP {
    return new TOTP({
      issuer: this.cfg.issuer,
      label,
      algorithm: this.cfg.algorithm,
      digits: this.cfg.digits,
      period: Math.max(1, Math.round(this.cfg.period / 1000)),
      secret,
    });
  }
}

function aad(kind: 'pending' | 'active', user: string): string {
  return `totp:${kind}:${user}`;
}
