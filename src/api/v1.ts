import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeDevice, type RequestInfo } from '../auth/request.js';
import { issueSession } from '../auth/sessions.js';
import type { FactorMethod } from '../config/schema/index.js';
import { PortcullisError, isPortcullisError, type ErrorCode } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readJson } from '../http/body.js';
import { negotiateLanguage } from '../http/language.js';
import { sendJson, sendPortcullisError } from '../http/respond.js';
import { randomToken } from '../util/random.js';
import type { ApiApp } from './app.js';
import { OPENAPI_DOCUMENT } from './openapi.js';

const MAX_JSON = 16_384;

/** Errors with their own shape in the OpenAPI document (SPEC §3): no free-text `message`. */
const OWN_SHAPE: ReadonlySet<ErrorCode> = new Set(['PORTCULLIS_ERR_INVALID_CREDENTIALS', 'PORTCULLIS_ERR_INVALID_CODE', 'PORTCULLIS_ERR_CODE_EXPIRED', 'PORTCULLIS_ERR_LOCKED', 'PORTCULLIS_ERR_RATE_LIMITED']);

type Body = Record<string, unknown>;

function str(body: Body, key: string, max = 1024): string | undefined {
  const v = body[key];
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

function method(app: ApiApp, body: Body): FactorMethod | undefined {
  const v = body.method;
  if (v === undefined) return undefined;
  const factor = typeof v === 'string' ? app.core.factors.get(v) : undefined;
  if (!factor) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'unknown method');
  return factor.method;
}

async function body(req: IncomingMessage): Promise<Body> {
  const parsed = await readJson(req, MAX_JSON);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected a JSON object');
  return parsed as Body;
}

const iso = (ms: number) => new Date(ms).toISOString();

function info(app: ApiApp, req: IncomingMessage, ctx: RequestContext, deviceId?: string): RequestInfo {
  const lang = negotiateLanguage(typeof req.headers['accept-language'] === 'string' ? req.headers['accept-language'].slice(0, 512) : undefined, app.config.portal.languages);
  return { clientIp: ctx.client.ip, requestId: ctx.requestId, lang, deviceId, userAgent: userAgent(req) };
}

function userAgent(req: IncomingMessage): string | undefined {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 256) : undefined;
}

async function login(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const username = str(b, 'username', 256);
  const password = str(b, 'password', 1024);
  if (username === undefined || password === undefined) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'username and password are required strings');
  if (b.app_password === true) {
    // A legacy app's app password: no second step, and the token is good only on `app_passwords` rules.
    const { user, id } = await app.core.appPasswords.signIn(username, password, info(app, req, ctx));
    const made = await issueSession(app.core.sessions, user, { level: 'two_factor', factors: ['app_password'], now: app.core.clock.now(), clientIp: ctx.client.ip, userAgent: userAgent(req), apiToken: true, appPassword: id });
    return sendJson(res, 200, { status: 'authenticated', token: made.cookie, expires_at: iso(made.session.expiresAt) });
  }
  const deviceToken = str(b, 'device_token', 512);
  const deviceId = deviceToken ? app.core.deviceCookies.verify(deviceToken) : undefined;
  const outcome = await app.core.signIn.password(username, password, info(app, req, ctx, deviceId));
  const now = app.core.clock.now();
  if (outcome.kind === 'authenticated') {
    const made = await issueSession(app.core.sessions, outcome.user, {
      level: 'two_factor', factors: outcome.via === 'exempt' ? [] : [outcome.via], exempt: outcome.via === 'exempt', now, deviceId, clientIp: ctx.client.ip, userAgent: userAgent(req), apiToken: true,
    });
    return sendJson(res, 200, { status: 'authenticated', token: made.cookie, expires_at: iso(made.session.expiresAt) });
  }
  if (outcome.kind === 'enrol') {
    return sendJson(res, 403, { error: 'enrollment_required', method: outcome.method, enroll_url: `${app.prefix}/login`, request_id: ctx.requestId });
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

async function flowFrom(app: ApiApp, b: Body) {
  const flow = await app.core.flows.get(b.flow);
  if (!flow) throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED', 'Unknown or expired flow; sign in again');
  return flow;
}

async function verify(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const flow = await flowFrom(app, b);
  // A passkey's answer is the AuthenticationResponseJSON object in `credential`.
  const credential = b.credential !== null && typeof b.credential === 'object' ? JSON.stringify(b.credential) : undefined;
  const code = credential ?? str(b, 'code', 64);
  if (code === undefined) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'code is required');
  const reqInfo = info(app, req, ctx, flow.deviceId);
  const { user, method: used } = await app.core.secondStep.verify(flow, { method: method(app, b), code }, reqInfo);
  const now = app.core.clock.now();
  let deviceToken: string | undefined;
  let deviceId = flow.deviceId;
  if (b.remember_device === true && app.config.second_factor.trusted_devices.enabled) {
    deviceId ??= randomToken(24);
    await app.core.secondStep.trustDevice(user, deviceId, { name: deviceName(b, req), ip: ctx.client.ip, userAgent: userAgent(req) ?? '' }, reqInfo);
    deviceToken = app.core.deviceCookies.sign(deviceId);
  }
  const made = await issueSession(app.core.sessions, user, { level: 'two_factor', factors: [used], now, deviceId, clientIp: ctx.client.ip, userAgent: userAgent(req), apiToken: true });
  sendJson(res, 200, { status: 'authenticated', token: made.cookie, expires_at: iso(made.session.expiresAt), ...(deviceToken ? { device_token: deviceToken } : {}) });
}

async function resend(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const b = await body(req);
  const flow = await flowFrom(app, b);
  const sent = await app.core.secondStep.send(flow, method(app, b), info(app, req, ctx, flow.deviceId));
  if (!sent) return sendJson(res, 202, { sent: false, method: flow.method });
  sendJson(res, 202, { sent: true, channel: sent.channel, destination: sent.destination, fell_back: sent.fellBack });
}

async function session(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  // A session that passed only the password is not signed in (SPEC §3).
  const found = await app.core.lookup.signedIn(req.headers);
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
    ...(s.idp ? { identity_provider: s.idp.name, amr: s.idp.amr, ...(s.idp.acr !== undefined ? { acr: s.idp.acr } : {}) } : {}),
  });
}

async function logout(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const found = await app.core.lookup.find(req.headers);
  if (!found) {
    res.setHeader('www-authenticate', 'Bearer realm="portcullis"');
    return sendJson(res, 401, { error: 'unauthenticated', request_id: ctx.requestId });
  }
  // With a cookie, only a JSON request may end the session: a cross-site form cannot send one (CSRF).
  if (!found.viaBearer && !/^application\/([a-z.+-]*\+)?json\b/i.test(String(req.headers['content-type'] ?? ''))) {
    throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected Content-Type: application/json');
  }
  await app.core.account.signOut(found, false, undefined, info(app, req, ctx));
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}

/** The OpenAPI document, with `servers` under the configured portal prefix. */
function documentFor(prefix: string): unknown {
  const url = `${prefix}/api/v1`;
  return OPENAPI_DOCUMENT.servers[0].url === url ? OPENAPI_DOCUMENT : { ...OPENAPI_DOCUMENT, servers: [{ url }] };
}

/** `POST /webauthn/options {flow}`: PublicKeyCredentialRequestOptionsJSON for a second step by passkey. */
async function webauthnOptions(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const flow = await flowFrom(app, await body(req));
  const options = await app.core.secondStep.passkeyOptions(flow, `${ctx.client.proto}://${ctx.client.host}`);
  if (!options) throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'No passkey for this step');
  sendJson(res, 200, JSON.parse(options) as unknown);
}

type ApiHandler = (app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> | void;
const ROUTES: Record<string, Partial<Record<string, ApiHandler>>> = {
  login: { POST: login },
  verify: { POST: verify },
  'webauthn/options': { POST: webauthnOptions },
  resend: { POST: resend },
  session: { GET: session },
  logout: { POST: logout },
  'openapi.json': { GET: (app, _req, res) => sendJson(res, 200, documentFor(app.prefix), { 'cache-control': 'public, max-age=300' }) },
};

/** `/_gateway/api/v1/...`: JSON only, no CSRF token (a JSON content type cannot be sent cross-site without CORS). */
export async function handleApi(app: ApiApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  const route = ROUTES[rest];
  if (!route) return sendJson(res, 404, { error: 'not_found', request_id: ctx.requestId });
  const handler = route[req.method ?? 'GET'];
  if (!handler) {
    res.setHeader('allow', Object.keys(route).join(', '));
    return sendJson(res, 405, { error: 'method_not_allowed', request_id: ctx.requestId });
  }
  try {
    await handler(app, req, res, ctx);
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    sendPortcullisError(req, res, err, ctx.requestId, { json: true, message: !OWN_SHAPE.has(err.code) });
  }
}

/** The name a remembered device is listed under: the app's `device_name`, else its User-Agent. */
function deviceName(b: Body, req: IncomingMessage): string {
  const given = str(b, 'device_name', 100);
  // eslint-disable-next-line no-control-regex
  if (given && !/[\x00-\x1f\x7f]/.test(given) && given.trim()) return given.trim();
  return describeDevice(userAgent(req));
}
