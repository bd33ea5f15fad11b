import type { IncomingHttpHeaders } from 'node:http';
import { isServedOrigin, type RedirectContext } from './redirect.js';

/**
 * Cross-origin requests (SPEC §3): a state-changing request that a cookie authenticates is honoured only
 * from a page this gateway serves. The browser says where a request comes from:
 *  - `Origin` (sent with every cross-origin request, every POST and every WebSocket handshake): it must be
 *    an origin the gateway serves (a `public_url` origin, the request's own origin, or a configured host
 *    in the request's scheme and port — the same set `rd` honours) or one listed in
 *    `server.allowed_origins`; `Origin: null` (sandboxed frames, `data:` pages, some redirects) never is;
 *  - without `Origin`, `Sec-Fetch-Site`: only `same-origin` and `none` (typed by the user) are honoured;
 *  - with neither header the caller is not a browser (curl, a mobile app), which carries no ambient
 *    cookies an attacker could borrow: honoured (portal forms still need their CSRF token).
 */
export type OriginVerdict = 'same' | 'foreign' | 'absent';

export interface OriginContext extends RedirectContext {
  /** Extra origins the operator allows (`server.allowed_origins`), as `URL.origin` writes them. */
  allowedOrigins: ReadonlySet<string>;
}

const MAX_ORIGIN = 2048;

export function originVerdict(headers: IncomingHttpHeaders, ctx: OriginContext): OriginVerdict {
  const origin = headers.origin;
  if (origin !== undefined) {
    if (typeof origin !== 'string' || origin.length === 0 || origin.length > MAX_ORIGIN || origin === 'null') return 'foreign';
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return 'foreign';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'foreign';
    // An Origin is scheme://host[:port] and nothing else.
    if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || origin.endsWith('/')) return 'foreign';
    if (ctx.allowedOrigins.has(url.origin)) return 'same';
    return isServedOrigin(url, ctx) ? 'same' : 'foreign';
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? 'same' : 'foreign';
  return 'absent';
}
