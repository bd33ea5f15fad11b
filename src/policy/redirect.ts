/**
 * Where to send the browser after sign-in (the `rd` parameter, SPEC §3). Honoured only for
 *  - a relative path on the same host: starts with exactly one `/` (not `//`, not `/\`), or
 *  - an absolute `http://` or `https://` URL (two slashes, no userinfo) whose ORIGIN — scheme, host and
 *    port — this gateway serves: a `public_url` origin, the origin the request arrived on, or a
 *    configured host name in the scheme and on the port of the request as received. The served host on
 *    another port or scheme (`http://127.0.0.1:9999/steal` after signing in on :18080) is not served.
 *    An https request is never sent on to plain http.
 * Everything else — scheme-relative `//evil`, other hosts, `javascript:`/`data:` and other schemes,
 * `https:evil`, any backslash, whitespace, controls or non-ASCII characters, encoded slashes or
 * backslashes, once or more (`/%2f%2fevil`, `/%252f%252fevil`) — gives the fallback ('/'). An honoured absolute URL is answered as the
 * URL parser writes it (`url.href`), so the browser goes exactly to the origin that was checked.
 */

export interface RedirectContext {
  /** The origin the request arrived on, as the client addressed it: `scheme://host[:port]`. */
  requestOrigin: string;
  /** Origins served whatever the request arrived on (the `public_url`s), as `URL.origin` writes them. */
  servedOrigins: ReadonlySet<string>;
  /** Host names (lower case, no port) served in the scheme and on the port of the request as received. */
  servedHosts: ReadonlySet<string>;
  fallback?: string;
}

export const MAX_REDIRECT_LENGTH = 4096;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
/** `%2f`, `%5c`, and the same encoded again (`%252f`, `%25252f`): a server that decodes twice reads a slash. */
const ENCODED_SEPARATOR = /%(?:25)*(?:2f|5c)/i;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
const RELATIVE_BASE = 'http://relative.invalid';
const ABSOLUTE = /^(https?):\/\/([^/\\?#@]+)(?:[/?#]|$)/i;

/** The request's origin as the URL parser writes it (default port dropped), or undefined when unparsable. */
function parseOrigin(origin: string): URL | undefined {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an absolute http(s) URL's origin is served, as described above. */
export function isServedOrigin(url: URL, ctx: RedirectContext): boolean {
  if (ctx.servedOrigins.has(url.origin)) return true;
  const request = parseOrigin(ctx.requestOrigin);
  if (!request) return false;
  if (url.origin === request.origin) return true;
  return ctx.servedHosts.has(url.hostname) && url.protocol === request.protocol && url.port === request.port;
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
  if (scheme === 'http' && ctx.requestOrigin.toLowerCase().startsWith('https:')) return fallback;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return fallback;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback;
  if (url.username !== '' || url.password !== '') return fallback;
  return isServedOrigin(url, ctx) ? url.href : fallback;
}
