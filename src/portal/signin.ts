import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Flow } from '../auth/flows.js';
import { describeDevice } from '../auth/request.js';
import type { FoundSession } from '../auth/session-lookup.js';
import { issueSession, promoteSession } from '../auth/sessions.js';
import type { SentInfo } from '../auth/second-step.js';
import { isPortcullisError, type PortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { loginPage, type LoginModel } from './views/login.js';
import { verifyPage, type VerifyModel } from './views/verify.js';
import { clearSessionCookie, csrfRejected, deviceIdOf, ensureDevice, loginUrl, preSessionCsrf, preSessionCsrfOk, rdQuery, renderPage, requestInfo, safeRd, seeOther, setSessionCookie, userAgent, viewContext } from './page.js';

function showLogin(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: LoginModel, headers: Record<string, string> = {}): void {
  const token = preSessionCsrf(app, res, ctx);
  const sso = { providers: app.core.identityProviders.buttons(), passwordForm: app.config.portal.password_form };
  renderPage(res, status, loginPage(viewContext(app, req, { csrf: token }), { ...sso, ...model }), headers);
}

export async function getLogin(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const rd = safeRd(app, ctx, params.get('rd'));
  const found = await app.core.lookup.find(req.headers).catch(() => undefined);
  if (found?.session.level === 'two_factor') return seeOther(res, rd);
  const notice = params.get('notice');
  showLogin(app, req, res, ctx, 200, { rd, ...(notice === 'logged_out' || notice === 'session_expired' ? { notice } : {}) });
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

export async function postLogin(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { core } = app;
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const rd = safeRd(app, ctx, form.get('rd'));
  const username = (form.get('username') ?? '').trim();
  if (!preSessionCsrfOk(app, req, form)) return showLogin(app, req, res, ctx, 403, { rd, username, error: 'csrf' });
  const deviceId = ensureDevice(app, req, res, ctx);
  let outcome;
  try {
    outcome = await core.signIn.password(username, form.get('password') ?? '', requestInfo(app, req, ctx, deviceId));
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    const e = loginError(err);
    return showLogin(app, req, res, ctx, e.status, { rd, username, error: e.error, ...(e.retryAfter ? { retryAfter: e.retryAfter } : {}) }, e.retryAfter ? { 'retry-after': String(e.retryAfter) } : {});
  }
  const previous = await core.lookup.find(req.headers).catch(() => undefined);
  const base = { now: core.clock.now(), deviceId, clientIp: ctx.client.ip, userAgent: userAgent(req), replace: previous?.id };
  if (outcome.kind === 'authenticated') {
    const made = await issueSession(core.sessions, outcome.user, { ...base, level: 'two_factor', factors: outcome.via === 'exempt' ? [] : [outcome.via], exempt: outcome.via === 'exempt' });
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    return seeOther(res, rd);
  }
  if (outcome.kind === 'enrol') {
    const made = await issueSession(core.sessions, outcome.user, { ...base, level: 'one_factor', factors: [], enrol: outcome.method });
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  }
  const made = await issueSession(core.sessions, outcome.user, { ...base, level: 'one_factor', factors: [], flow: outcome.flow.id });
  setSessionCookie(app, res, ctx, made.cookie, made.session);
  if (outcome.sendError) {
    // The code could not be sent: say so now (the verify page cannot know), with the resend form.
    const e = verifyError(outcome.sendError);
    return showVerify(app, req, res, { found: { id: made.id, session: made.session, viaBearer: false }, flow: outcome.flow }, e.status, rd, e.model, e.headers);
  }
  return seeOther(res, `${app.prefix}/verify?${rdQuery(rd)}`);
}

interface VerifyState {
  found: FoundSession;
  flow: Flow;
}

/** The session and its second-step flow; starts a flow (and sends a code) when none is running. */
async function verifyState(app: PortalApp, req: IncomingMessage, ctx: RequestContext, stepUp: boolean): Promise<VerifyState | { redirect: string } | { sendError: PortcullisError; state: VerifyState }> {
  const { core } = app;
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const found = await core.lookup.find(req.headers);
  if (!found) return { redirect: loginUrl(app, rd) };
  if (found.session.level === 'two_factor' && !stepUp) return { redirect: rd };
  if (found.session.enrol) return { redirect: `${app.prefix}/enroll?${rdQuery(rd)}` };
  const existing = found.session.flow ? await core.flows.get(found.session.flow) : undefined;
  if (existing && existing.user === found.session.user) return { found, flow: existing };
  const user = await core.directory.lookup(found.session.user);
  if (!user || user.disabled) return { redirect: loginUrl(app, rd) };
  const started = await core.secondStep.stepUp(user, requestInfo(app, req, ctx));
  if (!started) {
    // Trusted for its MFA, the identity provider does the step-up when Portcullis has no factor of the user's own.
    const provider = core.identityProviders.stepUpProvider(found.session);
    return { redirect: provider ? `${app.prefix}/oidc/${provider}/start?${rdQuery(rd)}&reauth=1` : rd };
  }
  await core.sessions.update(found.id, { flow: started.flow.id });
  const state = { found: { ...found, session: { ...found.session, flow: started.flow.id } }, flow: started.flow };
  return started.sendError ? { sendError: started.sendError, state } : state;
}

function verifyModel(app: PortalApp, flow: Flow, rd: string, extra: Partial<VerifyModel> = {}): VerifyModel {
  const cfg = app.config.second_factor;
  const current = flow.methods.find((m) => m.type === flow.method);
  const sent = flow.sent;
  const format = app.core.factors.get(flow.method)?.codeFormat() ?? { length: cfg.code.length, charset: cfg.code.charset };
  return {
    rd,
    method: flow.method,
    ...(sent && app.core.factors.get(flow.method)?.kind === 'destination' ? { destination: sent.destination, fellBack: sent.fellBack } : current?.destination ? { destination: current.destination } : {}),
    methods: flow.methods.map((m) => ({ type: m.type, ...(m.destination ? { destination: m.destination } : {}) })),
    rememberDevice: cfg.trusted_devices.enabled,
    trustDays: Math.round(cfg.trusted_devices.lifetime / 86_400_000),
    codeLength: format.length,
    codeCharset: format.charset,
    ...extra,
  };
}

function verifyError(err: PortcullisError): { status: number; model: Partial<VerifyModel>; headers?: Record<string, string> } {
  switch (err.code) {
    case 'PORTCULLIS_ERR_INVALID_CODE':
      return { status: 401, model: { error: 'invalid_code', attemptsLeft: Number(err.details.attempts_left ?? 0) } };
    case 'PORTCULLIS_ERR_CODE_EXPIRED':
      return { status: 410, model: { error: err.details.reason === 'too_many_attempts' ? 'exhausted' : 'code_expired' } };
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

function showVerify(app: PortalApp, req: IncomingMessage, res: ServerResponse, state: VerifyState, status: number, rd: string, extra: Partial<VerifyModel>, headers: Record<string, string> = {}) {
  const s = state.found.session;
  const view = viewContext(app, req, { csrf: csrfToken(s.csrf), user: { name: s.displayName ?? s.user } });
  renderPage(res, status, verifyPage(view, verifyModel(app, state.flow, rd, extra)), headers);
}

export async function getVerify(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const rd = safeRd(app, ctx, params.get('rd'));
  const st = await verifyState(app, req, ctx, params.get('step_up') === '1');
  if ('redirect' in st) return seeOther(res, st.redirect);
  if ('sendError' in st) {
    const e = verifyError(st.sendError);
    return showVerify(app, req, res, st.state, e.status, rd, e.model, e.headers);
  }
  const fresh = st.flow.sent && app.core.clock.now() - st.flow.sent.at < 60_000;
  // A code method whose code never went out (delivery failed): offer to send, do not claim it was sent.
  const unsent = !st.flow.sent && app.core.factors.get(st.flow.method)?.kind === 'destination';
  showVerify(app, req, res, st, 200, rd, fresh ? { sent: true } : unsent ? { sent: false } : {});
}

export async function postVerify(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, resend: boolean): Promise<void> {
  const { core } = app;
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const rd = safeRd(app, ctx, form.get('rd'));
  const found = await core.lookup.find(req.headers);
  if (!found) return seeOther(res, loginUrl(app, rd));
  const flow = found.session.flow ? await core.flows.get(found.session.flow) : undefined;
  if (!verifyCsrf(found.session.csrf, form.get('csrf') ?? undefined)) {
    if (!flow) return seeOther(res, loginUrl(app, rd));
    return showVerify(app, req, res, { found, flow }, 403, rd, { error: 'csrf' });
  }
  if (!flow || flow.user !== found.session.user) return seeOther(res, `${app.prefix}/verify?${rdQuery(rd)}${found.session.level === 'two_factor' ? '&step_up=1' : ''}`);
  const state: VerifyState = { found, flow };
  const info = requestInfo(app, req, ctx);
  const methodField = form.get('method');
  const method = methodField !== null && app.core.factors.get(methodField) ? app.core.factors.get(methodField)!.method : undefined;
  const code = form.get('code');

  if (resend || (method && !code)) {
    let sent: SentInfo | undefined;
    try {
      sent = await core.secondStep.send(flow, method, info);
    } catch (err) {
      if (!isPortcullisError(err)) throw err;
      const e = verifyError(err);
      return showVerify(app, req, res, state, e.status, rd, e.model, e.headers);
    }
    return showVerify(app, req, res, state, 200, rd, sent ? { sent: true } : {});
  }

  try {
    const { user, method: used } = await core.secondStep.verify(flow, { method, code: code ?? '' }, info);
    const made = await promoteSession(core.sessions, found.id, found.session, used, core.clock.now());
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    const deviceId = deviceIdOf(app, req);
    if (form.get('remember_device') && deviceId) {
      await core.secondStep.trustDevice(user, deviceId, { name: describeDevice(userAgent(req)), ip: ctx.client.ip, userAgent: userAgent(req) ?? '' }, info);
    }
    return seeOther(res, rd);
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    if (err.code === 'PORTCULLIS_ERR_UNAUTHENTICATED') {
      clearSessionCookie(app, res, ctx);
      return seeOther(res, loginUrl(app, rd));
    }
    const e = verifyError(err);
    if (err.code === 'PORTCULLIS_ERR_LOCKED') clearSessionCookie(app, res, ctx);
    return showVerify(app, req, res, state, e.status, rd, e.model, e.headers);
  }
}

export async function postLogout(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { core } = app;
  const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const form = isForm ? await readForm(req, app.config.server.limits.max_form_body) : new URLSearchParams();
  const found = await core.lookup.find(req.headers);
  const everywhere = new URLSearchParams(ctx.query).get('everywhere') === '1' || form.get('everywhere') === '1';
  let endSession: string | undefined;
  if (found) {
    if (!verifyCsrf(found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
    await core.account.signOut(found, everywhere, deviceIdOf(app, req), requestInfo(app, req, ctx));
    // Begun at an identity provider with `end_session: true`: on to its end_session_endpoint, then back to the sign-in page.
    endSession = core.identityProviders.endSessionUrl(found.session, `${app.publicBase(ctx.client.host, ctx.client.proto) ?? `${ctx.client.proto}://${ctx.client.host}`}${app.prefix}/login`);
  }
  clearSessionCookie(app, res, ctx);
  seeOther(res, endSession ?? `${app.prefix}/login?notice=logged_out`);
}
