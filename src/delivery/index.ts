import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { audit, type Logger } from '../observability/logger.js';
import { systemClock, type Clock } from '../util/clock.js';
import { ConsoleEmailSender, ConsoleSmsSender } from './console.js';
import { SmtpEmailSender } from './email.js';
import { deliveryFailureReason } from './failure.js';
import { maskDestination } from './mask.js';
import type { EmailSender, SmsSender } from './notifier.js';
import { Outbox } from './outbox.js';
import { TwilioSmsSender } from './sms.js';
import { render } from './templates.js';

export type NotifyKind = 'locked' | 'new_device' | 'factor_changed' | 'recovery_code_used' | 'new_recovery_codes' | 'invite' | 'recovery_link' | 'verify_destination' | 'operator_report';

export interface CodeDestination {
  channel: 'email' | 'sms';
  address: string;
  /** Used when an SMS cannot be sent and `delivery.sms.fallback_to_email` is on. */
  fallbackEmail?: string | undefined;
}

export interface CodeContext {
  lang: string;
  ttlMs: number;
  user: string;
  /** The greeting; defaults to `user`. */
  displayName?: string | undefined;
  requestId?: string | undefined;
}

export interface SendResult {
  channel: 'email' | 'sms';
  address: string;
  fellBack: boolean;
}

export interface Delivery {
  email: EmailSender;
  sms: SmsSender;
  /** Present when a console (development) transport is configured. */
  outbox?: Outbox;
  sendCode(to: CodeDestination, code: string, ctx: CodeContext): Promise<SendResult>;
  /**
   * A security notification or link by email. `to` may instead be an E.164 number (for
   * `verify_destination` of a new phone): then the kind's SMS text is sent. `time` defaults to now (UTC)
   * and `destination` to `to`; see KIND_VARS for the rest.
   */
  notify(kind: NotifyKind, to: string, vars: Record<string, string>, lang: string): Promise<void>;
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface DeliveryDeps {
  logger: Logger;
  /** Product title used in every message (`portal.title`). */
  title: string;
  /** Overrides `delivery.email.templates_dir`. */
  templatesDir?: string | undefined;
  /** For the outbox timestamps and the default `time` of notifications. */
  clock?: Clock;
  /** Pre-built senders (for example a shared outbox); otherwise built from the config. */
  senders?: { email?: EmailSender; sms?: SmsSender };
}

/** Builds the configured transports and the one place messages are rendered and sent. */
export function createDelivery(config: Config['delivery'], deps: DeliveryDeps): Delivery {
  const { logger, title } = deps;
  const clock = deps.clock ?? systemClock;
  const templatesDir = deps.templatesDir ?? config.email.templates_dir;
  const smtp = config.email.transport === 'smtp' ? config.email.smtp : undefined;
  const twilio = config.sms.provider === 'twilio' ? config.sms.twilio : undefined;
  const needsOutbox = (deps.senders?.email === undefined && smtp === undefined) || (deps.senders?.sms === undefined && twilio === undefined);
  const outbox = needsOutbox ? new Outbox(deps.clock === undefined ? {} : { clock: deps.clock }) : undefined;
  const devOutbox = (): Outbox => outbox as Outbox;

  const email: EmailSender = deps.senders?.email ?? (smtp !== undefined ? new SmtpEmailSender(smtp, config.email.from) : new ConsoleEmailSender(devOutbox(), logger));
  const sms: SmsSender = deps.senders?.sms ?? (twilio !== undefined ? new TwilioSmsSender(twilio) : new ConsoleSmsSender(devOutbox(), logger));

  const overrides = { dir: templatesDir };

  async function sendCodeEmail(address: string, code: string, ctx: CodeContext): Promise<void> {
    const m = render('code', ctx.lang, { code, minutes: String(ctx.ttlMs / 60_000), title, name: ctx.displayName ?? ctx.user }, overrides);
    await email.send({ to: address, subject: m.subject, text: m.text, html: m.html, code });
  }

  function auditFailure(channel: 'email' | 'sms', address: string, err: unknown, ctx: CodeContext, extra: Record<string, unknown> = {}): void {
    audit(logger, {
      event: 'code_delivery',
      user: ctx.user,
      result: 'failure',
      reason: deliveryFailureReason(err) ?? 'error',
      request_id: ctx.requestId,
      channel,
      destination: maskDestination(address),
      ...extra,
    });
  }

  const delivery: Delivery = {
    email,
    sms,
    ...(outbox === undefined ? {} : { outbox }),

    async sendCode(to, code, ctx) {
      if (to.channel === 'email') {
        try {
          await sendCodeEmail(to.address, code, ctx);
        } catch (err) {
          auditFailure('email', to.address, err, ctx);
          throw asDeliveryError(err);
        }
        return { channel: 'email', address: to.address, fellBack: false };
      }
      try {
        const m = render('code', ctx.lang, { code, minutes: String(ctx.ttlMs / 60_000), title, name: ctx.displayName ?? ctx.user }, overrides);
        await sms.send({ to: to.address, text: m.sms, code });
        return { channel: 'sms', address: to.address, fellBack: false };
      } catch (err) {
        const canFallBack = config.sms.fallback_to_email && to.fallbackEmail !== undefined && to.fallbackEmail !== '';
        auditFailure('sms', to.address, err, ctx, { fallback: canFallBack ? 'email' : 'none' });
        if (!canFallBack) throw asDeliveryError(err);
      }
      const fallback = to.fallbackEmail as string;
      try {
        await sendCodeEmail(fallback, code, ctx);
      } catch (err) {
        auditFailure('email', fallback, err, ctx, { fallback_of: 'sms' });
        throw asDeliveryError(err);
      }
      logger.info({ event: 'code_delivery_fallback', user: ctx.user, request_id: ctx.requestId, destination: maskDestination(fallback) }, 'code sent by email after the SMS failed');
      return { channel: 'email', address: fallback, fellBack: true };
    },

    async notify(kind, to, vars, lang) {
      const m = render(kind, lang, { title, time: utcMinute(clock.now()), destination: to, ...vars }, overrides);
      try {
        const code = vars.code || undefined;
        if (to.includes('@')) await email.send({ to, subject: m.subject, text: m.text, html: m.html, code });
        else await sms.send({ to, text: m.sms, code });
      } catch (err) {
        logger.warn({ event: 'notify_failed', kind, channel: to.includes('@') ? 'email' : 'sms', reason: deliveryFailureReason(err) ?? 'error', destination: maskDestination(to) }, 'notification email not sent');
        throw asDeliveryError(err);
      }
    },

    /** Every transport checked; one error listing each channel that failed. */
    async check() {
      const results = await Promise.allSettled([email.check(), sms.check()]);
      const failed = (['email', 'sms'] as const).flatMap((channel, i) => {
        const r = results[i] as PromiseSettledResult<void>;
        return r.status === 'rejected' ? [{ channel, reason: deliveryFailureReason(r.reason) ?? 'error', error: r.reason as unknown }] : [];
      });
      if (failed.length === 0) return;
      throw new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', `delivery check failed: ${failed.map((f) => `${f.channel} (${f.reason})`).join(', ')}`, {
        cause: failed.length === 1 ? failed[0]?.error : new AggregateError(failed.map((f) => f.error)),
        details: { failures: failed.map(({ channel, reason }) => ({ channel, reason })) },
      });
    },

    async close() {
      await Promise.allSettled([email.close(), sms.close()]);
    },
  };
  return delivery;
}

/** `2026-01-02 03:04 UTC`: the default `time` of a notification. */
function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function asDeliveryError(err: unknown): PortcullisError {
  if (err instanceof PortcullisError) return err;
  return new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', undefined, { cause: err, details: { reason: 'error' } });
}

export { Outbox, type OutboxEntry } from './outbox.js';
export { ConsoleEmailSender, ConsoleSmsSender } from './console.js';
export { SmtpEmailSender } from './email.js';
export { TwilioSmsSender } from './sms.js';
export { render, escapeHtml, formatLifetime, KIND_VARS, MESSAGE_KINDS, LANGUAGES, resolveLanguage, type RenderedMessage, type MessageKind, type Language } from './templates.js';
export { maskEmail, maskPhone, maskDestination } from './mask.js';
export { isE164 } from './phone.js';
export { deliveryFailed, deliveryFailureReason, type DeliveryFailureReason } from './failure.js';
export type { EmailMessage, EmailSender, SmsMessage, SmsSender } from './notifier.js';
