import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Refusal } from '../auth/access.js';
import { rawAnswer } from '../http/raw.js';
import { sendError, sendJson, type ErrorPages } from '../http/respond.js';

/**
 * Where a refusal is answered:
 * - `proxy`: the built-in proxy (browser navigations are redirected to the portal);
 * - `upgrade`: a WebSocket handshake (a raw socket: JSON, never a redirect);
 * - `authz`: nginx `auth_request` (never a redirect: the portal URL rides in `Location` on the 401);
 * - `forward-auth`: Traefik/Caddy (browser navigations get a 302 the front proxy passes on);
 * - `api`: the JSON API (JSON, never a redirect).
 */
export type Entrance = 'proxy' | 'upgrade' | 'authz' | 'forward-auth' | 'api';

export interface RefusalContext {
  /** A top-level page load in a browser (GET/HEAD accepting HTML) of the original request. */
  browser: boolean;
  /** The original URL, for `rd`. */
  original: string;
  /** Where the portal is, as the browser should reach it: the prefix, or an absolute URL for a front proxy. */
  portal: string;
}

/** One answer, however it is written (an HTTP response or a raw socket). */
export interface Answer {
  status: number;
  /** Stable wire code (`error` in JSON). */
  code: string;
  message: string;
  headers: Record<string, string>;
  /** For browsers: redirect here instead (302). */
  redirect?: string;
  /** JSON whatever the client accepts (a machine's refused credential: never an HTML page or the portal). */
  json?: boolean;
  /** Further fields of the JSON answer (`methods` of a factor-aware step-up). */
  extra?: Record<string, unknown>;
}

/**
 * The one mapping from an access refusal to what the client is told, for every entrance (SPEC §3).
 * A refused API-client credential is answered like a missing one (401 `unauthenticated`), or 403/429:
 * the exact reason goes to the audit log, never to the client.
 */
export function answerFor(refusal: Refusal, entrance: Entrance, c: RefusalContext): Answer {
  const redirects = c.browser && (entrance === 'proxy' || entrance === 'forward-auth');
  const challenge = `Bearer realm="portcullis", login="${c.portal}/login"`;
  switch (refusal.kind) {
    case 'deny':
      return { status: 403, code: 'forbidden', message: 'Access denied', headers: {} };
    case 'unavailable':
      return { status: 503, code: 'store_unavailable', message: 'Service temporarily unavailable', headers: { 'Retry-After': '5' } };
    case 'client_denied':
      if (refusal.status === 429) return { status: 429, code: 'rate_limited', message: 'Too many attempts; try again later', headers: { 'Retry-After': String(Math.max(1, Math.ceil((refusal.retryAfter ?? 60_000) / 1000))) }, json: true };
      if (refusal.status === 403) return { status: 403, code: 'forbidden', message: 'Access denied', headers: {}, json: true };
      return { status: 401, code: 'unauthenticated', message: 'Authentication required', headers: { 'WWW-Authenticate': challenge }, json: true };
    case 'unauthenticated':
    case 'second_factor':
    case 'reauth': {
      const page = refusal.kind === 'unauthenticated' ? 'login' : 'verify';
      const methods = refusal.kind === 'reauth' ? refusal.methods : undefined;
      const stepUp = refusal.kind === 'reauth' ? `step_up=1&${methods ? `methods=${methods.join(',')}&` : ''}` : '';
      const location = `${c.portal}/${page}?${stepUp}rd=${encodeURIComponent(c.original)}`;
      const code = refusal.kind === 'unauthenticated' ? 'unauthenticated' : methods ? 'step_up_required' : refusal.kind === 'reauth' ? 'reauthentication_required' : 'second_factor_required';
      const message = refusal.kind === 'unauthenticated' ? 'Authentication required' : methods ? `A second factor of another kind is required: ${methods.join(', ')}` : refusal.kind === 'reauth' ? 'Re-authentication required' : 'Second factor required';
      if (redirects) return { status: 302, code, message, headers: {}, redirect: location };
      const headers: Record<string, string> = { 'WWW-Authenticate': challenge };
      // nginx `error_page 401` sends the browser on from here.
      if (entrance === 'authz' || entrance === 'forward-auth') headers.Location = location;
      return { status: 401, code, message, headers, ...(methods ? { extra: { methods: [...methods] } } : {}) };
    }
  }
}

/** Writes an answer as an HTTP response (an HTML page for browsers — `pages` when given — else JSON). */
export function writeAnswer(req: IncomingMessage, res: ServerResponse, a: Answer, requestId: string, pages?: ErrorPages): void {
  if (a.redirect !== undefined) {
    res.writeHead(302, { location: a.redirect, 'cache-control': 'no-store', 'content-length': '0' });
    res.end();
    return;
  }
  for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  if (a.json) return sendJson(res, a.status, { error: a.code, message: a.message, request_id: requestId, ...a.extra });
  sendError(req, res, a.status, a.code, a.message, requestId, a.extra, pages);
}

/** Writes an answer on a raw socket (a refused upgrade): JSON, then the socket is closed. */
export function writeSocketAnswer(socket: Duplex, a: Answer, requestId: string): void {
  rawAnswer(socket, a.status, JSON.stringify({ error: a.code, message: a.message, request_id: requestId, ...a.extra }), { ...a.headers, 'X-Request-Id': requestId });
}
