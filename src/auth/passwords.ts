import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { Regulator } from '../regulation/regulator.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import type { Notices } from './notices.js';
import { PasswordCache } from './password-cache.js';
import type { RequestInfo } from './request.js';

export const MAX_USERNAME = 256;
export const MAX_PASSWORD = 1024;

export interface ConfirmOptions {
  /** The audit event this check belongs to (`login`, `enrolment`, `second_factor_reset`, `api_client`). */
  event: string;
  /** The method named in the audit line (default `password`). */
  method?: string;
  /** The password must belong to this user (a signed-in user re-entering theirs, a recovery link's owner). */
  expectedUser?: string;
  /**
   * HTTP Basic clients send their password with every request: a success is remembered this long (ms),
   * keyed by a keyed hash of the credentials. The regulation and lock checks still run every time.
   */
  cacheTtl?: number;
  /** A lock with this reason does not refuse (a recovery link lifts a "this wasn't me" lock). */
  allowLock?: string;
}

/**
 * The one password check (SPEC §3): every path that takes a password — sign-in, enrolment, a recovery
 * link, HTTP Basic API clients, app passwords — comes here, so throttling, lockout and the answer to
 * a wrong password are the same everywhere.
 */
export class Passwords {
  private readonly cache: PasswordCache;

  constructor(
    private readonly d: { directory: UserDirectory; regulator: Regulator; metrics: Metrics; notices: Notices; clock: Clock },
  ) {
    this.cache = new PasswordCache(d.clock);
  }

  /**
   * Answers the user whose password this is. Throws PortcullisError:
   * - RATE_LIMITED (details.retry_after) while the user or the client is blocked — whatever the password;
   * - INVALID_CREDENTIALS for a wrong password, an unknown, disabled or locked user (one answer for all);
   * - DIRECTORY_UNAVAILABLE when the directory cannot answer.
   */
  async confirmPassword(username: string, password: string, info: Pick<RequestInfo, 'clientIp' | 'requestId'>, o: ConfirmOptions): Promise<UserRecord> {
    const { regulator, directory, notices } = this.d;
    const method = o.method ?? 'password';
    const refuse = (reason: string, user = username): never => {
      if (o.event === 'login') this.d.metrics.logins.inc({ result: 'failure', reason });
      notices.audit(info, o.event, user || undefined, 'failure', reason, { method });
      throw new PortcullisError('PORTCULLIS_ERR_INVALID_CREDENTIALS');
    };
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password || username.length > MAX_USERNAME || password.length > MAX_PASSWORD) {
      return refuse('invalid_input');
    }
    try {
      await regulator.checkPassword(username, info.clientIp);
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) {
        if (o.event === 'login') this.d.metrics.logins.inc({ result: 'failure', reason: 'rate_limited' });
        notices.audit(info, o.event, username, 'failure', 'rate_limited', { method });
      }
      throw err;
    }
    const cacheKey = o.cacheTtl ? this.cache.keyFor(username, password) : undefined;
    let user = cacheKey === undefined ? undefined : this.cache.get(cacheKey);
    const fromCache = user !== undefined;
    if (!user) {
      const checked = cacheKey === undefined ? await authenticate(directory, username, password) : await this.cache.shared(cacheKey, () => authenticate(directory, username, password));
      if (!checked || checked.disabled || (o.expectedUser !== undefined && checked.username !== o.expectedUser)) {
        await regulator.passwordFailed(o.expectedUser ?? username, info.clientIp);
        // A known user re-entering their own password gets the plainer reason in the audit line.
        return refuse(o.expectedUser === undefined ? 'invalid_credentials' : 'invalid_password');
      }
      user = checked;
    }
    if (await this.lockedFor(user.username, o.allowLock)) return refuse('locked', user.username);
    if (fromCache) return user;
    await regulator.passwordSucceeded(user.username);
    if (cacheKey !== undefined) this.cache.set(cacheKey, user, o.cacheTtl!);
    if (o.event === 'login') this.d.metrics.logins.inc({ result: 'success', reason: 'password' });
    notices.audit(info, o.event, user.username, 'success', o.event === 'api_client' ? 'password_checked' : 'password', { method });
    return user;
  }

  /** Locked, unless the lock's reason is the one allowed (a recovery link lifts a "this wasn't me" lock). */
  private async lockedFor(user: string, allow: string | undefined): Promise<boolean> {
    if (allow === undefined) return this.d.regulator.isLocked(user);
    const lock = await this.d.regulator.lockInfo(user);
    return lock !== null && lock.reason !== allow;
  }

  /** Forgets cached Basic credentials of a user (password changed, account disabled or locked). */
  forget(username: string): void {
    this.cache.forgetUser(username);
  }
}

async function authenticate(directory: UserDirectory, username: string, password: string): Promise<UserRecord | null> {
  try {
    return await directory.authenticate(username, password);
  } catch (err) {
    if (isPortcullisError(err)) throw err;
    throw new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE', undefined, { cause: err });
  }
}
