import { PortcullisError } from '../errors/index.js';
import type { TrustedDevices } from '../factors/devices.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionData, SessionManager } from '../session/sessions.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import { OVERRIDABLE_SOURCES, type PasswordOverrides } from '../users/overrides.js';
import { hashPassword } from '../users/password.js';
import type { Clock } from '../util/clock.js';
import type { Invites } from './invites.js';
import type { Notices } from './notices.js';
import type { UserRevocation } from './revocation.js';
import { MAX_PASSWORD } from './passwords.js';
import type { RequestInfo } from './request.js';
import { issueSession } from './sessions.js';
import type { TokenLookup } from './one-time-tokens.js';

export const MIN_INVITE_PASSWORD = 8;

/**
 * Set-password invites (seed 001, SPEC §3 `/invite/TOKEN`): the link sets the password of a users-file
 * account and signs the user in without a code, once. A new password ends what the old one opened.
 */
export class Invitations {
  constructor(
    private readonly d: {
      clock: Clock;
      directory: UserDirectory;
      regulator: Regulator;
      invites: Invites;
      overrides: PasswordOverrides;
      sessions: SessionManager;
      devices: TrustedDevices;
      notices: Notices;
      forgetPassword: (user: string) => void;
      revocation: UserRevocation;
    },
  ) {}

  /** The invited user, while the directory still knows them as a users-file account that is not disabled. */
  private async invitable(username: string): Promise<UserRecord | undefined> {
    const record = await this.d.directory.lookup(username);
    return record && record.username === username && !record.disabled && OVERRIDABLE_SOURCES.has(record.source) ? record : undefined;
  }

  /** The link's state; a valid link of a user who can no longer be invited reads as `used`. */
  async peek(token: string): Promise<TokenLookup> {
    const found = await this.d.invites.peek(token);
    if (found.status !== 'valid') return found;
    return (await this.invitable(found.user)) ? found : { status: 'used' };
  }

  /**
   * Sets the password and signs the user in (level two_factor, the link standing in for the code).
   * Throws BAD_REQUEST (details.reason `too_short` | `mismatch`), CODE_EXPIRED (details.status), LOCKED.
   */
  async accept(
    token: string,
    password: string,
    confirmation: string,
    o: { deviceId: string; userAgent?: string | undefined; replace?: string | undefined },
    info: RequestInfo,
  ): Promise<{ cookie: string; session: SessionData }> {
    const { notices } = this.d;
    const found = await this.d.invites.peek(token);
    if (found.status !== 'valid') {
      notices.audit(info, 'invite', undefined, 'failure', found.status, { method: 'invite' });
      throw gone(found.status);
    }
    const username = found.user;
    if ([...password].length < MIN_INVITE_PASSWORD || password.length > MAX_PASSWORD) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', undefined, { details: { reason: 'too_short' } });
    if (password !== confirmation) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', undefined, { details: { reason: 'mismatch' } });
    const user = await this.invitable(username);
    if (!user) {
      notices.audit(info, 'invite', username, 'failure', 'not_invitable', { method: 'invite' });
      throw gone('used');
    }
    if (await this.d.regulator.isLocked(username)) {
      notices.audit(info, 'invite', username, 'failure', 'locked', { method: 'invite' });
      throw new PortcullisError('PORTCULLIS_ERR_LOCKED');
    }
    const hash = await hashPassword(password, 'argon2id');
    // Claimed atomically: of two submissions racing with the same link, one wins.
    const claimed = await this.d.invites.consume(token);
    if (claimed.status !== 'valid' || claimed.user !== username) {
      notices.audit(info, 'invite', username, 'failure', claimed.status, { method: 'invite' });
      throw gone(claimed.status === 'valid' ? 'used' : claimed.status);
    }
    await this.d.overrides.set(username, hash);
    this.d.forgetPassword(username);
    // A new password ends what the old one opened: other sessions and remembered devices.
    await this.d.revocation.endEverythingOfUser(username, 'password_changed');
    notices.audit(info, 'invite', username, 'success', 'password_set', { method: 'invite' });
    const now = this.d.clock.now();
    const made = await issueSession(this.d.sessions, user, { level: 'two_factor', factors: ['invite'], now, deviceId: o.deviceId, clientIp: info.clientIp, userAgent: o.userAgent, replace: o.replace });
    notices.audit(info, 'login', username, 'success', 'invite', { method: 'invite' });
    return { cookie: made.cookie, session: made.session };
  }
}

function gone(status: string): PortcullisError {
  return new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', 'This link is no longer valid', { details: { status } });
}
