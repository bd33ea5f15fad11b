import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Flow, FlowFlash } from '../auth/flows.js';
import { describeDevice } from '../auth/request.js';
import type { FoundSession } from '../auth/session-lookup.js';
import { issueSession, promoteSession } from '../auth/sessions.js';
import { isPortcullisError, type PortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { loginPage, type LoginModel } from './views/login.js';
import { signOutPage } from './views/account.js';
import { verifyPage, type VerifyModel } from './views/verify.js';
import { messagePage } from './views/pages.js';
import { clearAmbiguousSessionCookies, clearSessionCookie, csrfRejected, deviceIdOf, ensureDevice, loginUrl, preSessionCsrf, preSessionCsrfOk, rdQuery, renderPage, requestInfo, safeRd, seeOther, sessionView, setSessionCookie, userAgent, viewContext } from './page.js';

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
  clearAmbiguousSessionCookies(app, req, res, ctx);
  showLogin(app, req, res, ctx, 200, { rd, ...loginNotice(params) });
}

/** The notice a redirect to the sign-in page carries (`?notice=`), with the counts of a sign-out everywhere. */
function loginNotice(params: URLSearchParams): Pick<LoginModel, 'notice' | 'signedOut'> {
  const notice = params.get('notice');
  if (notice === 'logged_out' || notice === 'session_expired' || notice === 'locked') return { notice };
  if (notice === 'signed_out_everywhere') {
    const count = (name: string) => {
      const v = params.get(name) ?? '';
      return /^\d{1,5}$/.test(v) ? Number(v) : 0;
    };
    return { notice, signedOut: { sessions: count('sessions'), devices: count('devices') } };
  }
  return {};
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
  const base = { now: core.clock.now(), deviceId, clientIp: ctx.client.ip, userAgent: userAgent(req), replace: previous?.id, host: ctx.hostname };
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
  // The code could not be sent: the verify page says so (with the resend form), through the step's flash.
  if (outcome.sendError) await core.flows.setFlash(outcome.flow, errorFlash(verifyError(outcome.sendError).model));
  return seeOther(res, `${app.prefix}/verify?${rdQuery(rd)}`);
}

interface VerifyState {
  found: FoundSession;
  flow: Flow;
}

/** The session and its second-step flow; starts a flow (and sends a code) when none is running. */
/** `methods=totp,webauthn` of a factor-aware step-up (`require_factor`): known method names only. */
function requiredMethods(app: PortalApp, query: string): readonly string[] | undefined {
  const raw = new URLSearchParams(query).get('methods');
  if (!raw || raw.length > 200) return undefined;
  const methods = raw.split(',').filter((m) => app.core.factors.get(m) !== undefined);
  return methods.length ? methods : undefined;
}

async function verifyState(app: PortalApp, req: IncomingMessage, ctx: RequestContext, stepUp: boolean): Promise<VerifyState | { redirect: string } | { sendError: PortcullisError; state: VerifyState } | { noMethod: readonly string[] }> {
  const { core } = app;
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const found = await core.lookup.find(req.headers);
  if (!found) return { redirect: loginUrl(app, rd) };
  if (found.session.level === 'two_factor' && !stepUp) return { redirect: rd };
  if (found.session.enrol) return { redirect: `${app.prefix}/enroll?${rdQuery(rd)}` };
  const only = stepUp ? requiredMethods(app, ctx.query) : undefined;
  const existing = found.session.flow ? await core.flows.get(found.session.flow) : undefined;
  // A running step is reused unless it offers a method this step-up does not accept.
  if (existing && existing.user === found.session.user && (!only || existing.methods.every((m) => only.includes(m.type)))) return { found, flow: existing };
  const user = await core.directory.lookup(found.session.user);
  if (!user || user.disabled) return { redirect: loginUrl(app, rd) };
  const started = await core.secondStep.stepUp(user, requestInfo(app, req, ctx), only);
  if (started === 'no_method') return { noMethod: only ?? [] };
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
      return { status: 401, model: { error: 'invalid_code', attemptsLeft: Number(err.details.attempts_left ?? 0), ...(err.details.limit === 'code' ? { limit: 'code' as const } : { limit: 'account' as const }) } };
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

/** The errors a flash may carry, with the status of the page that reports one. */
const FLASH_STATUS: Readonly<Partial<Record<NonNullable<VerifyModel['error']>, number>>> = { invalid_code: 401, code_expired: 410, exhausted: 410, rate_limited: 429, delivery_failed: 502 };
const VERIFY_ERRORS: ReadonlySet<string> = new Set(Object.keys(FLASH_STATUS));

/** A verify-page error carried across the redirect after a POST (post/redirect/get), in the step's flash. */
function errorFlash(model: Partial<VerifyModel>): FlowFlash {
  return {
    kind: 'error',
    error: model.error ?? 'code_expired',
    ...(model.attemptsLeft !== undefined ? { attemptsLeft: model.attemptsLeft } : {}),
    ...(model.limit ? { limit: model.limit } : {}),
    ...(model.retryAfter !== undefined ? { retryAfter: model.retryAfter } : {}),
  };
}

/** The step's flash as the page model shows it; anything else is ignored. */
function fromFlash(flash: FlowFlash | undefined): Partial<VerifyModel> {
  if (!flash) return {};
  if (flash.kind === 'sent' && typeof flash.destination === 'string') return { notice: flash.first === true ? 'sent' : 'resent', sentTo: flash.destination };
  if (flash.kind === 'cooldown') return { notice: 'cooldown' };
  if (flash.kind === 'error' && typeof flash.error === 'string' && VERIFY_ERRORS.has(flash.error)) {
    return {
      error: flash.error as VerifyModel['error'],
      ...(typeof flash.attemptsLeft === 'number' ? { attemptsLeft: flash.attemptsLeft } : {}),
      ...(flash.limit === 'code' || flash.limit === 'account' ? { limit: flash.limit } : {}),
      ...(typeof flash.retryAfter === 'number' ? { retryAfter: flash.retryAfter } : {}),
    };
  }
  return {};
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
  if ('noMethod' in st) {
    // The page needs a factor the user has not set up (a passkey for PTZ control, say): say which.
    const view = viewContext(app, req);
    const names = st.noMethod.map((m) => (view.t.has(`method.${m}`) ? view.t.t(`method.${m}` as Parameters<typeof view.t.t>[0]) : m)).join(', ');
    return renderPage(res, 403, messagePage(view, { title: view.t.t('error.generic'), message: view.t.t('stepup.no_method', { methods: names }), status: 403 }));
  }
  if ('sendError' in st) {
    const e = verifyError(st.sendError);
    return showVerify(app, req, res, st.state, e.status, rd, e.model, e.headers);
  }
  const fresh = st.flow.sent && app.core.clock.now() - st.flow.sent.at < 60_000;
  // A code method whose code never went out (delivery failed): offer to send, do not claim it was sent.
  const unsent = !st.flow.sent && app.core.factors.get(st.flow.method)?.kind === 'destination';
  // What the POST before this page view had to say (post/redirect/get), shown once.
  // The page carries the status of what it reports (401 a wrong code, 502 a code not sent, ...).
  const flashed = fromFlash(await app.core.flows.takeFlash(st.flow));
  const resendIn = await app.core.secondStep.resendIn(st.flow);
  const status = flashed.error ? FLASH_STATUS[flashed.error] ?? 200 : 200;
  const headers: Record<string, string> = flashed.error === 'rate_limited' && flashed.retryAfter ? { 'retry-after': String(flashed.retryAfter) } : {};
  const webauthnOptions = st.flow.method === 'webauthn' ? await app.core.secondStep.passkeyOptions(st.flow, `${ctx.client.proto}://${ctx.client.host}`) : undefined;
  showVerify(app, req, res, st, status, rd, { ...(fresh ? { sent: true } : unsent ? { sent: false } : {}), ...(resendIn > 0 ? { resendIn } : {}), ...(webauthnOptions ? { webauthnOptions } : {}), ...flashed }, headers);
}

/**
 * `POST /verify` (a code, or `method` alone to switch) and `POST /verify/resend`. Every outcome but
 * success is told on the verify page after a 303 (post/redirect/get): a reload never posts again.
 */
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
  const back = `${app.prefix}/verify?${rdQuery(rd)}${found.session.level === 'two_factor' ? '&step_up=1' : ''}`;
  if (!flow || flow.user !== found.session.user) return seeOther(res, back);
  const info = requestInfo(app, req, ctx);
  const methodField = form.get('method');
  const method = methodField !== null && app.core.factors.get(methodField) ? app.core.factors.get(methodField)!.method : undefined;
  // A passkey's assertion comes as `credential` (filled in by portal.js).
  const code = form.get('code') ?? form.get('credential');
  const locked = () => {
    clearSessionCookie(app, res, ctx);
    seeOther(res, `${app.prefix}/login?notice=locked&${rdQuery(rd)}`);
  };
  const flashBack = async (flash: FlowFlash | undefined) => {
    // A step that ran out meanwhile: the verify page starts over or sends the browser to sign in.
    if (flash) await core.flows.setFlash(flow, flash).catch(() => undefined);
    seeOther(res, back);
  };

  if (resend || (method && !code)) {
    try {
      const sent = await core.secondStep.send(flow, method, info);
      return await flashBack(sent ? { kind: 'sent', destination: sent.destination, first: !resend } : undefined);
    } catch (err) {
      if (!isPortcullisError(err)) throw err;
      if (err.code === 'PORTCULLIS_ERR_LOCKED') return locked();
      // Within `resend_after`: not an attempt of the user's, only a wait (the page counts it down).
      if (err.code === 'PORTCULLIS_ERR_RATE_LIMITED') return await flashBack({ kind: 'cooldown' });
      return await flashBack(errorFlash(verifyError(err).model));
    }
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
    if (err.code === 'PORTCULLIS_ERR_LOCKED') return locked();
    return await flashBack(errorFlash(verifyError(err).model));
  }
}

export async function postLogout(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { core } = app;
  const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const form = isForm ? await readForm(req, app.config.server.limits.max_form_body) : new URLSearchParams();
  const found = await core.lookup.find(req.headers);
  const everywhere = new URLSearchParams(ctx.query).get('everywhere') === '1' || form.get('everywhere') === '1';
  let ended: { everywhere: boolean; sessions: number; devices: number } | undefined;
  let endSession: string | undefined;
  if (found) {
    if (!verifyCsrf(found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
    ended = await core.account.signOut(found, everywhere, deviceIdOf(app, req), requestInfo(app, req, ctx));
    // Begun at an identity provider with `end_session: true`: on to its end_session_endpoint, then back to the sign-in page.
    endSession = core.identityProviders.endSessionUrl(found.session, `${app.publicBase(ctx.client.host, ctx.client.proto) ?? `${ctx.client.proto}://${ctx.client.host}`}${app.prefix}/login`);
  }
  clearSessionCookie(app, res, ctx);
  // Everywhere: the sign-in page says what happened ("3 sessions were ended; 2 trusted devices were forgotten").
  seeOther(res, endSession ?? (ended?.everywhere ? `${app.prefix}/login?notice=signed_out_everywhere&sessions=${ended.sessions}&devices=${ended.devices}` : `${app.prefix}/login?notice=logged_out`));
}

/**
 * `GET /logout`: a page that asks, with the sign-out form (this browser, or everywhere with
 * `?everywhere=1`). Links from the application behind the gateway ("Sign out") and the account page's
 * confirmation without JavaScript come here; a GET never signs out by itself (no cross-site sign-out).
 */
export async function getLogout(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const everywhere = new URLSearchParams(ctx.query).get('everywhere') === '1';
  const found = await app.core.lookup.find(req.headers).catch(() => undefined);
  if (!found || found.viaBearer) return seeOther(res, `${app.prefix}/login`);
  renderPage(res, 200, signOutPage(sessionView(app, req, found.session), { everywhere, cancel: everywhere ? `${app.prefix}/account` : app.config.portal.default_redirect }));
}
