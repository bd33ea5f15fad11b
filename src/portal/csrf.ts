import { createHmac, timingSafeEqual } from 'node:crypto';
import { cryptoRandom, type Random } from '../util/random.js';

/**
 * CSRF tokens for portal forms.
 *
 * In-session forms: `csrfToken(secret, action)` where `secret` is a per-session random value kept in
 * the session. The token is `nonce.mac` with mac = HMAC(secret, nonce | action): a fresh nonce per
 * render (so the token in the page differs each time, against BREACH-style length oracles), bound to
 * the secret and optionally to an action name.
 *
 * Before a session exists (the sign-in page): double-submit with HMAC. `newLoginCsrf` gives a signed,
 * time-stamped cookie value and the matching form token; `verifyLoginCsrf` checks the cookie's
 * signature and age and that the token belongs to that cookie.
 */

const MAX_TOKEN_LENGTH = 256;
const NONCE_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]+$/;

function mac(key: string | Buffer, ...parts: string[]): string {
  const h = createHmac('sha256', key);
  h.update('portcullis-csrf/v1');
  for (const p of parts) h.update('\0').update(p);
  return h.digest('base64url');
}

function equal(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function csrfToken(secret: string, action = '', random: Random = cryptoRandom): string {
  if (!secret) throw new Error('csrfToken needs a secret');
  const nonce = random.bytes(NONCE_BYTES).toString('base64url');
  return `${nonce}.${mac(secret, 'form', nonce, action)}`;
}

export function verifyCsrf(secret: string, token: string | undefined, action = ''): boolean {
  if (!secret || typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const nonce = token.slice(0, dot);
  const given = token.slice(dot + 1);
  if (!B64URL.test(nonce) || !B64URL.test(given)) return false;
  return equal(given, mac(secret, 'form', nonce, action));
}

/** Name suggested for the pre-session CSRF cookie (HttpOnly, SameSite=Lax, path = portal prefix). */
export const LOGIN_CSRF_COOKIE = 'portcullis_csrf';

export function newLoginCsrf(
  key: Buffer,
  now: number,
  random: Random = cryptoRandom,
): { cookieValue: string; token: string } {
  if (key.length < 16) throw new Error('newLoginCsrf needs a key of at least 16 bytes');
  const issued = Math.floor(now).toString(36);
  const nonce = random.bytes(NONCE_BYTES).toString('base64url');
  const cookieValue = `${issued}.${nonce}.${mac(key, 'login-cookie', issued, nonce)}`;
  const token = mac(key, 'login-token', issued, nonce);
  return { cookieValue, token };
}

export function verifyLoginCsrf(
  key: Buffer,
  cookieValue: string | undefined,
  token: string | undefined,
  now: number,
  maxAgeMs: number,
): boolean {
  if (key.length < 16) return false;
  if (typeof cookieValue !== 'string' || typeof token !== 'string') return false;
  if (cookieValue.length > MAX_TOKEN_LENGTH || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return false;
  const parts = cookieValue.split('.');
  if (parts.length !== 3) return false;
  const [issued, nonce, sig] = parts as [string, string, string];
  if (!/^[0-9a-z]{1,12}$/.test(issued) || !B64URL.test(nonce) || !B64URL.test(sig) || !B64URL.test(token)) return false;
  // Check both MACs before deciding, so the answer takes the same work whichever part is wrong.
  const cookieOk = equal(sig, mac(key, 'login-cookie', issued, nonce));
  const tokenOk = equal(token, mac(key, 'login-token', issued, nonce));
  if (!cookieOk || !tokenOk) return false;
  const issuedAt = parseInt(issued, 36);
  if (!Number.isSafeInteger(issuedAt)) return false;
  // A small allowance for clock differences between instances; never a token from the far future.
  if (issuedAt > now + 60_000) return false;
  return now - issuedAt <= maxAgeMs;
}
