import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../http/context.js';
import { originVerdict, type OriginVerdict } from '../policy/origin.js';
import type { Gateway } from './runtime.js';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where the browser says the request comes from, judged against what this gateway serves (policy/origin.ts). */
export function originOf(gw: Gateway, req: IncomingMessage, ctx: RequestContext): OriginVerdict {
  const c = gw.compiled;
  return originVerdict(req.headers, {
    requestOrigin: `${ctx.client.proto}://${ctx.client.host}`,
    servedOrigins: c.servedOrigins,
    servedHosts: c.servedHosts,
    allowedOrigins: c.allowedOrigins,
  });
}

/**
 * A WebSocket handshake that the session cookie authenticates needs an `Origin` this gateway serves:
 * browsers send one with every handshake, so a missing one is refused as well (issue: a foreign page
 * must not open the user's live view or PTZ control socket).
 */
export function refusesCookieUpgrade(gw: Gateway, req: IncomingMessage, ctx: RequestContext): boolean {
  return req.headers.origin === undefined || originOf(gw, req, ctx) !== 'same';
}

/**
 * A state-changing request to the portal or the JSON API that cookies could authenticate (SPEC §3): any
 * method but GET/HEAD/OPTIONS, with a Cookie header and no Authorization (a bearer token or Basic
 * credential is never sent by a browser on its own, and a cross-origin page cannot add one without a
 * CORS preflight the gateway never grants).
 */
export function refusesCrossOriginChange(gw: Gateway, req: IncomingMessage, ctx: RequestContext): boolean {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return false;
  if (req.headers.cookie === undefined || req.headers.authorization !== undefined) return false;
  return originOf(gw, req, ctx) === 'foreign';
}
