/** Reading client credentials out of request headers, bounded and strict. */
import type { IncomingHttpHeaders } from 'node:http';

export const MAX_API_KEY_LENGTH = 1024;
export const MAX_BEARER_LENGTH = 16_384;
export const MAX_BASIC_LENGTH = 2048;

/** Three base64url parts; the signature may be empty (`alg: none`, which must be seen — and refused — as a JWT). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type HeaderValue = { present: false } | { present: true; value: string | undefined /* undefined: malformed (repeated) */ };

/** A header that appears several times is malformed for credential purposes. */
export function singleHeader(headers: IncomingHttpHeaders, name: string): HeaderValue {
  const raw = headers[name.toLowerCase()];
  if (raw === undefined) return { present: false };
  if (Array.isArray(raw)) return { present: true, value: raw.length === 1 ? raw[0] : undefined };
  return { present: true, value: raw };
}

export type Authorization =
  | { scheme: 'none' }
  | { scheme: 'bearer'; token: string; jwt: boolean }
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'other' };

/**
 * Parses `Authorization`. A Bearer value that is not JWT-shaped is reported with `jwt: false` (it may be
 * the gateway's own session token). A malformed Basic value is 'other': it may be the upstream's own.
 */
export function parseAuthorization(headers: IncomingHttpHeaders): Authorization {
  const h = singleHeader(headers, 'authorization');
  if (!h.present || h.value === undefined) return { scheme: 'none' };
  const value = h.value.trim();
  const space = value.indexOf(' ');
  if (space === -1) return { scheme: 'other' };
  const scheme = value.slice(0, space).toLowerCase();
  const rest = value.slice(space + 1).trim();
  if (scheme === 'bearer') {
    return { scheme: 'bearer', token: rest, jwt: JWT_SHAPE.test(rest) };
  }
  if (scheme === 'basic') {
    if (rest.length > MAX_BASIC_LENGTH || !BASE64.test(rest)) return { scheme: 'other' };
    let decoded: string;
    try {
      decoded = utf8.decode(Buffer.from(rest, 'base64'));
    } catch {
      return { scheme: 'other' };
    }
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { scheme: 'other' };
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(decoded)) return { scheme: 'other' };
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { scheme: 'other' };
}
