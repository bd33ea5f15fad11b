import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleApi } from '../api/v1.js';
import type { RequestContext } from '../http/context.js';
import { sendError, sendJson } from '../http/respond.js';
import { handlePortal } from '../portal/routes.js';
import { serveAsset } from '../portal/static/assets.js';
import { forwardAuth } from './forward-auth.js';
import { refusesCrossOriginChange } from './origin.js';
import type { Gateway } from './runtime.js';

type Mounted = (gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string) => Promise<void> | void;

/** True for the reserved path space (`portal_prefix` and below) on every host. */
export function isReservedPath(prefix: string, path: string): boolean {
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */);
}

function staticAsset(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): void {
  // The portal's own assets, then the configured branding (logo, accent stylesheet).
  const asset = serveAsset(rest) ?? gw.compiled.branding.assets.get(rest);
  if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, gw.errorPages);
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, { etag: asset.etag });
    return void res.end();
  }
  // The CSP matters for an SVG logo opened on its own: it is shown, never run.
  res.writeHead(200, { 'content-type': asset.type, etag: asset.etag, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox", 'content-length': asset.body.length });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

async function jwks(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET');
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId, undefined, gw.errorPages);
  }
  sendJson(res, 200, await gw.compiled.identity.jwks(), { 'cache-control': 'public, max-age=300' });
}

/**
 * The reserved path table (SPEC §3), in one place: forward-auth, the JWKS, the portal's assets, the JSON
 * API and the portal itself, each mounted at its sub-path. The portal and the API are leaves: they see
 * the gateway only through their own narrow interfaces.
 */
const EXACT: Readonly<Record<string, Mounted>> = {
  '/authz': (gw, req, res, ctx) => forwardAuth(gw, req, res, ctx, 'authz'),
  '/authz/forward-auth': (gw, req, res, ctx) => forwardAuth(gw, req, res, ctx, 'forward-auth'),
  '/.well-known/jwks.json': jwks,
};

const PREFIXED: ReadonlyArray<readonly [string, Mounted]> = [
  ['/api/v1/', (gw, req, res, ctx, rest) => handleApi(gw, req, res, ctx, rest)],
  ['/static/', staticAsset],
];

export async function handleReserved(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const sub = ctx.path.slice(gw.prefix.length);
  if (refusesCrossOriginChange(gw, req, ctx)) {
    gw.core.logger.warn({ request_id: ctx.requestId, path: ctx.path, origin: String(req.headers.origin ?? req.headers['sec-fetch-site'] ?? '').slice(0, 200) }, 'cross-origin state change refused');
    return sendError(req, res, 403, 'cross_origin', 'This request did not come from a page of this site', ctx.requestId, undefined, gw.errorPages);
  }
  const exact = EXACT[sub];
  if (exact) return exact(gw, req, res, ctx, '');
  for (const [p, mounted] of PREFIXED) if (sub.startsWith(p)) return mounted(gw, req, res, ctx, sub.slice(p.length));
  return handlePortal(gw, req, res, ctx, sub);
}
