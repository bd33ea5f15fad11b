import type { IncomingMessage } from 'node:http';

/** What every stage knows about the request after the first one. */
export interface RequestContext {
  requestId: string;
  client: { ip: string; forwardedFor: string; proto: 'http' | 'https'; host: string };
  /** Host without port, lower case. */
  hostname: string;
  /** Normalised path (what rules see and what is forwarded). */
  path: string;
  /** Query string without `?` ('' when none). */
  query: string;
  /** Path and query to send upstream. */
  forward: string;
}

/** A top-level page load in a browser: GET/HEAD that accepts HTML. */
export function isBrowserNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

export function hostnameOf(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** The original URL, for `rd`. */
export function originalUrl(ctx: RequestContext): string {
  return `${ctx.client.proto}://${ctx.client.host}${ctx.forward}`;
}
