import type { Config } from '../config/schema/index.js';
import { cryptoRandom, type Random } from '../util/random.js';
import { Keyring } from '../keys/keyring.js';
import { newId, signer, type CookieSigner } from './cookie.js';

export interface CookieOptions {
  name: string;
  httpOnly: true;
  secure: boolean;
  sameSite: 'Lax' | 'Strict' | 'None';
  /** Empty: a host-only cookie. */
  domain: string;
  path: '/';
  /** Seconds; absent: a browser-session cookie. 0 clears the cookie. */
  maxAge?: number;
}

const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const;
/** Browsers cap cookie lifetimes at 400 days. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600;

/** The portal is HTTPS whatever the last hop: a TLS listener, or an `https://` public_url (a TLS terminator in front). */
export function portalIsHttps(server: Config['server']): boolean {
  if (server.tls) return true;
  const urls = server.public_url === undefined ? [] : Array.isArray(server.public_url) ? server.public_url : [server.public_url];
  return urls.length > 0 && urls.every((u) => u.startsWith('https:'));
}

/** Whether the session cookie carries the `__Host-` prefix (`session.cookie.host_prefix`). */
export function usesHostPrefix(config: Pick<Config, 'session' | 'server'>): boolean {
  const c = config.session.cookie;
  if (c.host_prefix !== 'auto') return c.host_prefix;
  return c.domain === '' && c.secure !== false && portalIsHttps(config.server);
}

/** The session cookie's name as set and read: `session.cookie.name`, with `__Host-` when that is on. */
export function sessionCookieName(config: Pick<Config, 'session' | 'server'>): string {
  return usesHostPrefix(config) ? `__Host-${config.session.cookie.name}` : config.session.cookie.name;
}

function base(session: Config['session'], name: string, secureRequest: boolean): CookieOptions {
  const c = session.cookie;
  return {
    name,
    httpOnly: true,
    // SameSite=None cookies are refused by browsers unless Secure.
    secure: c.same_site === 'none' || (c.secure === 'auto' ? secureRequest : c.secure),
    sameSite: SAME_SITE[c.same_site],
    domain: c.domain,
    path: '/',
  };
}

/**
 * Set-Cookie attributes of the session cookie: HttpOnly, Secure when `secure: true` (or `auto` on an
 * HTTPS request or an https public_url — the caller passes that as `secureRequest`), the configured
 * SameSite and Domain, Path=/, no Max-Age (ends with the browser; the session itself ends at its
 * absolute lifetime). With the `__Host-` prefix: always Secure, never a Domain.
 */
export function sessionCookieOptions(config: Pick<Config, 'session' | 'server'>, secureRequest: boolean): CookieOptions {
  const options = base(config.session, sessionCookieName(config), secureRequest);
  return usesHostPrefix(config) ? { ...options, secure: true, domain: '' } : options;
}

/** Set-Cookie attributes of the long-lived device cookie (`portcullis_device`). */
export function deviceCookieOptions(session: Config['session'], secureRequest: boolean): CookieOptions {
  return { ...base(session, session.cookie.device_name, secureRequest), maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS };
}

/** A `Set-Cookie` header value. `value` must be cookie-safe (signed values are base64url and `.`). */
export function serializeCookie(value: string, options: CookieOptions): string {
  if (!/^[A-Za-z0-9._-]*$/.test(value)) throw new Error('cookie value must be base64url');
  const parts = [`${options.name}=${value}`, `Path=${options.path}`];
  if (options.domain) parts.push(`Domain=${options.domain}`);
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  parts.push(`SameSite=${options.sameSite}`);
  return parts.join('; ');
}

/** A `Set-Cookie` value that removes the cookie. */
export function clearCookie(options: CookieOptions): string {
  return serializeCookie('', { ...options, maxAge: 0 });
}

/**
 * The device cookie: a long-lived signed random id naming the browser (reverify grace and trusted
 * devices key on it). Signed with the session secrets under its own derived key.
 */
export class DeviceCookies {
  private readonly signer: CookieSigner;

  constructor(
    keyring: Keyring,
    private readonly random: Random = cryptoRandom,
  ) {
    this.signer = signer(keyring.cookie('device'));
  }

  static fromConfig(session: Config['session'], random?: Random): DeviceCookies {
    return new DeviceCookies(Keyring.fromSession(session), random);
  }

  /** A new device id and its signed cookie value. */
  issue(): { id: string; cookie: string } {
    const id = newId(this.random);
    return { id, cookie: this.signer.sign(id) };
  }

  /** The signed cookie value for an existing device id (e.g. re-signing after a key rotation). */
  sign(id: string): string {
    return this.signer.sign(id);
  }

  /** The device id, or undefined for a missing, tampered or foreign cookie. */
  verify(cookie: string | undefined | null): string | undefined {
    return this.signer.verify(cookie);
  }
}
