import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { ipKey, typedUserKey, userKey } from './keys.js';

export interface RegulatorConfig {
  regulation: Config['regulation'];
  lockout: Config['second_factor']['lockout'];
}

export interface LockInfo {
  reason: string;
  at: number;
}

/**
 * Brute-force regulation, all state in the shared store so several gateway instances count together.
 * Passwords and second-factor codes are counted separately: a password block never locks a second
 * factor and a code lockout never blocks a password check (callers decide what a lock means at sign-in).
 *
 * Keys: reg:pw:u:<hash> / reg:pw:ip:<ip> (failures in `window`), reg:pw:block:u:<hash> /
 * reg:pw:block:ip:<ip> (blocked for `block`), reg:code:u:<user> (code failures in `lockout.window`),
 * reg:code:ip:<ip> / reg:code:block:ip:<ip> (a client's wrong codes, with the per-client limits),
 * lock:<user> (lockout; no TTL when `lockout.duration` is 0).
 * Store errors propagate: callers fail closed.
 */
export class Regulator {
  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: RegulatorConfig,
    private readonly clock: Clock,
  ) {}

  /** Throws PORTCULLIS_ERR_RATE_LIMITED (details.retry_after in seconds) while the user or the client is blocked. */
  async checkPassword(user: string, ip: string): Promise<void> {
    const [u, c] = await Promise.all([
      this.store.ttl(`reg:pw:block:u:${typedUserKey(user)}`),
      this.store.ttl(`reg:pw:block:ip:${ipKey(ip)}`),
    ]);
    const remaining = Math.max(blockRemaining(u, this.cfg.regulation.block), blockRemaining(c, this.cfg.regulation.block));
    if (remaining > 0) throw rateLimited(remaining);
  }

  /** Counts a wrong password; the failure that reaches a limit starts the block. */
  async passwordFailed(user: string, ip: string): Promise<void> {
    const { window, block, max_failures, max_failures_per_client } = this.cfg.regulation;
    const uk = typedUserKey(user);
    const ck = ipKey(ip);
    const [nu, nc] = await Promise.all([this.store.incr(`reg:pw:u:${uk}`, window), this.store.incr(`reg:pw:ip:${ck}`, window)]);
    const blocks: Promise<boolean>[] = [];
    if (block <= 0) return; // block 0: counting only (a TTL of 0 would block for ever)
    if (nu >= max_failures) blocks.push(this.store.set(`reg:pw:block:u:${uk}`, '1', block, { onlyIfAbsent: true }));
    if (nc >= max_failures_per_client) blocks.push(this.store.set(`reg:pw:block:ip:${ck}`, '1', block, { onlyIfAbsent: true }));
    await Promise.all(blocks);
  }

  /** A right password clears the user's counter (the client's counter runs out with its window). */
  async passwordSucceeded(user: string): Promise<void> {
    await this.store.del(`reg:pw:u:${typedUserKey(user)}`);
  }

  /**
   * Throws PORTCULLIS_ERR_RATE_LIMITED while the client is blocked for wrong codes (its own counter,
   * separate from passwords: `regulation.max_failures_per_client` within `regulation.window`).
   */
  async checkCode(ip: string): Promise<void> {
    const ttl = await this.store.ttl(`reg:code:block:ip:${ipKey(ip)}`);
    const remaining = blockRemaining(ttl, this.cfg.regulation.block);
    if (remaining > 0) throw rateLimited(remaining);
  }

  /**
   * Counts a wrong second-factor code. At `lockout.max_failures` within `lockout.window` the account is
   * locked; `newlyLocked` is true for exactly one caller (send the notification then). With `ip`, the
   * client's code failures are counted too (see checkCode).
   */
  async codeFailed(user: string, ip?: string): Promise<{ locked: boolean; failures: number; newlyLocked: boolean }> {
    const { max_failures, window } = this.cfg.lockout;
    if (ip !== undefined) await this.clientCodeFailed(ip);
    const failures = await this.store.incr(`reg:code:u:${userKey(user)}`, window);
    if (failures < max_failures) return { locked: await this.isLocked(user), failures, newlyLocked: false };
    const newlyLocked = await this.lock(user, 'code_failures');
    return { locked: true, failures, newlyLocked };
  }

  private async clientCodeFailed(ip: string): Promise<void> {
    const { window, block, max_failures_per_client } = this.cfg.regulation;
    const k = ipKey(ip);
    const n = await this.store.incr(`reg:code:ip:${k}`, window);
    if (n >= max_failures_per_client && block > 0) await this.store.set(`reg:code:block:ip:${k}`, '1', block, { onlyIfAbsent: true });
  }

  /**
   * Claims the user's one running second-factor check (every instance shares it): false while another
   * check of the same user runs. Checked one at a time, parallel guesses cannot all be evaluated before
   * the lockout counts them (issue 12: exactly `lockout.max_failures` wrong codes are ever evaluated).
   * The claim ends with releaseCodeCheck, or after `ttlMs` if the holder died.
   */
  claimCodeCheck(user: string, ttlMs = 10_000): Promise<boolean> {
    return this.store.set(`reg:code:busy:${userKey(user)}`, '1', ttlMs, { onlyIfAbsent: true });
  }

  async releaseCodeCheck(user: string): Promise<void> {
    await this.store.del(`reg:code:busy:${userKey(user)}`);
  }

  async codeSucceeded(user: string): Promise<void> {
    await this.store.del(`reg:code:u:${userKey(user)}`);
  }

  async isLocked(user: string): Promise<boolean> {
    return (await this.store.get(`lock:${userKey(user)}`)) !== null;
  }

  /** Details of the lock, or null. */
  async lockInfo(user: string): Promise<LockInfo | null> {
    const raw = await this.store.get(`lock:${userKey(user)}`);
    if (raw === null) return null;
    try {
      const v = JSON.parse(raw) as Partial<LockInfo>;
      return { reason: typeof v.reason === 'string' ? v.reason : 'unknown', at: typeof v.at === 'number' ? v.at : 0 };
    } catch {
      return { reason: 'unknown', at: 0 };
    }
  }

  /** Locks the account for `lockout.duration` (0 = until unlocked). Answers false when it was already locked. */
  async lock(user: string, reason: string): Promise<boolean> {
    const value = JSON.stringify({ reason: reason.slice(0, 64), at: this.clock.now() });
    return this.store.set(`lock:${userKey(user)}`, value, this.cfg.lockout.duration, { onlyIfAbsent: true });
  }

  /**
   * Locks the account until an operator unlocks it (or the recovery flow lifts a lock of this reason),
   * whatever `lockout.duration` says and replacing a lock already there ("this wasn't me").
   */
  async lockUntilUnlocked(user: string, reason: string): Promise<void> {
    await this.store.set(`lock:${userKey(user)}`, JSON.stringify({ reason: reason.slice(0, 64), at: this.clock.now() }), 0);
  }

  /** Clears the lock and the code counter (operator `users unlock`). */
  async unlock(user: string): Promise<void> {
    const k = userKey(user);
    // One key per call: multi-key commands would cross slots on Redis Cluster.
    await Promise.all([this.store.del(`lock:${k}`), this.store.del(`reg:code:u:${k}`)]);
  }

  /**
   * A link by email was asked for (second-factor recovery): one per typed name per `cooldownMs`, and at
   * most `max_failures_per_client` per client within `window`. Answers the milliseconds to wait (0: go
   * ahead and count it). Keyed on the name as typed, so the answer is the same for unknown names.
   */
  async linkRequested(user: string, ip: string, cooldownMs: number): Promise<number> {
    const { window, max_failures_per_client } = this.cfg.regulation;
    const userKey = `reg:recover:u:${typedUserKey(user)}`;
    const clientKey = `reg:recover:ip:${ipKey(ip)}`;
    const clients = await this.store.incr(clientKey, window);
    if (clients > max_failures_per_client) {
      const ttl = await this.store.ttl(clientKey);
      return ttl > 0 ? ttl : window;
    }
    if (cooldownMs > 0 && !(await this.store.set(userKey, '1', cooldownMs, { onlyIfAbsent: true }))) {
      const ttl = await this.store.ttl(userKey);
      return ttl > 0 ? ttl : cooldownMs;
    }
    return 0;
  }

  /** Lifts the user's wrong-password block and counter (operator `users unlock`); answers whether a block was on. */
  async clearPasswordBlock(user: string): Promise<boolean> {
    const k = typedUserKey(user);
    const [blocked] = await Promise.all([this.store.del(`reg:pw:block:u:${k}`), this.store.del(`reg:pw:u:${k}`)]);
    return blocked > 0;
  }
}

function blockRemaining(ttl: number, block: number): number {
  if (ttl === -2) return 0;
  return ttl === -1 ? block : ttl; // -1 cannot happen for a key written with a TTL; treat it as a full block
}

function rateLimited(remainingMs: number): PortcullisError {
  return new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { details: { retry_after: Math.max(1, Math.ceil(remainingMs / 1000)) } });
}
