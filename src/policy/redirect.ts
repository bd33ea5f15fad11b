/**
 * Where to send the browser after sign-in (the `rd` parameter, SPEC §3). Honoured only for
 *  - a relative path on the same host: starts with exactly one `/` (not `//`, not `/\`), and
 *  - an absolute `http://` or `https://` URL (two slashes, no userinfo) whose host this gateway serves
 *    and that does not downgrade an https request to http.
 * Everything else — scheme-relative `//evil`, other hosts, `javascript:`/`data:` and other schemes,
 * `https:evil`, any backslash, whitespace, controls or non-ASCII characters, encoded slashes or
 * backslashes (`/%2f%2fevil`) — gives the fallback ('/').
 */

export interface RedirectContext {
  /** The request's Host (port allowed). */
  requestHost: string;
  proto: 'http' | 'https';
  /** Whether the gateway serves this host name (lower-case, without port). */
  servedHosts: (host: string) => boolean;
  fallback?: string;
}

export const MAX_REDIRECT_LENGTH = 4096;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
const RELATIVE_BASE = 'http://relative.invalid';
const ABSOLUTE = /^(https?):\/\/([^/\\?#@]+)(?:[/?#]|$)/i;

/** `host[:port]` as the URL parser writes it (default port dropped), or undefined when unparsable. */
function canonicalHost(proto: string, host: string): string | undefined {
  try {
    return new URL(`${proto}://${host}/`).host;
  } catch {
    return undefined;
  }
}

export function safeRedirect(rd: string | undefined, ctx: RedirectContext): string {
  const fallback = ctx.fallback ?? '/';
  if (typeof rd !== 'string' || rd.length === 0 || rd.length > MAX_REDIRECT_LENGTH) return fallback;
  if (!PRINTABLE_ASCII.test(rd)) return fallback;
  if (rd.includes('\\') || ENCODED_CONTROL.test(rd)) return fallback;
  // Encoded slashes/backslashes in the path part (`/%2f%2fevil`): some servers decode and redirect again.
  const pathEnd = rd.search(/[?#]/);
  if (ENCODED_SEPARATOR.test(pathEnd === -1 ? rd : rd.slice(0, pathEnd))) return fallback;

  if (rd[0] === '/') {
    if (rd[1] === '/') return fallback;
    // Resolve dot segments the way the browser will, and refuse what would then start with `//`.
    let rel: URL;
    try {
      rel = new URL(rd, RELATIVE_BASE);
    } catch {
      return fallback;
    }
    if (rel.origin !== RELATIVE_BASE || rel.pathname.startsWith('//')) return fallback;
    return rel.pathname + rel.search + rel.hash;
  }

  const m = ABSOLUTE.exec(rd);
  if (!m) return fallback;
  const scheme = (m[1] as string).toLowerCase();
  if (ctx.proto === 'https' && scheme === 'http') return fallback;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return fallback;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback;
  if (url.username !== '' || url.password !== '') return fallback;
  if (ctx.servedHosts(url.hostname)) return url.href;
  if (url.host !== canonicalHost(url.protocol.slice(0, -1), ctx.requestHost)) return fallback;
  return url.href;
}
