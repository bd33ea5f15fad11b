import type { Config } from '../config/schema/index.js';
import type { Delivery, NotifyKind } from '../delivery/index.js';
import { audit, type AuditEvent, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { UserRecord } from '../users/directory.js';
import { reportPath, type ReportLinks } from './report-links.js';
import type { RequestInfo } from './request.js';

/** The notices that carry a "this wasn't me" link (issue 16). */
const REPORTABLE: ReadonlySet<UserNotice> = new Set(['new_device', 'factor_changed']);

/** Security emails the operator may turn on per kind (`second_factor.notify_user`). */
export type UserNotice = Extract<NotifyKind, 'locked' | 'new_device' | 'factor_changed' | 'recovery_code_used' | 'new_recovery_codes'>;

/** The `notify_user` setting that turns a notice on: new recovery codes are a change of the second factor. */
const SETTING: Readonly<Record<UserNotice, string>> = { locked: 'locked', new_device: 'new_device', factor_changed: 'factor_changed', recovery_code_used: 'recovery_code_used', new_recovery_codes: 'factor_changed' };

/**
 * What the use-cases tell the world: audit lines (SPEC §5, never a secret) and the user's security
 * emails. A notification that cannot be sent is logged and counted; the action it reports stands.
 */
export class Notices {
  constructor(
    private readonly d: { config: () => Readonly<Config>; logger: Logger; metrics: Metrics; delivery: Delivery; reportLinks?: ReportLinks },
  ) {}

  audit(info: Pick<RequestInfo, 'clientIp' | 'requestId'>, event: string, user: string | undefined, result: AuditEvent['result'], reason?: string, extra: Record<string, unknown> = {}): void {
    audit(this.d.logger, { event, user, client_ip: info.clientIp, request_id: info.requestId, result, reason, ...extra });
  }

  async user(user: UserRecord, kind: UserNotice, info: RequestInfo, vars: Record<string, string> = {}): Promise<void> {
    if (!(this.d.config().second_factor.notify_user as readonly string[]).includes(SETTING[kind])) return;
    const report = REPORTABLE.has(kind) ? this.reportLink(user.username) : undefined;
    await this.email(user, kind, info, report === undefined ? vars : { ...vars, report_link: report });
  }

  /**
   * A fresh "this wasn't me" link for the user, or undefined when reports are off or no `public_url` is
   * configured (an email's link never comes from a request's Host header).
   */
  private reportLink(user: string): string | undefined {
    const cfg = this.d.config();
    const links = this.d.reportLinks;
    const configured = cfg.server.public_url;
    const base = Array.isArray(configured) ? configured[0] : configured;
    if (!links || !cfg.second_factor.report.enabled || base === undefined) return undefined;
    const { token } = links.create(user, cfg.second_factor.report.link_ttl);
    return `${base.replace(/\/+$/, '')}${reportPath(cfg.server.portal_prefix, token)}`;
  }

  /** Sends `kind` to the user's directory address whatever `notify_user` says (links the user asked for). */
  async email(user: UserRecord, kind: NotifyKind, info: Pick<RequestInfo, 'clientIp' | 'requestId' | 'lang'>, vars: Record<string, string> = {}, to = user.email): Promise<boolean> {
    if (!to) return false;
    try {
      await this.d.delivery.notify(kind, to, { user: user.username, name: user.displayName ?? user.username, ip: info.clientIp, ...vars }, info.lang);
      return true;
    } catch (err) {
      this.d.metrics.deliveryFailures.inc({ channel: 'email', reason: 'notification' });
      this.d.logger.warn({ err: { message: (err as Error).message }, user: user.username, kind, request_id: info.requestId }, 'security notification not sent');
      return false;
    }
  }
}
