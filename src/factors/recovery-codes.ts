import type { Config } from '../config/schema/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import { hmacSha256 } from '../util/compare.js';
import type { Random } from '../util/random.js';
import type { UserRecord } from '../users/directory.js';
import { CHARSETS, normalizeCode, randomCode, type Charset } from './charsets.js';
import type { Challenge, Enrolled, SecondFactor, Verdict } from './factor.js';

const CODE_LENGTH = 10;

/**
 * Recovery codes: `count` codes of 10 characters (about 50 bits each), shown once as `ABCD-EFGH-JK`.
 * Each is stored as its own key `rc:<user>:<hmac>` so a consume is one atomic get-and-delete; the set
 * `rc:<user>` indexes them. Only HMACs are stored.
 */
export class RecoveryCodes implements SecondFactor {
  readonly method = 'recovery_code' as const;
  readonly kind = 'backup' as const;
  readonly amr = 'otp';
  readonly notifyOnUse = 'recovery_code_used' as const;

  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: Config['second_factor']['recovery_codes'],
    private readonly secretKey: Buffer,
    private readonly random: Random,
  ) {}

  /** Replaces the user's codes with a new set and answers them (formatted) for showing once. */
  async generate(user: string): Promise<string[]> {
    await this.remove(user);
    const k = userKey(user);
    const codes: string[] = [];
    for (let i = 0; i < this.cfg.count; i++) {
      const raw = randomCode(CODE_LENGTH, 'alphanumeric', this.random);
      const digest = this.digest(user, raw);
      await this.store.set(`rc:${k}:${digest}`, '1', 0);
      await this.store.setAdd(`rc:${k}`, digest, 0);
      codes.push(`${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`);
    }
    return codes;
  }

  /** True once per code; a wrong, used or malformed code answers false. */
  async consume(user: string, code: string): Promise<boolean> {
    const raw = normalizeCode(code, 'alphanumeric');
    if (raw.length !== CODE_LENGTH || ![...raw].every((ch) => CHARSETS.alphanumeric.includes(ch))) return false;
    const k = userKey(user);
    const digest = this.digest(user, raw);
    if ((await this.store.getDel(`rc:${k}:${digest}`)) === null) return false;
    await this.store.setRemove(`rc:${k}`, digest);
    return true;
  }

  codeFormat(): { length: number; charset: Charset } {
    return { length: CODE_LENGTH, charset: 'alphanumeric' };
  }

  async enrolled(user: UserRecord): Promise<Enrolled | undefined> {
    const remaining = await this.remaining(user.username);
    return remaining > 0 ? { type: this.method, kind: this.kind, remaining } : undefined;
  }

  /** The codes were shown once at generation: nothing to send. */
  challenge(): Promise<Challenge> {
    return Promise.resolve({ kind: 'none' });
  }

  async verify(_flowId: string, user: string, response: string): Promise<Verdict> {
    return response.length > 0 && (await this.consume(user, response)) ? { result: 'ok' } : { result: 'invalid' };
  }

  async remaining(user: string): Promise<number> {
    return (await this.store.setMembers(`rc:${userKey(user)}`)).length;
  }

  async remove(user: string): Promise<void> {
    const k = userKey(user);
    const digests = await this.store.setMembers(`rc:${k}`);
    await Promise.all(digests.map((d) => this.store.del(`rc:${k}:${d}`)));
    await this.store.del(`rc:${k}`);
  }

  private digest(user: string, raw: string): string {
    return hmacSha256(this.secretKey, `rc:${user}:${raw}`).toString('base64url').slice(0, 32);
  }
}
