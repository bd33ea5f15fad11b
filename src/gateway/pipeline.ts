import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessResult } from '../auth/access.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import { resolveClient } from '../http/client.js';
import { hostnameOf, isBrowserNavigation, originalUrl, type RequestContext } from '../http/context.js';
import { requestId } from '../http/request-id.js';
import { sendError, sendPortcullisError } from '../http/respond.js';
import { normalizeForRules } from '../policy/readings.js';
import type { ProxyContext } from '../proxy/forward.js';
import { setAnswerHeaders } from '../proxy/headers.js';
import type { Upstream } from '../proxy/router.js';
import { trackResponse, trackUpgrade } from './live.js';
import { refusesCookieUpgrade } from './origin.js';
import { answerFor, writeAnswer, writeSocketAnswer, type Answer } from './refusal.js';
import { handleReserved, isReservedPath } from './routes.js';
import type { Compiled, Gateway } from './runtime.js';

type Allowed = Extract<AccessResult, { kind: 'allow' }>;

/** No identity: nothing to set (shared, never written to). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host, or with more than one, is answered 400 (with two, which
 * one a rule and which one the upstream reads would be anybody's guess).
 */
function hostProblem(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  if (count > 1) return 'duplicate_host';
  if (count === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return 'missing_host';
  return undefined;
}

/** Stage 1: who is calling, from where, for which normalised path. Answers 400 for unsafe paths and bad Host headers. */
function contextFor(gw: Gateway, req: IncomingMessage): RequestContext | PortcullisError {
  const id = requestId(req);
  const badHost = hostProblem(req);
  if (badHost) return new PortcullisError('PORTCULLIS_ERR_BAD_PATH', badHost === 'missing_host' ? 'An HTTP/1.1 request needs a Host header' : 'A request may carry only one Host header', { details: { request_id: id, reason: badHost } });
  const client = resolveClient(req, gw.compiled.trusted);
  // The upstream receives the normalised path; its plausible readings must fall under the same rules (readings.ts).
  const norm = normalizeForRules(req.url ?? '/', gw.compiled.policy, 'as-forwarded', hostnameOf(client.host));
  if (!norm.ok) return new PortcullisError('PORTCULLIS_ERR_BAD_PATH', undefined, { details: { request_id: id, reason: norm.reason } });
  // An absolute-form target must name the same host as the Host header (no routing by one, authorising by the other).
  if (norm.authority !== undefined && norm.authority.toLowerCase() !== client.host.toLowerCase()) {
    return new PortcullisError('PORTCULLIS_ERR_BAD_PATH', 'The request target and the Host header disagree', { details: { request_id: id, reason: 'authority_mismatch' } });
  }
  return { requestId: id, client, hostname: hostnameOf(client.host), path: norm.path, query: norm.query, forward: norm.forward };
}

function badRequestCode(err: PortcullisError): string {
  const reason = err.details.reason;
  return reason === 'missing_host' || reason === 'duplicate_host' ? 'bad_request' : 'bad_path';
}

/** A refusal as the built-in proxy or the upgrade handler answers it. */
function refusal(gw: Gateway, req: IncomingMessage, ctx: RequestContext, result: Exclude<AccessResult, { kind: 'allow' }>, entrance: 'proxy' | 'upgrade'): Answer {
  return answerFor(result, entrance, { browser: entrance === 'proxy' && isBrowserNavigation(req), original: originalUrl(ctx), portal: gw.prefix });
}

/** An unexpected failure: a typed error as its wire answer, anything else a logged 500. */
export function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, gw: Gateway): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isPortcullisError(err)) return sendPortcullisError(req, res, err, requestId, { pages: gw.errorPages });
  gw.core.logger.error({ err, request_id: requestId }, 'request failed');
  sendError(req, res, 500, 'internal', 'Internal error', requestId, undefined, gw.errorPages);
}

/**
 * The config's strip list plus a decision's (the same few arrays every time): made once per pair, so the
 * proxy's header sets — cached by array identity — are built once too, not per request.
 */
const combined = new WeakMap<readonly string[], WeakMap<readonly string[], readonly string[]>>();
function combinedStrip(compiled: Compiled, strip: readonly string[]): readonly string[] {
  let byStrip = combined.get(compiled.stripHeaders);
  if (!byStrip) combined.set(compiled.stripHeaders, (byStrip = new WeakMap()));
  let list = byStrip.get(strip);
  if (!list) byStrip.set(strip, (list = Object.freeze([...compiled.stripHeaders, ...strip])));
  return list;
}

/**
 * The gateway's own headers on every answer: HSTS (HTTPS portal) and X-Request-Id (unless turned off). A
 * proxied answer hands them to the proxy, which writes them with the upstream's head in one `writeHead`
 * (a header set on the response before would make Node take its slow path for every upstream header:
 * one `setHeader` each); an answer the gateway writes itself gets them from `stamp`.
 */
function answerHeaders(compiled: Compiled, requestId: string): readonly string[] | undefined {
  const id = compiled.config.server.expose_request_id;
  if (compiled.hsts) return id ? ['strict-transport-security', compiled.hsts, 'x-request-id', requestId] : ['strict-transport-security', compiled.hsts];
  return id ? ['x-request-id', requestId] : undefined;
}

function stamp(compiled: Compiled, res: ServerResponse, requestId: string): void {
  setAnswerHeaders(res, answerHeaders(compiled, requestId));
}

/** Stage 5: what the proxy needs to forward — the authorised path, identity set, client copies and gateway cookies stripped. */
function proxyContext(compiled: Compiled, upstream: Upstream, ctx: RequestContext, setHeaders: Record<string, string>, strip: readonly string[]): ProxyContext {
  return {
    upstream,
    path: upstream.targetPath(ctx.forward),
    requestId: ctx.requestId,
    client: ctx.client,
    setHeaders,
    stripHeaders: strip.length ? combinedStrip(compiled, strip) : compiled.stripHeaders,
    stripCookies: compiled.stripCookies,
    answerHeaders: answerHeaders(compiled, ctx.requestId),
  };
}

/** Stage 5 and 6 for an allowed request: identity headers (awaited only with a JWT assertion to sign), then forward. */
function forwardAllowed(gw: Gateway, compiled: Compiled, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, upstream: Upstream, result: Allowed): Promise<void> | undefined {
  // Registered before the identity headers may be awaited, so that a revocation meanwhile still closes it.
  const release = trackResponse(gw, result, res);
  const send = (setHeaders: Record<string, string>): void => {
    const forward = proxyContext(compiled, upstream, ctx, setHeaders, result.strip);
    const name = upstream.name;
    const requests = gw.core.metrics.requests;
    // The proxy calls onDone exactly once, when the answer ended or the connection was cut: the stream's
    // registration ends there too (no 'close' listener of its own).
    forward.onDone = release
      ? (status: number) => {
          release();
          requests.inc({ upstream: name, status });
        }
      : (status: number) => requests.inc({ upstream: name, status });
    compiled.proxy.web(req, res, forward);
  };
  const failed = (err: unknown): void => {
    release?.();
    failure(gw, req, res, ctx, err);
  };
  try {
    const made = result.subject ? compiled.identity.headers(result.subject, gw.core.clock.now()) : NO_HEADERS;
    if (made instanceof Promise) return made.then(send).catch(failed);
    send(made);
  } catch (err) {
    failed(err);
  }
  return undefined;
}

/** Stage 4's answer: a refusal written, or the request forwarded. */
function afterDecision(gw: Gateway, compiled: Compiled, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, upstream: Upstream, result: AccessResult): Promise<void> | undefined {
  if (result.kind === 'allow') return forwardAllowed(gw, compiled, req, res, ctx, upstream, result);
  stamp(compiled, res, ctx.requestId);
  writeAnswer(req, res, refusal(gw, req, ctx, result, 'proxy'), ctx.requestId, gw.errorPages);
  return undefined;
}

/** An unexpected failure after the context was made: the gateway's headers, then the error answer. */
function failure(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, err: unknown): void {
  if (!res.headersSent) stamp(gw.compiled, res, ctx.requestId);
  sendFailure(req, res, err, ctx.requestId, gw);
}

/**
 * The whole request path, in named stages: context → reserved paths → route → access → identity → forward.
 * A request that memory alone can decide (a bypass path, a cached session, identity headers without a JWT
 * assertion) runs through synchronously, with no promise; the rest returns one that never rejects.
 */
export function createRequestHandler(gw: Gateway) {
  return function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
    const compiled = gw.compiled;
    const ctx = contextFor(gw, req);
    if (ctx instanceof PortcullisError) {
      const id = String(ctx.details.request_id);
      stamp(compiled, res, id);
      sendError(req, res, 400, badRequestCode(ctx), ctx.message, id, undefined, gw.errorPages);
      return undefined;
    }
    const failed = (err: unknown): void => failure(gw, req, res, ctx, err);
    try {
      if (isReservedPath(compiled.prefix, ctx.path)) {
        stamp(compiled, res, ctx.requestId);
        return handleReserved(gw, req, res, ctx).catch(failed);
      }
      const upstream = compiled.router.route(ctx.hostname, ctx.path);
      if (!upstream) {
        stamp(compiled, res, ctx.requestId);
        sendError(req, res, 404, 'not_found', 'No application is configured for this address', ctx.requestId, undefined, gw.errorPages);
        return undefined;
      }
      const input = { headers: req.headers, host: ctx.hostname, path: ctx.path, method: req.method ?? 'GET', clientIp: ctx.client.ip, upstream: upstream.name, requestId: ctx.requestId };
      const now = compiled.access.decideCached(input);
      if (now) return afterDecision(gw, compiled, req, res, ctx, upstream, now);
      return compiled.access
        .decide(input)
        .then((result) => afterDecision(gw, compiled, req, res, ctx, upstream, result))
        .catch(failed);
    } catch (err) {
      failed(err);
      return undefined;
    }
  };
}

/**
 * A request with `Upgrade` to a reserved path (a front proxy's forward-auth check that still carries the
 * client's `Upgrade: websocket`) is answered as a plain HTTP request on the same socket, then closed.
 */
function answerPlainly(gw: Gateway, req: IncomingMessage, socket: Duplex): Promise<void> {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  return createRequestHandler(gw)(req, res) ?? Promise.resolve();
}

/** WebSocket upgrades: the same decision as requests; a refused upgrade never reaches the upstream. */
export function createUpgradeHandler(gw: Gateway) {
  return async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const ctx = contextFor(gw, req);
    if (ctx instanceof PortcullisError) return writeSocketAnswer(socket, { status: 400, code: badRequestCode(ctx), message: ctx.message, headers: {} }, String(ctx.details.request_id));
    if (isReservedPath(gw.prefix, ctx.path)) return answerPlainly(gw, req, socket);
    try {
      const compiled = gw.compiled;
      const upstream = compiled.router.route(ctx.hostname, ctx.path);
      if (!upstream) return writeSocketAnswer(socket, { status: 404, code: 'not_found', message: 'Not found', headers: {} }, ctx.requestId);
      const result = await compiled.access.decide({ headers: req.headers, host: ctx.hostname, path: ctx.path, method: 'GET', clientIp: ctx.client.ip, upstream: upstream.name, requestId: ctx.requestId });
      if (result.kind !== 'allow') return writeSocketAnswer(socket, refusal(gw, req, ctx, result, 'upgrade'), ctx.requestId);
      // A handshake that the session cookie authenticates must come from a page this gateway serves (a
      // foreign page could otherwise open the user's live view or PTZ socket with the user's cookie).
      if (result.session && !result.session.viaBearer && result.decision.policy !== 'bypass' && refusesCookieUpgrade(gw, req, ctx)) {
        gw.core.logger.warn({ request_id: ctx.requestId, path: ctx.path, origin: String(req.headers.origin ?? '').slice(0, 200) }, 'cross-origin WebSocket refused');
        return writeSocketAnswer(socket, { status: 403, code: 'cross_origin', message: 'This request did not come from a page of this site', headers: {} }, ctx.requestId);
      }
      const slot = gw.upgrades.acquire(upstream.name, upstream.maxConnections, ctx.client.ip, compiled.config.server.limits.max_websockets_per_client);
      if (typeof slot === 'string') {
        gw.core.logger.warn({ request_id: ctx.requestId, upstream: upstream.name, limit: slot }, 'WebSocket refused: too many open');
        return writeSocketAnswer(socket, { status: 503, code: 'too_many_websockets', message: 'Too many open connections; try again later', headers: { 'Retry-After': '5' } }, ctx.requestId);
      }
      socket.once('close', slot.release);
      const setHeadersMade = result.subject ? compiled.identity.headers(result.subject, gw.core.clock.now()) : NO_HEADERS;
      const setHeaders = setHeadersMade instanceof Promise ? await setHeadersMade : setHeadersMade;
      const forward = proxyContext(compiled, upstream, ctx, setHeaders, result.strip);
      trackUpgrade(gw, result, socket, forward);
      compiled.proxy.upgrade(req, socket, head, forward);
    } catch (err) {
      gw.core.logger.warn({ err: { message: (err as Error).message }, request_id: ctx.requestId }, 'upgrade refused');
      writeSocketAnswer(socket, { status: 503, code: 'unavailable', message: 'Service temporarily unavailable', headers: {} }, ctx.requestId);
    }
  };
}
