/** An email ready to send: both bodies already rendered and localised. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
  /** The one-time code the message carries, for the development outbox to show; real transports ignore it. */
  code?: string | undefined;
}

export interface SmsMessage {
  /** E.164. */
  to: string;
  text: string;
  /** As in EmailMessage. */
  code?: string | undefined;
}

export interface EmailSender {
  readonly channel: 'email';
  /** Throws PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED') with the cause when the mail was not accepted. */
  send(message: EmailMessage): Promise<void>;
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface SmsSender {
  readonly channel: 'sms';
  send(message: SmsMessage): Promise<void>;
  check(): Promise<void>;
  close(): Promise<void>;
}
