import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import { resolveClient } from '../http/client.js';
import { requestId } from '../http/request-id.js';
import { sendError, sendJson } from '../http/respond.js';
import { normalizeForRules } from '../policy/readings.js';
import { handlePortal } from '../portal/routes.js';
import { authorize, type AuthzResult } from './authorize.js';
import { hostnameOf, isBrowserNavigation, originalUrl, type RequestContext } from './context.js';
import type { Compiled, Gateway } from './runtime.js';
import type { ProxyContext } from '../proxy/forward.js';
import type { Upstream } from '../proxy/router.js';

/** Stage 1: who is calling, from where, for which normalised path. Answers 400 for unsafe paths. */
function contextFor(gw: Gateway, req: IncomingMessage): RequestContext | PortcullisError {
  const id = requestId(req);
  const client = resolveClient(req, gw.compiled.trusted);
  // The upstream receives the normalised path; its plausible readings must fall under the same rules (readings.ts).
  const norm = normalizeForRules(req.url ?? '/', gw.compiled.access, 'as-forwarded', hostnameOf(client.host));
  if (!norm.ok) return new PortcullisError('PORTCULLIS_ERR_BAD_PATH', undefined, { details: { request_id: id, reason: norm.reason } });
  // An absolute-form target must name the same host as the Host header (no routing by one, authorising by the other).
  if (norm.authority !== undefined && norm.authority.toLowerCase() !== client.host.toLowerCase()) {
    return new PortcullisError('PORTCULLIS_ERR_BAD_PATH', 'The request target and the Host header disagree', { details: { request_id: id, reason: 'authority_mismatch' } });
  }
  return { requestId: id, client, hostname: hostnameOf(client.host), path: norm.path, query: norm.query, forward: norm.forward };
}

function isPortalPath(prefix: string, path: string): boolean {
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */);
}

/** Turns a refusal into the answer SPEC §3 prescribes: 302 for browsers, 401/403/503 JSON otherwise. */
export function refuse(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, result: Exclude<AuthzResult, { kind: 'allow' }>): void {
  const prefix = gw.compiled.prefix;
  const browser = isBrowserNavigation(req);
  const rd = encodeURIComponent(originalUrl(ctx));
  switch (result.kind) {
    case 'deny':
      return sendError(req, res, 403, 'forbidden', 'Access denied', ctx.requestId);
    case 'unavailable':
      res.setHeader('Retry-After', '5');
      return sendError(req, res, 503, 'store_unavailable', 'Service temporarily unavailable', ctx.requestId);
    case 'client_denied':
      if (result.retryAfter) res.setHeader('Retry-After', String(Math.ceil(result.retryAfter / 1000)));
      if (result.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
      // A machine's credential was refused: JSON whatever it accepts, never an HTML page or the portal.
      return sendJson(res, result.status, { error: result.status === 429 ? 'rate_limited' : result.status === 403 ? 'forbidden' : 'unauthenticated', message: result.reason, request_id: ctx.requestId });
    case 'unauthenticated':
      if (browser) return redirect(res, `${prefix}/login?rd=${rd}`);
      res.setHeader('WWW-Authenticate', `Bearer realm="portcullis", login="${prefix}/login"`);
      return sendError(req, res, 401, 'unauthenticated', 'Authentication required', ctx.requestId);
    case 'second_factor':
      if (browser) return redirect(res, `${prefix}/verify?rd=${rd}`);
      res.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
      return sendError(req, res, 401, 'second_factor_required', 'Second factor required', ctx.requestId);
    case 'reauth':
      if (browser) return redirect(res, `${prefix}/verify?step_up=1&rd=${rd}`);
      res.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
      return sendError(req, res, 401, 'reauthentication_required', 'Re-authentication required', ctx.requestId);
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}

export function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, gw: Gateway): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isPortcullisError(err)) {
    if (err.code === 'PORTCULLIS_ERR_STORE_UNAVAILABLE') res.setHeader('Retry-After', '5');
    return sendError(req, res, err.status, err.code.replace('PORTCULLIS_ERR_', '').toLowerCase(), err.message, requestId);
  }
  gw.services.logger.error({ err, request_id: requestId }, 'request failed');
  return sendError(req, res, 500, 'internal', 'Internal error', requestId);
}

/** Stage 5: what the proxy needs to forward — the authorised path, identity set, client copies and gateway cookies stripped. */
function proxyContext(compiled: Compiled, upstream: Upstream, ctx: RequestContext, setHeaders: Record<string, string>, strip: readonly string[]): ProxyContext {
  return {
    upstream,
    path: upstream.targetPath(ctx.forward),
    requestId: ctx.requestId,
    client: ctx.client,
    setHeaders,
    stripHeaders: strip.length ? [...compiled.stripHeaders, ...strip] : compiled.stripHeaders,
    stripCookies: compiled.stripCookies,
  };
}

/** The whole request path, in named stages: context → portal → route → authorize → identity → forward. */
export function createRequestHandler(gw: Gateway) {
  return async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = contextFor(gw, req);
    if (ctx instanceof PortcullisError) return sendError(req, res, 400, 'bad_path', ctx.message, String(ctx.details.request_id));
    res.setHeader('x-request-id', ctx.requestId);
    try {
      const compiled = gw.compiled;
      if (isPortalPath(compiled.prefix, ctx.path)) return await handlePortal(gw, req, res, ctx);
      const upstream = compiled.router.route(ctx.hostname, ctx.path);
      if (!upstream) return sendError(req, res, 404, 'not_found', 'No application is configured for this address', ctx.requestId);
      const result = await authorize(gw, { headers: req.headers, host: ctx.hostname, path: ctx.path, method: req.method ?? 'GET', clientIp: ctx.client.ip, upstream: upstream.name });
      if (result.kind !== 'allow') return refuse(gw, req, res, ctx, result);
      const setHeaders = result.subject ? await compiled.identity.headers(result.subject, gw.services.clock.now()) : {};
      const forward = proxyContext(compiled, upstream, ctx, setHeaders, result.strip);
      forward.onDone = (status: number) => gw.services.metrics.requests.inc({ upstream: upstream.name, status });
      compiled.proxy.web(req, res, forward);
    } catch (err) {
      sendFailure(req, res, err, ctx.requestId, gw);
    }
  };
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** WebSocket upgrades: the same decision as requests; a refused upgrade never reaches the upstream. */
export function createUpgradeHandler(gw: Gateway) {
  return async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const ctx = contextFor(gw, req);
    if (ctx instanceof PortcullisError) return refuseUpgrade(socket, 400, 'Bad Request', '{"error":"bad_path"}');
    try {
      const compiled = gw.compiled;
      const upstream = isPortalPath(compiled.prefix, ctx.path) ? undefined : compiled.router.route(ctx.hostname, ctx.path);
      if (!upstream) return refuseUpgrade(socket, 404, 'Not Found', '{"error":"not_found"}');
      const result = await authorize(gw, { headers: req.headers, host: ctx.hostname, path: ctx.path, method: 'GET', clientIp: ctx.client.ip, upstream: upstream.name });
      if (result.kind !== 'allow') {
        const [status, reason, code] =
          result.kind === 'deny' ? [403, 'Forbidden', 'forbidden'] : result.kind === 'unavailable' ? [503, 'Service Unavailable', 'store_unavailable'] : result.kind === 'client_denied' ? [result.status, 'Unauthorized', 'unauthenticated'] : [401, 'Unauthorized', result.kind === 'unauthenticated' ? 'unauthenticated' : result.kind === 'reauth' ? 'reauthentication_required' : 'second_factor_required'];
        return refuseUpgrade(socket, status, reason, JSON.stringify({ error: code }));
      }
      const setHeaders = result.subject ? await compiled.identity.headers(result.subject, gw.services.clock.now()) : {};
      compiled.proxy.upgrade(req, socket, head, proxyContext(compiled, upstream, ctx, setHeaders, result.strip));
    } catch (err) {
      gw.services.logger.warn({ err: { message: (err as Error).message }, request_id: ctx.requestId }, 'upgrade refused');
      refuseUpgrade(socket, 503, 'Service Unavailable', '{"error":"unavailable"}');
    }
  };
}
