import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { deliveryFailed, safeCause, type DeliveryFailureReason } from './failure.js';
import type { EmailMessage, EmailSender } from './notifier.js';

export type SmtpConfig = NonNullable<Config['delivery']['email']['smtp']>;

const MAX_SUBJECT = 998;
/** Node's certificate and TLS error codes (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID, ...). */
const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;

/** Email over the operator's SMTP server (nodemailer): implicit TLS or STARTTLS, optional auth, pooled. */
export class SmtpEmailSender implements EmailSender {
  readonly channel = 'email' as const;
  readonly #transporter: Transporter;
  readonly #from: string;

  constructor(config: SmtpConfig, from: string) {
    this.#from = from;
    let ca: Buffer | undefined;
    if (config.tls.ca_file !== undefined) {
      try {
        ca = readFileSync(config.tls.ca_file);
      } catch (err) {
        throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `delivery.email.smtp.tls.ca_file: cannot read '${config.tls.ca_file}'`, { cause: err });
      }
    }
    const options: SMTPTransport.Options & SMTPPool.Options = {
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.require_tls,
      connectionTimeout: config.timeout,
      greetingTimeout: config.timeout,
      socketTimeout: config.timeout,
      dnsTimeout: config.timeout,
      tls: { rejectUnauthorized: config.tls.reject_unauthorized, ...(ca === undefined ? {} : { ca }) },
      logger: false,
      debug: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    if (config.user !== undefined) options.auth = { user: config.user, pass: config.password ?? '' };
    this.#transporter = config.pool ? nodemailer.createTransport({ ...options, pool: true, maxConnections: 3 }) : nodemailer.createTransport(options);
  }

  async send(message: EmailMessage): Promise<void> {
    try {
      const info = await this.#transporter.sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject.replace(/[\r\n]+/g, ' ').slice(0, MAX_SUBJECT),
        text: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
      });
      const rejected = (info as { rejected?: unknown[] }).rejected;
      if (Array.isArray(rejected) && rejected.length > 0) throw Object.assign(new Error('recipient rejected'), { code: 'EENVELOPE' });
    } catch (err) {
      throw smtpFailure(err);
    }
  }

  /** Connects, negotiates TLS and authenticates, without sending anything. */
  async check(): Promise<void> {
    try {
      await this.#transporter.verify();
    } catch (err) {
      throw smtpFailure(err);
    }
  }

  close(): Promise<void> {
    this.#transporter.close();
    return Promise.resolve();
  }
}

function smtpFailure(err: unknown): PortcullisError {
  return deliveryFailed('email', smtpReason(err), safeCause(err, ['code', 'originalCode', 'responseCode']));
}

function smtpReason(err: unknown): DeliveryFailureReason {
  const { code, responseCode, originalCode } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; responseCode?: unknown; originalCode?: unknown };
  if (code === 'EAUTH' || code === 'ENOAUTH') return 'auth';
  if (code === 'ETLS' || [code, originalCode].some((c) => typeof c === 'string' && TLS_ERROR.test(c))) return 'tls';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'timeout';
  if (code === 'EENVELOPE' && responseCode === undefined) return 'invalid_address';
  if (typeof responseCode === 'number') return 'rejected';
  if (code === 'EMESSAGE' || code === 'EENVELOPE') return 'rejected';
  return 'network';
}
