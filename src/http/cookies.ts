/** Cookie parsing and serialising (RFC 6265), bounded and tolerant of junk. */

const MAX_COOKIES = 100;
const MAX_HEADER = 16_384;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const DOMAIN = /^\.?[A-Za-z0-9.-]{1,253}$/;
const PATH = /^[\x20-\x3A\x3C-\x7E]+$/;

/** Calls `visit(name, rawValue)` for each pair of a Cookie header (at most 100, within 16 KiB) until it answers false. */
function eachCookie(header: string, visit: (name: string, raw: string) => boolean | void): void {
  const text = header.length > MAX_HEADER ? header.slice(0, MAX_HEADER) : header;
  let start = 0;
  let count = 0;
  while (start < text.length && count < MAX_COOKIES) {
    let end = text.indexOf(';', start);
    if (end === -1) end = text.length;
    const eq = text.indexOf('=', start);
    if (eq !== -1 && eq < end) {
      count++;
      if (visit(text.slice(start, eq).trim(), text.slice(eq + 1, end)) === false) return;
    }
    start = end + 1;
  }
}

/** Name → value of a Cookie header; the first occurrence of a name wins; at most 100 pairs are read. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  eachCookie(header, (name, raw) => {
    if (name !== '' && !out.has(name)) out.set(name, decodeValue(raw.trim()));
  });
  return out;
}

/**
 * The value of `name` when the header carries it exactly once; `ambiguous` when it carries it more than
 * once (a sibling subdomain or a path-scoped cookie can add a second one with the same name: which one a
 * server reads first is then the attacker's choice); undefined when absent.
 */
export function singleCookie(header: string | undefined, name: string): string | undefined | { ambiguous: true } {
  if (!header) return undefined;
  let found: string | undefined;
  let ambiguous = false;
  eachCookie(header, (n, raw) => {
    if (n !== name) return true;
    if (found !== undefined) {
      ambiguous = true;
      return false;
    }
    found = decodeValue(raw.trim());
    return true;
  });
  return ambiguous ? { ambiguous: true } : found;
}

function decodeValue(raw: string): string {
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface CookieOptions {
  /** Seconds; 0 expires the cookie now. */
  maxAge?: number;
  domain?: string;
  path?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
}

/** A Set-Cookie value. Values outside the cookie-octet set are percent-encoded; bad names/attributes throw. */
export function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name '${name}'`);
  let out = `${name}=${COOKIE_VALUE.test(value) ? value : encodeURIComponent(value)}`;
  if (opts.maxAge !== undefined) {
    if (!Number.isFinite(opts.maxAge)) throw new TypeError('invalid cookie maxAge');
    out += `; Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`;
  }
  if (opts.domain) {
    if (!DOMAIN.test(opts.domain)) throw new TypeError('invalid cookie domain');
    out += `; Domain=${opts.domain}`;
  }
  if (opts.path !== undefined) {
    if (!PATH.test(opts.path)) throw new TypeError('invalid cookie path');
    out += `; Path=${opts.path}`;
  }
  if (opts.httpOnly) out += '; HttpOnly';
  if (opts.secure || opts.sameSite === 'None') out += '; Secure';
  if (opts.sameSite) out += `; SameSite=${opts.sameSite}`;
  return out;
}

/** Drops the named cookie (every occurrence) from a Cookie header; the rest stays byte for byte. */
export function removeCookie(header: string, name: string): string | undefined {
  return removeCookies(header, [name]);
}

/**
 * Drops every cookie whose name is in `names`; the other cookies keep their exact bytes and order.
 * Returns the header unchanged when none is present, undefined when nothing is left.
 */
export function removeCookies(header: string, names: readonly string[]): string | undefined {
  let present = false;
  for (const n of names) if (header.includes(n)) present = true;
  if (!present) return header;
  const kept: string[] = [];
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const part = header.slice(start, end);
    const eq = part.indexOf('=');
    const partName = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (!names.includes(partName)) kept.push(part);
    start = end + 1;
  }
  const joined = kept.join(';').replace(/^[ \t]+/, '');
  return joined.trim() === '' ? undefined : joined;
}
