import { PortcullisError, isPortcullisError } from '../errors/index.js';

/** Why a message was not delivered: stable words for the audit log and metrics. */
export type DeliveryFailureReason =
  | 'rejected'
  | 'auth'
  | 'tls'
  | 'timeout'
  | 'network'
  | 'api_error'
  | 'invalid_number'
  | 'invalid_address';

/**
 * The one error every sender throws. `cause` must already be sanitised (see `safeCause`): library
 * errors carry request bodies and credentials (axios `config`, SMTP `command`) that must not reach a log.
 */
export function deliveryFailed(channel: 'email' | 'sms', reason: DeliveryFailureReason, cause?: unknown): PortcullisError {
  return new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', undefined, { cause, details: { channel, reason } });
}

/** The reason recorded by `deliveryFailed`, or undefined for any other error. */
export function deliveryFailureReason(err: unknown): DeliveryFailureReason | undefined {
  if (!isPortcullisError(err, 'PORTCULLIS_ERR_DELIVERY_FAILED')) return undefined;
  return err.details.reason as DeliveryFailureReason | undefined;
}

/** A plain Error holding only the named scalar fields of `err` (never its config, body or headers). */
export function safeCause(err: unknown, fields: readonly string[]): Error {
  const source = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const message = typeof source.message === 'string' ? source.message.slice(0, 300) : String(err).slice(0, 300);
  const out = new Error(message) as Error & Record<string, unknown>;
  for (const field of fields) {
    const value = source[field];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[field] = value;
  }
  return out;
}
