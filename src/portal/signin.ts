import type { IncomingMessage, ServerResponse } from 'node:http';
import { findSession } from '../gateway/authorize.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { issueSession, promoteSession } from '../auth/sessions.js';
import type { Flow } from '../auth/flows.js';
import type { RequestInfo, SentInfo } from '../auth/signin.js';
import { isPortcullisError, type PortcullisError } from '../errors/index.js';
import type { FactorMethod } from '../config/schema/index.js';
import { readForm } from '../http/body.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { loginPage, type LoginModel } from './views/login.js';
import { verifyPage, type VerifyModel } from './views/verify.js';
import { messagePage } from './views/pages.js';
import { preSessionCsrf, preSessionCsrfOk, clearSessionCookie, describeDevice, ensureDevice, languageFor, renderPage, safeRd, seeOther, setSessionCookie, viewContext } from './page.js';

function info(gw: Gateway, req: IncomingMessage, ctx: RequestContext, deviceId?: string): RequestInfo {
  return { clientIp: ctx.client.ip, requestId: ctx.requestId, lang: languageFor(gw, req), deviceId };
}

function showLogin(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: LoginModel, headers: Record<string, string> = {}): void {
  const token = preSessionCsrf(gw, res, ctx);
  renderPage(res, status, loginPage(viewContext(gw, req, { csrf: token }), model), headers);
}

export async function getLogin(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const rd = safeRd(gw, ctx, params.get('rd'));
  const found = await findSession(gw, req.headers).catch(() => undefined);
  if (found?.session.level === 'two_factor') return seeOther(res, rd);
  const notice = params.get('notice');
  showLogin(gw, req, res, ctx, 200, { rd, ...(notice === 'logged_out' || notice === 'session_expired' ? { notice } : {}) });
}

function loginError(err: PortcullisError): { status: number; error: LoginModel['error']; retryAfter?: number } {
  switch (err.code) {
    case 'PORTCULLIS_ERR_RATE_LIMITED':
      return { status: 429, error: 'rate_limited', retryAfter: Number(err.details.retry_after ?? 60) };
    case 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE':
      return { status: 503, error: 'directory_unavailable' };
    case 'PORTCULLIS_ERR_STORE_UNAVAILABLE':
      return { status: 503, error: 'store_unavailable' };
    case 'PORTCULLIS_ERR_OVERLOADED':
      return { status: 503, error: 'overloaded', retryAfter: 5 };
    default:
      return { status: 401, error: 'invalid_credentials' };
  }
}

export async function postLogin(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const rd = safeRd(gw, ctx, form.get('rd'));
  const username = (form.get('username') ?? '').trim();
  if (!preSessionCsrfOk(gw, req, form)) {
    return showLogin(gw, req, res, ctx, 403, { rd, username, error: 'csrf' });
  }
  const deviceId = ensureDevice(gw, req, res, ctx);
  const reqInfo = info(gw, req, ctx, deviceId);
  let outcome;
  try {
    outcome = await services.signin.password(username, form.get('password') ?? '', reqInfo);
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    const e = loginError(err);
    return showLogin(gw, req, res, ctx, e.status, { rd, username, error: e.error, ...(e.retryAfter ? { retryAfter: e.retryAfter } : {}) }, e.retryAfter ? { 'retry-after': String(e.retryAfter) } : {});
  }
  const previous = await findSession(gw, req.headers).catch(() => undefined);
  const now = services.clock.now();
  const base = { now, deviceId, clientIp: ctx.client.ip, userAgent: req.headers['user-agent'], replace: previous?.id };
  if (outcome.kind === 'authenticated') {
    const made = await issueSession(services.sessions, outcome.user, { ...base, level: 'two_factor', factors: outcome.via === 'exempt' ? [] : [outcome.via], exempt: outcome.via === 'exempt' });
    setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
    return seeOther(res, rd);
  }
  if (outcome.kind === 'enrol') {
    const made = await issueSession(services.sessions, outcome.user, { ...base, level: 'one_factor', factors: [], enrol: outcome.method });
    setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
    return seeOther(res, `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}`);
  }
  const made = await issueSession(services.sessions, outcome.user, { ...base, level: 'one_factor', factors: [], flow: outcome.flow.id });
  setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
  if (outcome.sendError) {
    // The code could not be sent: say so now (the verify page cannot know), with the resend form.
    const e = verifyError(outcome.sendError);
    return showVerify(gw, req, res, { found: { id: made.id, session: made.session, viaBearer: false }, flow: outcome.flow }, e.status, rd, e.model, e.headers);
  }
  return seeOther(res, `${gw.compiled.prefix}/verify?rd=${encodeURIComponent(rd)}`);
}

interface VerifyState {
  found: NonNullable<Awaited<ReturnType<typeof findSession>>>;
  flow: Flow;
}

/** The session and its second-factor flow; starts a flow (and sends a code) when none is running. */
async function verifyState(gw: Gateway, req: IncomingMessage, ctx: RequestContext, stepUp: boolean): Promise<VerifyState | { redirect: string } | { sendError: PortcullisError; state: VerifyState }> {
  const { services } = gw;
  const rd = safeRd(gw, ctx, new URLSearchParams(ctx.query).get('rd'));
  const found = await findSession(gw, req.headers);
  if (!found) return { redirect: `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}` };
  if (found.session.level === 'two_factor' && !stepUp) return { redirect: rd };
  if (found.session.enrol) return { redirect: `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}` };
  const existing = found.session.flow ? await services.flows.get(found.session.flow) : undefined;
  if (existing && existing.user === found.session.user) return { found, flow: existing };
  const user = await services.directory.lookup(found.session.user);
  if (!user || user.disabled) return { redirect: `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}` };
  const started = await services.signin.stepUp(user, info(gw, req, ctx, gw.deviceId(req.headers.cookie)));
  if (!started) return { redirect: rd };
  await services.sessions.update(found.id, { flow: started.flow.id });
  const state = { found: { ...found, session: { ...found.session, flow: started.flow.id } }, flow: started.flow };
  return started.sendError ? { sendError: started.sendError, state } : state;
}

function verifyModel(gw: Gateway, flow: Flow, rd: string, extra: Partial<VerifyModel> = {}): VerifyModel {
  const cfg = gw.config.second_factor;
  const current = flow.methods.find((m) => m.type === flow.method);
  const sent = flow.sent;
  return {
    rd,
    method: flow.method,
    ...(sent && (flow.method === 'email' || flow.method === 'sms') ? { destination: sent.destination, fellBack: sent.fellBack } : current?.destination ? { destination: current.destination } : {}),
    methods: flow.methods.map((m) => ({ type: m.type, ...(m.destination ? { destination: m.destination } : {}) })),
    rememberDevice: cfg.trusted_devices.enabled,
    trustDays: Math.round(cfg.trusted_devices.lifetime / 86_400_000),
    codeLength: flow.method === 'totp' ? cfg.totp.digits : cfg.code.length,
    codeCharset: flow.method === 'totp' ? 'digits' : flow.method === 'recovery_code' ? 'alphanumeric' : cfg.code.charset,
    ...extra,
  };
}

function verifyError(err: PortcullisError): { status: number; model: Partial<VerifyModel>; headers?: Record<string, string> } {
  switch (err.code) {
    case 'PORTCULLIS_ERR_INVALID_CODE':
      return { status: 401, model: { error: 'invalid_code', attemptsLeft: Number(err.details.attempts_left ?? 0) } };
    case 'PORTCULLIS_ERR_CODE_EXPIRED':
      return { status: 410, model: { error: err.details.reason === 'exhausted' ? 'exhausted' : 'code_expired' } };
    case 'PORTCULLIS_ERR_LOCKED':
      return { status: 423, model: { error: 'locked' } };
    case 'PORTCULLIS_ERR_RATE_LIMITED': {
      const retryAfter = Number(err.details.retry_after ?? 30);
      return { status: 429, model: { error: 'rate_limited', retryAfter }, headers: { 'retry-after': String(retryAfter) } };
    }
    case 'PORTCULLIS_ERR_DELIVERY_FAILED':
      return { status: 502, model: { error: 'delivery_failed' } };
    default:
      throw err;
  }
}

function showVerify(gw: Gateway, req: IncomingMessage, res: ServerResponse, state: VerifyState, status: number, rd: string, extra: Partial<VerifyModel>, headers: Record<string, string> = {}) {
  const s = state.found.session;
  const ctxView = viewContext(gw, req, { csrf: csrfToken(s.csrf), user: { name: s.displayName ?? s.user } });
  renderPage(res, status, verifyPage(ctxView, verifyModel(gw, state.flow, rd, extra)), headers);
}

export async function getVerify(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const rd = safeRd(gw, ctx, params.get('rd'));
  const st = await verifyState(gw, req, ctx, params.get('step_up') === '1');
  if ('redirect' in st) return seeOther(res, st.redirect);
  if ('sendError' in st) {
    const e = verifyError(st.sendError);
    return showVerify(gw, req, res, st.state, e.status, rd, e.model, e.headers);
  }
  const fresh = st.flow.sent && gw.services.clock.now() - st.flow.sent.at < 60_000;
  // A code method whose code never went out (delivery failed): offer to send, do not claim it was sent.
  const unsent = !st.flow.sent && (st.flow.method === 'email' || st.flow.method === 'sms');
  showVerify(gw, req, res, st, 200, rd, fresh ? { sent: true } : unsent ? { sent: false } : {});
}

function methodParam(value: string | null): FactorMethod | undefined {
  return value === 'email' || value === 'sms' || value === 'totp' || value === 'webauthn' || value === 'recovery_code' ? value : undefined;
}

export async function postVerify(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, resend: boolean): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const rd = safeRd(gw, ctx, form.get('rd'));
  const found = await findSession(gw, req.headers);
  if (!found) return seeOther(res, `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}`);
  if (!verifyCsrf(found.session.csrf, form.get('csrf') ?? undefined)) {
    const flow = found.session.flow ? await services.flows.get(found.session.flow) : undefined;
    if (!flow) return seeOther(res, `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}`);
    return showVerify(gw, req, res, { found, flow }, 403, rd, { error: 'csrf' });
  }
  const flow = found.session.flow ? await services.flows.get(found.session.flow) : undefined;
  if (!flow || flow.user !== found.session.user) return seeOther(res, `${gw.compiled.prefix}/verify?rd=${encodeURIComponent(rd)}${found.session.level === 'two_factor' ? '&step_up=1' : ''}`);
  const state: VerifyState = { found, flow };
  const reqInfo = info(gw, req, ctx, gw.deviceId(req.headers.cookie));
  const method = methodParam(form.get('method'));
  const code = form.get('code');

  if (resend || (method && !code)) {
    let sent: SentInfo | undefined;
    try {
      sent = await services.signin.send(flow, method, reqInfo);
    } catch (err) {
      if (!isPortcullisError(err)) throw err;
      const e = verifyError(err);
      return showVerify(gw, req, res, state, e.status, rd, e.model, e.headers);
    }
    return showVerify(gw, req, res, state, 200, rd, sent ? { sent: true } : {});
  }

  try {
    const { user, method: used } = await services.signin.verify(flow, { method, code: code ?? '' }, reqInfo);
    const now = services.clock.now();
    const made = await promoteSession(services.sessions, found.id, found.session, used, now);
    setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
    const deviceId = gw.deviceId(req.headers.cookie);
    if (form.get('remember_device') && deviceId) {
      await services.signin.trustDevice(user, deviceId, { name: describeDevice(req.headers['user-agent']), ip: ctx.client.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256) }, reqInfo);
    }
    return seeOther(res, rd);
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    if (err.code === 'PORTCULLIS_ERR_UNAUTHENTICATED') {
      clearSessionCookie(gw, res, ctx);
      return seeOther(res, `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}`);
    }
    const e = verifyError(err);
    if (err.code === 'PORTCULLIS_ERR_LOCKED') clearSessionCookie(gw, res, ctx);
    return showVerify(gw, req, res, state, e.status, rd, e.model, e.headers);
  }
}

export async function postLogout(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { services } = gw;
  const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const form = isForm ? await readForm(req, gw.config.server.limits.max_form_body) : new URLSearchParams();
  const found = await findSession(gw, req.headers);
  const everywhere = new URLSearchParams(ctx.query).get('everywhere') === '1' || form.get('everywhere') === '1';
  if (found) {
    if (!verifyCsrf(found.session.csrf, form.get('csrf') ?? undefined)) {
      const view = viewContext(gw, req);
      return renderPage(res, 403, messagePage(view, { title: view.t.t('error.generic'), message: view.t.t('error.csrf'), status: 403 }));
    }
    if (everywhere) {
      await services.sessions.revokeUser(found.session.user);
      await services.devices.revokeAll(found.session.user);
      // A complete logout (seed 001): this device is asked for a code next time, grace or not.
      const deviceId = gw.deviceId(req.headers.cookie);
      if (deviceId) await services.grace.clear(found.session.user, deviceId);
    } else {
      await services.sessions.revoke(found.id);
    }
    services.signin.auditLogout(found.session.user, { clientIp: ctx.client.ip, requestId: ctx.requestId, lang: 'en' }, everywhere);
  }
  clearSessionCookie(gw, res, ctx);
  seeOther(res, `${gw.compiled.prefix}/login?notice=logged_out`);
}
