import type { IncomingMessage, ServerResponse } from 'node:http';
import { issueSession } from '../auth/sessions.js';
import type { RequestInfo } from '../auth/signin.js';
import type { FactorMethod } from '../config/schema/index.js';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import { findSession } from '../gateway/authorize.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readJson } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import { describeDevice, languageFor } from '../portal/page.js';
import { randomToken } from '../util/random.js';
import { OPENAPI_DOCUMENT } from './openapi.js';

const MAX_JSON = 16_384;
const METHODS = new Set<string>(['totp', 'email', 'sms', 'webauthn', 'recovery_code']);

type Body = Record<string, unknown>;

function str(body: Body, key: string, max = 1024): string | undefined {
  const v = body[key];
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

function method(body: Body): FactorMethod | undefined {
  const v = body.method;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !METHODS.has(v)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'unknown method');
  return v as FactorMethod;
}

async function body(req: IncomingMessage): Promise<Body> {
  const parsed = await readJson(req, MAX_JSON);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected a JSON object');
  return parsed as Body;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Maps a failure to SPEC §3's JSON answers. */
function fail(res: ServerResponse, err: unknown, requestId: string): void {
  if (!isPortcullisError(err)) throw err;
  const d = err.details;
  switch (err.code) {
    case 'PORTCULLIS_ERR_INVALID_CREDENTIALS':
      return sendJson(res, 401, { error: 'invalid_credentials', request_id: requestId });
    case 'PORTCULLIS_ERR_INVALID_CODE':
      return sendJson(res, 401, { error: 'invalid_code', attempts_left: Number(d.attempts_left ?? 0), request_id: requestId });
    case 'PORTCULLIS_ERR_CODE_EXPIRED':
      return sendJson(res, 410, { error: 'code_expired', ...(d.reason === 'exhausted' ? { reason: 'too_many_attempts' } : {}), request_id: requestId });
    case 'PORTCULLIS_ERR_LOCKED':
      return sendJson(res, 423, { error: 'locked', request_id: requestId });
    case 'PORTCULLIS_ERR_RATE_LIMITED': {
      const retry = Number(d.retry_after ?? 30);
      return sendJson(res, 429, { error: 'rate_limited', retry_after: retry, request_id: requestId }, { 'retry-after': String(retry) });
    }
    default: {
      const code = err.code.replace('PORTCULLIS_ERR_', '').toLowerCase();
      if (err.status === 503) res.setHeader('retry-after', '5');
      return sendJson(res, err.status, { error: code, message: err.message, request_id: requestId });
    }
  }
}

function info(gw: Gateway, req: IncomingMessage, ctx: RequestContext, deviceId?: string): RequestInfo {
  return { clientIp: ctx.client.ip, requestId: ctx.requestId, lang: languageFor(gw, req), deviceId };
}

async function login(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const username = str(b, 'username', 256);
  const password = str(b, 'password', 1024);
  if (username === undefined || password === undefined) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'username and password are required strings');
  const deviceToken = str(b, 'device_token', 512);
  const deviceId = deviceToken ? gw.services.deviceCookies.verify(deviceToken) : undefined;
  const outcome = await gw.services.signin.password(username, password, info(gw, req, ctx, deviceId));
  const now = gw.services.clock.now();
  if (outcome.kind === 'authenticated') {
    const made = await issueSession(gw.services.sessions, outcome.user, {
      level: 'two_factor', factors: outcome.via === 'exempt' ? [] : [outcome.via], exempt: outcome.via === 'exempt', now, deviceId, clientIp: ctx.client.ip, userAgent: req.headers['user-agent'], apiToken: true,
    });
    return sendJson(res, 200, { status: 'authenticated', token: made.cookie, expires_at: iso(made.session.expiresAt) });
  }
  if (outcome.kind === 'enrol') {
    return sendJson(res, 403, { error: 'enrollment_required', method: outcome.method, enroll_url: `${gw.compiled.prefix}/login`, request_id: ctx.requestId });
  }
  const { flow, sent, sendError } = outcome;
  return sendJson(res, 200, {
    status: 'second_factor_required',
    flow: flow.id,
    methods: flow.methods.map((m) => ({ type: m.type, ...(m.destination ? { destination: m.destination } : {}) })),
    method: flow.method,
    ...(sent ? { sent: { channel: sent.channel, destination: sent.destination, fell_back: sent.fellBack } } : {}),
    ...(sendError ? { delivery_error: sendError.code === 'PORTCULLIS_ERR_RATE_LIMITED' ? 'rate_limited' : 'delivery_failed' } : {}),
  });
}

async function flowFrom(gw: Gateway, b: Body) {
  const flow = await gw.services.flows.get(b.flow);
  if (!flow) throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', 'Unknown or expired flow; sign in again', { details: { reason: 'flow' } });
  return flow;
}

async function verify(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const flow = await flowFrom(gw, b);
  const code = str(b, 'code', 64);
  if (code === undefined) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'code is required');
  const reqInfo = info(gw, req, ctx, flow.deviceId);
  const { user, method: used } = await gw.services.signin.verify(flow, { method: method(b), code }, reqInfo);
  const now = gw.services.clock.now();
  let deviceToken: string | undefined;
  let deviceId = flow.deviceId;
  if (b.remember_device === true && gw.config.second_factor.trusted_devices.enabled) {
    deviceId ??= randomToken(24);
    await gw.services.signin.trustDevice(user, deviceId, { name: describeDevice(req.headers['user-agent']), ip: ctx.client.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256) }, reqInfo);
    deviceToken = gw.services.deviceCookies.sign(deviceId);
  }
  const made = await issueSession(gw.services.sessions, user, { level: 'two_factor', factors: [used], now, deviceId, clientIp: ctx.client.ip, userAgent: req.headers['user-agent'], apiToken: true });
  sendJson(res, 200, { status: 'authenticated', token: made.cookie, expires_at: iso(made.session.expiresAt), ...(deviceToken ? { device_token: deviceToken } : {}) });
}

async function resend(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const flow = await flowFrom(gw, b);
  const sent = await gw.services.signin.send(flow, method(b), info(gw, req, ctx, flow.deviceId));
  if (!sent) return sendJson(res, 202, { sent: false, method: flow.method });
  sendJson(res, 202, { sent: true, channel: sent.channel, destination: sent.destination, fell_back: sent.fellBack });
}

async function session(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const found = await findSession(gw, req.headers);
  if (!found) {
    res.setHeader('www-authenticate', 'Bearer realm="portcullis"');
    return sendJson(res, 401, { error: 'unauthenticated', request_id: ctx.requestId });
  }
  const s = found.session;
  sendJson(res, 200, {
    user: s.user,
    groups: s.groups,
    email: s.email ?? null,
    name: s.displayName ?? null,
    level: s.level,
    authenticated_at: iso(s.authenticatedAt),
    ...(s.secondFactorAt ? { second_factor_at: iso(s.secondFactorAt) } : {}),
    expires_at: iso(s.expiresAt),
    factors: s.factors.map((f) => f.method),
  });
}

async function logout(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const found = await findSession(gw, req.headers);
  if (!found) {
    res.setHeader('www-authenticate', 'Bearer realm="portcullis"');
    return sendJson(res, 401, { error: 'unauthenticated', request_id: ctx.requestId });
  }
  // With a cookie, only a JSON request may end the session: a cross-site form cannot send one (CSRF).
  if (!found.viaBearer && !/^application\/([a-z.+-]*\+)?json\b/i.test(String(req.headers['content-type'] ?? ''))) {
    throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected Content-Type: application/json');
  }
  await gw.services.sessions.revoke(found.id);
  gw.services.signin.auditLogout(found.session.user, info(gw, req, ctx), false);
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}

/** The OpenAPI document, with `servers` under the configured portal prefix. */
function documentFor(prefix: string): unknown {
  const url = `${prefix}/api/v1`;
  return OPENAPI_DOCUMENT.servers[0].url === url ? OPENAPI_DOCUMENT : { ...OPENAPI_DOCUMENT, servers: [{ url }] };
}

type ApiHandler = (gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;
const ROUTES: Record<string, Partial<Record<string, ApiHandler>>> = {
  login: { POST: login },
  verify: { POST: verify },
  resend: { POST: resend },
  session: { GET: session },
  logout: { POST: logout },
  'openapi.json': { GET: async (gw, _req, res) => sendJson(res, 200, documentFor(gw.compiled.prefix), { 'cache-control': 'public, max-age=300' }) },
};

/** `/_gateway/api/v1/...`: JSON only, no CSRF token (a JSON content type cannot be sent cross-site without CORS). */
export async function handleApi(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  const route = ROUTES[rest];
  if (!route) return sendJson(res, 404, { error: 'not_found', request_id: ctx.requestId });
  const handler = route[req.method ?? 'GET'];
  if (!handler) {
    res.setHeader('allow', Object.keys(route).join(', '));
    return sendJson(res, 405, { error: 'method_not_allowed', request_id: ctx.requestId });
  }
  try {
    await handler(gw, req, res, ctx);
  } catch (err) {
    // A body left unread (too large, too slow) must not be parsed as the next request on this connection.
    if (!req.complete) res.setHeader('connection', 'close');
    fail(res, err, ctx.requestId);
  }
}
