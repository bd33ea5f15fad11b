import type { Config } from '../config/schema/index.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { Logger } from '../observability/logger.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionManager } from '../session/sessions.js';
import type { UserDirectory } from '../users/directory.js';
import type { Notices } from './notices.js';
import type { UserRevocation } from './revocation.js';
import type { Passwords } from './passwords.js';
import { recoveryPath, type RecoveryLinks } from './recovery-links.js';
import type { RequestInfo } from './request.js';
import type { TokenLookup } from './one-time-tokens.js';
import { REPORTED_LOCK } from './report-links.js';

/**
 * A lost second factor (seed 004, SPEC §3 `/recover`): a one-time link by email to the address the
 * directory (or a verified user entry) holds, asked for with an answer that is the same whether or not
 * the account exists; the link, with the user's password (the one regulated check: a locked account
 * cannot use it), removes the user's second factors, trusted devices and sessions, so the next sign-in
 * enrols again. Only with `second_factor.recovery.email_reset`.
 */
export class Recovery {
  constructor(
    private readonly d: {
      config: () => Readonly<Config>;
      logger: Logger;
      directory: UserDirectory;
      regulator: Regulator;
      passwords: Passwords;
      factors: FactorRegistry;
      devices: TrustedDevices;
      grace: ReverifyGrace;
      sessions: SessionManager;
      links: RecoveryLinks;
      notices: Notices;
      revocation: UserRevocation;
    },
  ) {}

  get enabled(): boolean {
    return this.d.config().second_factor.recovery.email_reset;
  }

  /**
   * Asks for a link for the typed name. Throws RATE_LIMITED (details.retry_after) within
   * `code.resend_after` of the last request for that name, or past the client's limit. Otherwise the
   * link is looked up and sent after this returns, so the answer and its timing are the same for every
   * name. `base` is the origin links point to (a configured `public_url`), or undefined when none fits.
   */
  async requestLink(username: string, base: string | undefined, info: RequestInfo): Promise<void> {
    const cooldown = this.d.config().second_factor.code.resend_after;
    const wait = await this.d.regulator.linkRequested(username, info.clientIp, cooldown);
    if (wait > 0) {
      this.d.notices.audit(info, 'recovery_link', username, 'failure', 'rate_limited', { method: 'email' });
      throw new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { details: { retry_after: Math.max(1, Math.ceil(wait / 1000)) } });
    }
    void this.sendLink(username, base, info).catch((err: unknown) => {
      this.d.notices.audit(info, 'recovery_link', username, 'failure', isPortcullisError(err) ? err.code : 'error', { method: 'email' });
    });
  }

  private async sendLink(username: string, base: string | undefined, info: RequestInfo): Promise<void> {
    const { notices } = this.d;
    const fail = (user: string, reason: string) => notices.audit(info, 'recovery_link', user, 'failure', reason, { method: 'email' });
    const user = await this.d.directory.lookup(username);
    if (!user || user.disabled) return fail(username, user ? 'disabled' : 'unknown_user');
    let email = user.email;
    if (!email) {
      const state = await this.d.factors.state.get(user.username);
      if (state.email?.verified) email = state.email.address;
    }
    if (!email) return fail(user.username, 'no_email');
    if (base === undefined) {
      this.d.logger.warn({ request_id: info.requestId }, 'recovery link not sent: set server.public_url (the request host is not one this gateway serves)');
      return fail(user.username, 'no_public_url');
    }
    const ttl = this.d.config().second_factor.recovery.link_ttl;
    const { token } = await this.d.links.create(user.username, ttl);
    const link = `${base}${recoveryPath(this.d.config().server.portal_prefix, token)}`;
    await this.d.notices.email(user, 'recovery_link', info, { link, minutes: String(Math.round(ttl / 60_000)) }, email);
    notices.audit(info, 'recovery_link', user.username, 'success', 'sent', { method: 'email' });
  }

  peek(token: string): Promise<TokenLookup> {
    return this.d.links.peek(token);
  }

  /**
   * Uses the link: the password must be the link owner's. Throws CODE_EXPIRED (unknown, used, expired, or
   * used up by wrong passwords; details.status), INVALID_CREDENTIALS (the link still works), RATE_LIMITED.
   * Answers the number of sessions ended.
   */
  async reset(token: string, password: string, deviceId: string | undefined, info: RequestInfo): Promise<{ sessionsEnded: number }> {
    const { links, notices } = this.d;
    const found = await links.peek(token);
    if (found.status !== 'valid') {
      notices.audit(info, 'second_factor_reset', undefined, 'failure', found.status, { method: 'email' });
      throw gone(found);
    }
    const username = found.user;
    let record;
    try {
      record = await this.d.passwords.confirmPassword(username, password, info, { event: 'second_factor_reset', method: 'email', expectedUser: username, allowLock: REPORTED_LOCK });
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CREDENTIALS') && !(await links.failed(found.hash))) throw gone({ status: 'used' });
      throw err;
    }
    const claimed = await links.consume(token);
    if (claimed.status !== 'valid' || claimed.user !== username) throw gone(claimed);
    await this.d.factors.reset(username);
    const { sessions: ended } = await this.d.revocation.endEverythingOfUser(username, 'second_factor_reset');
    // Completing the recovery lifts a "this wasn't me" lock (any other lock refused the password above).
    if ((await this.d.regulator.lockInfo(username))?.reason === REPORTED_LOCK) {
      await this.d.regulator.unlock(username);
      notices.audit(info, 'account_unlocked', username, 'success', REPORTED_LOCK, { method: 'recovery' });
    }
    if (deviceId) await this.d.grace.clear(username, deviceId);
    notices.audit(info, 'second_factor_reset', username, 'success', `sessions_ended:${ended}`, { method: 'email' });
    await notices.user(record, 'factor_changed', info, { change: 'reset' });
    return { sessionsEnded: ended };
  }
}

function gone(found: TokenLookup | { status: 'used' }): PortcullisError {
  return new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', 'This link is no longer valid', { details: { status: found.status } });
}
