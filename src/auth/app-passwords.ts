import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema/index.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { Keyring } from '../keys/keyring.js';
import { userKey } from '../regulation/keys.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionManager } from '../session/sessions.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import { hmacSha256 } from '../util/compare.js';
import type { Notices } from './notices.js';
import { MAX_PASSWORD, MAX_USERNAME } from './passwords.js';
import type { RequestInfo } from './request.js';

export interface AppPassword {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt?: number;
  lastIp?: string;
  expiresAt?: number;
}

const NAME_MAX = 60;
const ID = /^[0-9a-f]{16}$/;
/** Never-ending records still need a TTL in the store: ten years. */
const FOREVER = 10 * 365 * 86_400_000;

/**
 * App passwords (issue 16): named, long random secrets a user makes for a legacy mobile app that can only
 * send a username and password. Shown once; stored as an HMAC-SHA256 under a key derived from the session
 * secret — 120 random bits need no slow hash (nothing to brute-force offline without the key, and a guess
 * online is throttled like any password). Accepted only where a rule says `app_passwords: true` (the access
 * decision), never at the portal's sign-in form; every check goes through the same per-user and per-client
 * regulation as passwords. All of a user's app passwords end when the password changes or the account
 * locks (registered with UserRevocation.alsoRevoke).
 */
export class AppPasswords {
  constructor(
    private readonly d: {
      store: KeyValueStore;
      keyring: Keyring;
      clock: Clock;
      config: () => Readonly<Config>;
      regulator: Regulator;
      directory: UserDirectory;
      notices: Notices;
      sessions: Pick<SessionManager, 'list' | 'revokeById'>;
    },
  ) {}

  get enabled(): boolean {
    return this.d.config().second_factor.app_passwords.enabled;
  }

  private hash(secret: string): string {
    return hmacSha256(this.d.keyring.atRest('app-passwords'), `app-password:${secret}`).toString('hex');
  }

  private listKey(user: string): string {
    return `apppws:${userKey(user)}`;
  }

  private recordKey(user: string, id: string): string {
    return `apppw:${userKey(user)}:${id}`;
  }

  async list(user: string): Promise<AppPassword[]> {
    const ids = await this.d.store.setMembers(this.listKey(user));
    const out: AppPassword[] = [];
    const now = this.d.clock.now();
    for (const id of ids) {
      const f = await this.d.store.hashGetAll(this.recordKey(user, id));
      if (!f || (f.x && Number(f.x) <= now)) {
        await this.d.store.setRemove(this.listKey(user), id);
        continue;
      }
      out.push({ id, name: f.n ?? '', createdAt: Number(f.c), ...(f.l ? { lastUsedAt: Number(f.l) } : {}), ...(f.i ? { lastIp: f.i } : {}), ...(f.x ? { expiresAt: Number(f.x) } : {}) });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Makes one; answers the secret (shown once, never stored). Throws BAD_REQUEST when off, unnamed or at the limit. */
  async create(user: UserRecord, name: string, info: RequestInfo): Promise<{ id: string; secret: string }> {
    const cfg = this.d.config().second_factor.app_passwords;
    // eslint-disable-next-line no-control-regex
    const clean = name.replace(/[\x00-\x1f\x7f]/g, '').trim().slice(0, NAME_MAX);
    if (!cfg.enabled) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'App passwords are turned off');
    if (!clean) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Give the app password a name');
    if ((await this.list(user.username)).length >= cfg.max_per_user) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'You have as many app passwords as allowed; remove one first');
    const id = randomBytes(8).toString('hex');
    // 15 random bytes → 24 base32 characters (120 bits) in groups of four, easy to type on a phone.
    const secret = base32(randomBytes(15)).match(/.{4}/g)!.join('-');
    const now = this.d.clock.now();
    const ttl = cfg.lifetime > 0 ? cfg.lifetime : FOREVER;
    await this.d.store.hashSet(this.recordKey(user.username, id), { n: clean, h: this.hash(normalise(secret)), c: String(now), ...(cfg.lifetime > 0 ? { x: String(now + cfg.lifetime) } : {}) }, ttl);
    await this.d.store.setAdd(this.listKey(user.username), id, FOREVER);
    this.d.notices.audit(info, 'app_password', user.username, 'success', 'created', { method: 'app_password' });
    return { id, secret };
  }

  async remove(user: string, id: string, info: RequestInfo): Promise<boolean> {
    if (!ID.test(id)) return false;
    const removed = (await this.d.store.del(this.recordKey(user, id))) > 0;
    await this.d.store.setRemove(this.listKey(user), id);
    // Tokens the JSON API made from it end too (with the streams they opened).
    for (const s of await this.d.sessions.list(user)) if (s.session.appPassword === id) await this.d.sessions.revokeById(s.id);
    if (removed) this.d.notices.audit(info, 'app_password', user, 'success', 'removed', { method: 'app_password' });
    return removed;
  }

  /** Ends every app password of the user (password changed, account locked, reported, reset). */
  async removeAll(user: string): Promise<number> {
    const ids = await this.d.store.setMembers(this.listKey(user));
    if (ids.length) await this.d.store.del(...ids.map((id) => this.recordKey(user, id)));
    await this.d.store.del(this.listKey(user));
    return ids.length;
  }

  /**
   * Checks `username`/`secret` as an app password. Answers the user and the app password's id, or
   * undefined when it is none of the user's (no failure counted yet: the caller counts one when nothing
   * else accepts the credentials). Throws RATE_LIMITED while the user or the client is blocked —
   * whatever the secret — and DIRECTORY_UNAVAILABLE.
   */
  async check(username: string, secret: string, info: Pick<RequestInfo, 'clientIp' | 'requestId'>): Promise<{ user: UserRecord; id: string } | undefined> {
    if (!this.enabled || !username || !secret || username.length > MAX_USERNAME || secret.length > MAX_PASSWORD) return undefined;
    const ids = await this.d.store.setMembers(this.listKey(username));
    if (ids.length === 0) return undefined;
    await this.d.regulator.checkPassword(username, info.clientIp);
    const given = Buffer.from(this.hash(normalise(secret)), 'hex');
    const now = this.d.clock.now();
    let match: string | undefined;
    for (const id of ids) {
      const f = await this.d.store.hashGetAll(this.recordKey(username, id));
      if (!f?.h || (f.x && Number(f.x) <= now)) continue;
      const stored = Buffer.from(f.h, 'hex');
      if (stored.length === given.length && timingSafeEqual(stored, given)) match = id;
    }
    if (match === undefined) return undefined;
    const user = await this.d.directory.lookup(username);
    if (!user || user.disabled || (await this.d.regulator.isLocked(username))) {
      this.d.notices.audit(info, 'app_password', username, 'failure', 'not_allowed', { method: 'app_password' });
      return undefined;
    }
    const key = this.recordKey(username, match);
    const ttl = await this.d.store.ttl(key);
    if (ttl > 0) await this.d.store.hashSet(key, { l: String(now), i: info.clientIp.slice(0, 64) }, ttl);
    await this.d.regulator.passwordSucceeded(username);
    this.d.notices.audit(info, 'app_password', username, 'success', 'accepted', { method: 'app_password' });
    return { user, id: match };
  }

  /**
   * The JSON API's login with `app_password: true`: the user and the app password's id, or
   * INVALID_CREDENTIALS (counted like a wrong password) — the same answer as a wrong password at /login.
   */
  async signIn(username: string, secret: string, info: Pick<RequestInfo, 'clientIp' | 'requestId'>): Promise<{ user: UserRecord; id: string }> {
    const hit = await this.check(username, secret, info);
    if (hit) return hit;
    if (username && username.length <= MAX_USERNAME) await this.failed(username, info);
    throw new PortcullisError('PORTCULLIS_ERR_INVALID_CREDENTIALS');
  }

  /** A wrong app password: counted like a wrong password (per user and per client). */
  async failed(username: string, info: Pick<RequestInfo, 'clientIp' | 'requestId'>): Promise<void> {
    await this.d.regulator.passwordFailed(username, info.clientIp);
    this.d.notices.audit(info, 'app_password', username, 'failure', 'invalid_credentials', { method: 'app_password' });
  }
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Users type app passwords on phones: case, spaces and dashes do not matter. */
function normalise(secret: string): string {
  return secret.toLowerCase().replace(/[\s-]/g, '');
}

export function isRateLimited(err: unknown): boolean {
  return isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED');
}
