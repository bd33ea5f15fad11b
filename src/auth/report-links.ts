import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { hmacSha256, safeEqual } from '../util/compare.js';
import { cryptoRandom, randomToken, type Random } from '../util/random.js';

/** The lock reason of a "this wasn't me" report: lifted by `users unlock` or by completing the recovery flow. */
export const REPORTED_LOCK = 'reported';

/** Longest token accepted (a username of 256 characters fits); anything longer is not looked at. */
export const MAX_REPORT_TOKEN = 1024;
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{16,960})\.([A-Za-z0-9_-]{43})$/;

export type ReportLookup = { status: 'valid'; user: string; expiresAt: number; nonce: string } | { status: 'expired' | 'used' | 'invalid' };

interface Payload {
  /** user */
  u: string;
  /** issued at (ms) */
  i: number;
  /** expires at (ms) */
  x: number;
  /** nonce (single use) */
  n: string;
}

/**
 * "This wasn't me" links (issue 16) in the new-device and factor-changed emails:
 * `<public_url><portal_prefix>/report/<payload>.<hmac>`, the payload (user, issued, expiry, nonce) signed
 * with the keyring's `report-links` key. Nothing is stored when a link is made (every security email has
 * its own, and a new one does not void the others); using one stores its nonce (`report:used:<nonce>`)
 * and the user's `report:since:<user>`, so the link works once and every link issued before a report is
 * void. A link gives no sign-in power: it can only end the user's access.
 */
export class ReportLinks {
  constructor(
    private readonly store: KeyValueStore,
    private readonly key: Buffer,
    private readonly clock: Clock,
    private readonly random: Random = cryptoRandom,
  ) {
    if (key.length < 16) throw new TypeError('ReportLinks needs a key of at least 16 bytes');
  }

  create(user: string, ttlMs: number): { token: string; expiresAt: number } {
    if (!(ttlMs > 0)) throw new RangeError('the link lifetime must be > 0');
    const now = this.clock.now();
    const payload: Payload = { u: user, i: now, x: now + ttlMs, n: randomToken(16, this.random) };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return { token: `${body}.${this.sign(body)}`, expiresAt: payload.x };
  }

  /** What the link is, without using it: `invalid` for anything not made here (tampered, truncated). */
  async peek(token: string): Promise<ReportLookup> {
    const p = this.verify(token);
    if (!p) return { status: 'invalid' };
    if (p.x <= this.clock.now()) return { status: 'expired' };
    if ((await this.store.get(usedKey(p.n))) !== null || (await this.superseded(p))) return { status: 'used' };
    return { status: 'valid', user: p.u, expiresAt: p.x, nonce: p.n };
  }

  /**
   * Uses the link up; of concurrent callers only one gets `valid`. Every link of the user issued until now
   * stops working (`linkTtl`: the longest a link lives, so that none outlives the record of this).
   */
  async consume(token: string, linkTtl: number): Promise<ReportLookup> {
    const found = await this.peek(token);
    if (found.status !== 'valid') return found;
    const now = this.clock.now();
    const ttl = Math.max(found.expiresAt - now, 1000);
    if (!(await this.store.set(usedKey(found.nonce), '1', ttl, { onlyIfAbsent: true }))) return { status: 'used' };
    // Every link issued up to now is void (links are made at most `link_ttl` before they expire).
    await this.store.set(sinceKey(found.user), String(now), Math.max(linkTtl, ttl));
    return found;
  }

  private async superseded(p: Payload): Promise<boolean> {
    const since = Number(await this.store.get(sinceKey(p.u)));
    return Number.isFinite(since) && since > 0 && p.i <= since;
  }

  private sign(body: string): string {
    return hmacSha256(this.key, `report-link\0${body}`).toString('base64url');
  }

  private verify(token: string): Payload | undefined {
    if (typeof token !== 'string' || token.length > MAX_REPORT_TOKEN) return undefined;
    const m = TOKEN_SHAPE.exec(token);
    if (!m) return undefined;
    const [, body, sig] = m as unknown as [string, string, string];
    if (!safeEqual(this.sign(body), sig)) return undefined;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload> | null;
      if (!v || typeof v.u !== 'string' || v.u.length === 0 || typeof v.i !== 'number' || typeof v.x !== 'number' || typeof v.n !== 'string') return undefined;
      return { u: v.u, i: v.i, x: v.x, n: v.n };
    } catch {
      return undefined;
    }
  }
}

function usedKey(nonce: string): string {
  return `report:used:${nonce}`;
}

function sinceKey(user: string): string {
  return `report:since:${userKey(user)}`;
}

export function reportPath(prefix: string, token: string): string {
  return `${prefix}/report/${token}`;
}
