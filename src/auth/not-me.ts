import type { Config } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import type { OneTimeCodes } from '../factors/codes.js';
import type { Logger } from '../observability/logger.js';
import type { Regulator } from '../regulation/regulator.js';
import type { Clock } from '../util/clock.js';
import type { Invites } from './invites.js';
import type { Notices } from './notices.js';
import type { RecoveryLinks } from './recovery-links.js';
import { REPORTED_LOCK, type ReportLinks, type ReportLookup } from './report-links.js';
import type { RequestInfo } from './request.js';
import type { UserRevocation } from './revocation.js';

export type ReportOutcome = { status: 'done'; user: string; sessions: number; devices: number } | { status: Exclude<ReportLookup['status'], 'valid'> };

/**
 * "This wasn't me" (issue 16): the link in a new-device or factor-changed email, after a confirmation
 * page, ends every session and open connection of the user on every instance, forgets their trusted
 * devices, withdraws outstanding codes, recovery links and invites, and locks the account until an
 * operator unlocks it (`portcullis users unlock`) or the user completes the recovery flow. The operator
 * is told by an audit event and, with `second_factor.notify_operators`, by email.
 */
export class NotMe {
  constructor(
    private readonly d: {
      config: () => Readonly<Config>;
      clock: Clock;
      logger: Logger;
      links: ReportLinks;
      revocation: UserRevocation;
      regulator: Regulator;
      codes: OneTimeCodes;
      recoveryLinks: RecoveryLinks;
      invites: Invites;
      notices: Notices;
      delivery: Delivery;
    },
  ) {}

  get enabled(): boolean {
    return this.d.config().second_factor.report.enabled;
  }

  /** What the link is (for the confirmation page), without using it. */
  check(token: string): Promise<ReportLookup> {
    return this.d.links.peek(token);
  }

  /** A POST of a link that no longer works (audited like a failed report). */
  refused(status: Exclude<ReportLookup['status'], 'valid'>, info: RequestInfo): void {
    this.d.notices.audit(info, 'account_reported', undefined, 'failure', status, { method: 'email_link' });
  }

  /** Uses the link and shuts everything of its user. Store errors propagate (the page answers 503). */
  async report(token: string, info: RequestInfo): Promise<ReportOutcome> {
    const { notices } = this.d;
    const found = await this.d.links.consume(token, this.d.config().second_factor.report.link_ttl);
    if (found.status !== 'valid') {
      this.refused(found.status, info);
      return { status: found.status };
    }
    const user = found.user;
    // Locked first: nothing can sign in again while the rest is undone.
    await this.d.regulator.lockUntilUnlocked(user, REPORTED_LOCK);
    const ended = await this.d.revocation.endEverythingOfUser(user, 'reported');
    const codes = await this.d.codes.invalidateUser(user);
    const recoveryLink = await this.d.recoveryLinks.revokeUser(user);
    const invite = await this.d.invites.revokeUser(user);
    notices.audit(info, 'account_reported', user, 'success', 'not_me', {
      method: 'email_link',
      sessions_ended: ended.sessions,
      devices_forgotten: ended.devices,
      codes_withdrawn: codes,
      links_withdrawn: Number(recoveryLink) + Number(invite),
      locked: true,
    });
    await this.tellOperators(user, info);
    return { status: 'done', user, ...ended };
  }

  private async tellOperators(user: string, info: RequestInfo): Promise<void> {
    const cfg = this.d.config();
    const lang = cfg.portal.languages[0] ?? 'en';
    const time = new Date(this.d.clock.now()).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    for (const to of cfg.second_factor.notify_operators) {
      try {
        await this.d.delivery.notify('operator_report', to, { user, ip: info.clientIp, time, name: '' }, lang);
      } catch (err) {
        this.d.logger.warn({ err: { message: (err as Error).message }, user, request_id: info.requestId }, 'operator notification of a report not sent');
      }
    }
  }
}
