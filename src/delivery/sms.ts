import twilio from 'twilio';
import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { deliveryFailed, safeCause, type DeliveryFailureReason } from './failure.js';
import type { SmsMessage, SmsSender } from './notifier.js';
import { isE164 } from './phone.js';
import { RebasingRequestClient } from './twilio-http.js';

export type TwilioConfig = NonNullable<Config['delivery']['sms']['twilio']>;

/** Twilio error codes that mean "this destination number cannot receive the message". */
const INVALID_NUMBER_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614]);
const MAX_BODY = 1600;

/** SMS through the real twilio SDK (Messages API), optionally against a Twilio-compatible `api_base_url`. */
export class TwilioSmsSender implements SmsSender {
  readonly channel = 'sms' as const;
  readonly #client: twilio.Twilio;
  readonly #http: RebasingRequestClient;
  readonly #config: TwilioConfig;

  constructor(config: TwilioConfig) {
    this.#config = config;
    this.#http = new RebasingRequestClient({ baseUrl: config.api_base_url, timeout: config.timeout });
    try {
      this.#client = twilio(config.account_sid, config.auth_token, {
        httpClient: this.#http,
        timeout: config.timeout,
        autoRetry: false,
        logLevel: 'info',
      });
    } catch (err) {
      // e.g. "accountSid must start with AC"; the message names no secret.
      throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `delivery.sms.twilio: ${(err as Error).message}`);
    }
    // The SDK loads its resource modules lazily; load the two we use now, not during the first send.
    void this.#client.messages;
    void this.#client.api.v2010;
  }

  async send(message: SmsMessage): Promise<void> {
    if (!isE164(message.to)) throw deliveryFailed('sms', 'invalid_number', new Error('destination is not an E.164 number'));
    const params =
      this.#config.messaging_service_sid !== undefined
        ? { to: message.to, body: message.text.slice(0, MAX_BODY), messagingServiceSid: this.#config.messaging_service_sid }
        : { to: message.to, body: message.text.slice(0, MAX_BODY), from: this.#config.from as string };
    await this.#bounded(() => this.#client.messages.create(params));
  }

  /** Fetches the account resource: proves the credentials and the base URL. */
  async check(): Promise<void> {
    await this.#bounded(() => this.#client.api.v2010.accounts(this.#config.account_sid).fetch());
  }

  close(): Promise<void> {
    this.#http.destroy();
    return Promise.resolve();
  }

  /** Every SDK failure becomes DELIVERY_FAILED with a reason (the request client bounds the time). */
  async #bounded<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw deliveryFailed('sms', twilioReason(err), safeCause(err, ['status', 'code', 'moreInfo']));
    }
  }
}

function twilioReason(err: unknown): DeliveryFailureReason {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { status?: unknown; code?: unknown };
  if (err instanceof twilio.RestException || typeof e.status === 'number') {
    return typeof e.code === 'number' && INVALID_NUMBER_CODES.has(e.code) ? 'invalid_number' : 'api_error';
  }
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || e.code === 'ESOCKETTIMEDOUT') return 'timeout';
  return 'network';
}
