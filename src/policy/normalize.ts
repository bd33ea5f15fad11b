/**
 * The request path as the access rules see it — and, re-encoded, as the upstream receives it, so the
 * upstream is always handed exactly the path that was authorised (SPEC §3: "a bypass rule on `/public`
 * never exposes `/public/../admin` or `/public%2f..%2fadmin`").
 *
 * Decisions (each one fails closed: when in doubt the target is rejected with 400):
 * - Only origin-form (`/path?query`) and absolute-form (`http(s)://host/path?query`, RFC 9112 §3.2.2)
 *   are accepted. Absolute-form: the path is taken from it and the authority returned separately; an
 *   authority that is not a plain `host[:port]` (userinfo `@`, escapes, backslashes) is rejected. Asterisk- and authority-form are rejected.
 * - The target must be printable ASCII (RFC 9112: request-target is ASCII). Raw bytes or characters
 *   above 0x7E, spaces, tabs, CR/LF and other controls are rejected: they are ambiguous (Node hands raw
 *   bytes over as latin1) and browsers always percent-encode.
 * - A `#` fragment never belongs in a request-target: rejected.
 * - The query is split off at the first `?`; it is not interpreted, and forwarded as received.
 * - The path is percent-decoded exactly ONCE, byte-wise, then read as UTF-8 with a fatal decoder:
 *   invalid escapes (`%zz`, `%4`), invalid UTF-8 and overlong forms (`%c0%ae`) are rejected.
 * - Encoded separators `%2f` and `%5c` are rejected (after decoding they could not be told apart from
 *   real separators, and upstreams disagree about them).
 * - After the one decode, a remaining `%XX` escape that would decode to `/`, `\`, `.` or `%` is a
 *   double-encoding attack (`%252e%252e`, `%252f`, `%2525`) and is rejected. Other literal `%` stay
 *   literal characters (forwarded as `%25`).
 * - NUL, C0/C1 controls and DEL after decoding are rejected; so is any backslash (IIS and some
 *   frameworks treat `\` as `/`).
 * - `;` path parameters are removed from every segment (`/admin;x=1/` → `/admin/`); a segment that is
 *   `..;x` is therefore a `..` segment, as Tomcat/Jetty read it (`/public/..;/admin` → `/admin`).
 *   Upstreams receive the path without `;` parameters.
 * - Empty segments are dropped (`//a///b` → `/a/b`), `.` segments removed, `..` segments pop the
 *   previous one; climbing above the root is rejected. A trailing slash is kept, and a path ending in
 *   `.` or `..` ends with a slash (as URL resolution does).
 * - Unicode is not normalised (no NFC/NFKC), but a character that an upstream applying NFKC would read
 *   as a path-structure character — a dot, slash, backslash, `;`, `%`, `?` or `#` (fullwidth `．` `／`
 *   `＼`, the one-dot leader `․`, small full stop `﹒`, …) — is rejected wherever it appears: such an
 *   upstream would read `/public/．．/admin` as `/public/../admin`.
 * - A segment made only of dots and spaces other than `.` and `..` (`...`, `. .`, `..%20`) is
 *   rejected: Windows strips trailing dots and spaces from names, so an upstream on Windows may read it
 *   as `..` or `.`. (Named segments with a trailing dot or space, `admin.`, are legitimate in most
 *   upstreams; forward-auth and the proxy refuse them only where that reading falls under another rule,
 *   see readings.ts.)
 * - `caseInsensitive` lower-cases the rule-facing `path` (Unicode `toLowerCase`, as case-insensitive
 *   upstreams such as IIS fold case); `forward` keeps the client's case, which such upstreams treat
 *   as the same resource.
 */

export type NormalizedTarget =
  | {
      ok: true;
      /** Decoded, normalised path the rules see (lower-cased in case-insensitive mode). */
      path: string;
      /** Raw query without the `?` ('' when none). */
      query: string;
      /** Re-encoded normalised path plus `?query`: what the proxy sends upstream. */
      forward: string;
      /** Host (and port) from an absolute-form target; undefined for origin-form. */
      authority?: string;
    }
  | { ok: false; reason: string };

export interface NormalizeOptions {
  caseInsensitive?: boolean;
}

/** Longer targets are refused (Node's own header limit is 16 KiB, the request line included). */
export const MAX_TARGET_LENGTH = 8192;

const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const NON_ASCII = /[\u0080-\uffff]/;
/** ASCII characters that give a path its structure; a compatibility character must not turn into one. */
const STRUCTURAL = /[./\\;%?#]/;
const DOTS_AND_SPACES = /^[. ]+$/;
/** host[:port] or [v6]:port — no userinfo, no escapes, nothing else (`_` allowed: container service names). */
const AUTHORITY = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const DOUBLE_ENCODED = /%(?:2e|2f|5c|25)/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/** Characters a path segment may carry unescaped (RFC 3986 pchar minus `;`, plus `/`). */
const SAFE_PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,=:@/]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Decodes `%XX` escapes once into bytes, then UTF-8; undefined on a bad escape or bad UTF-8. */
function percentDecodeOnce(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else {
      bytes[n++] = c; // printable ASCII only, checked before
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}

function encodePath(path: string): string {
  let out = '';
  for (const ch of path) out += SAFE_PATH_CHAR.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

/** The parts of an absolute-form target (`http(s)://authority/path?query`), or the reason it is unusable. */
export type AbsoluteForm = { ok: true; scheme: 'http' | 'https'; authority: string; target: string } | { ok: false; reason: string };

/**
 * Splits an absolute-form target WITHOUT normalising anything: the scheme must be http(s) (any case), the
 * authority a plain `host[:port]`, and the rest — path and query exactly as sent, `/` when empty — is
 * returned as an origin-form target for normalizePath. (WHATWG `new URL()` must not be used here: it
 * resolves dot segments and drops tabs and newlines before any check could see them.)
 */
export function splitAbsoluteForm(target: string): AbsoluteForm {
  const m = ABSOLUTE_FORM.exec(target);
  if (!m) return fail('request target is neither origin-form nor absolute-form');
  const scheme = (m[1] as string).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return fail('absolute-form target with a scheme other than http(s)');
  const authority = m[2] as string;
  if (!AUTHORITY.test(authority)) return fail('absolute-form target with a bad authority');
  let rest = (m[3] as string) || '/';
  if (rest[0] === '?') rest = '/' + rest;
  return { ok: true, scheme, authority, target: rest };
}

/** Whether `authority` is a plain `host[:port]` or `[v6]:port` (no userinfo, escapes or anything else). */
export function isPlainAuthority(authority: string): boolean {
  return authority.length <= 260 && AUTHORITY.test(authority);
}

/** True when an upstream applying NFKC would read a path-structure character (`.`, `/`, `%`, …) here. */
function hasStructuralCompatibilityCharacter(decoded: string): boolean {
  if (!NON_ASCII.test(decoded)) return false;
  for (const ch of decoded) {
    if (ch.charCodeAt(0) < 0x80) continue;
    if (STRUCTURAL.test(ch.normalize('NFKC'))) return true;
  }
  return false;
}

export function normalizePath(rawTarget: string, opts: NormalizeOptions = {}): NormalizedTarget {
  if (typeof rawTarget !== 'string' || rawTarget.length === 0) return fail('empty request target');
  if (rawTarget.length > MAX_TARGET_LENGTH) return fail('request target too long');
  if (!PRINTABLE_ASCII.test(rawTarget)) return fail('request target has whitespace, control or non-ASCII characters');

  let target = rawTarget;
  let authority: string | undefined;
  if (target[0] !== '/') {
    const abs = splitAbsoluteForm(target);
    if (!abs.ok) return abs;
    authority = abs.authority;
    target = abs.target;
  }
  if (target.includes('#')) return fail('fragment in request target');

  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  if (rawPath[0] !== '/') return fail('path does not start with /');
  if (ENCODED_SEPARATOR.test(rawPath)) return fail('encoded slash or backslash in path');

  const decoded = percentDecodeOnce(rawPath);
  if (decoded === undefined) return fail('invalid percent-encoding or invalid UTF-8 in path');
  if (DOUBLE_ENCODED.test(decoded)) return fail('double-encoded path');
  if (CONTROL.test(decoded)) return fail('control character in path');
  if (decoded.includes('\\')) return fail('backslash in path');
  if (hasStructuralCompatibilityCharacter(decoded)) return fail('a character that Unicode normalisation turns into a dot or separator');

  const segments: string[] = [];
  const parts = decoded.split('/');
  let trailingSlash = false;
  for (let i = 1; i < parts.length; i++) {
    let seg = parts[i] as string;
    const semi = seg.indexOf(';');
    if (semi !== -1) seg = seg.slice(0, semi);
    const last = i === parts.length - 1;
    if (seg !== '.' && seg !== '..' && DOTS_AND_SPACES.test(seg)) return fail('a segment of dots and spaces that may read as a dot segment');
    if (seg === '' || seg === '.') {
      if (last) trailingSlash = segments.length > 0;
      continue;
    }
    if (seg === '..') {
      if (segments.length === 0) return fail('path climbs above the root');
      segments.pop();
      if (last) trailingSlash = segments.length > 0;
      continue;
    }
    segments.push(seg);
  }
  const normal = '/' + segments.join('/') + (trailingSlash ? '/' : '');
  const forward = encodePath(normal) + (query === '' ? '' : '?' + query);
  const path = opts.caseInsensitive ? normal.toLowerCase() : normal;
  return authority === undefined ? { ok: true, path, query, forward } : { ok: true, path, query, forward, authority };
}
