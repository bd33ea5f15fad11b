import type { Logger } from '../observability/logger.js';
import { deliveryFailed } from './failure.js';
import type { EmailMessage, EmailSender, SmsMessage, SmsSender } from './notifier.js';
import type { Outbox } from './outbox.js';
import { isE164 } from './phone.js';

/**
 * Development transports. These are the only place a code may reach the log: the log line IS the
 * delivery channel. It is marked `dev_delivery: true` and carries the message as `text` (not under the
 * redacted `code` key). Never configure these in production.
 */
/** The development channel itself: the outbox entry and one marked log line. */
function deliver(outbox: Outbox, logger: Logger, entry: { channel: 'email' | 'sms'; to: string; subject?: string; text: string }, code: string | undefined): void {
  outbox.add(code === undefined ? entry : { ...entry, code });
  logger.info({ dev_delivery: true, ...entry }, `dev delivery: ${entry.channel} to ${entry.to}`);
}

export class ConsoleEmailSender implements EmailSender {
  readonly channel = 'email' as const;
  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  send(message: EmailMessage): Promise<void> {
    if (!message.to.includes('@')) return Promise.reject(deliveryFailed('email', 'invalid_address'));
    deliver(this.outbox, this.logger, { channel: 'email', to: message.to, subject: message.subject, text: message.text }, message.code);
    return Promise.resolve();
  }

  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

export class ConsoleSmsSender implements SmsSender {
  readonly channel = 'sms' as const;
  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  send(message: SmsMessage): Promise<void> {
    // Same rule as the real provider, so development catches bad numbers too.
    if (!isE164(message.to)) return Promise.reject(deliveryFailed('sms', 'invalid_number'));
    deliver(this.outbox, this.logger, { channel: 'sms', to: message.to, text: message.text }, message.code);
    return Promise.resolve();
  }

  async check(): Promise<void> {}
  async close(): Promise<void> {}
}
