import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackRefusal } from '../auth/identity-providers.js';
import { SignInStates, SIGN_IN_STATE_TTL_MS } from '../auth/idp-states.js';
import { issueSession } from '../auth/sessions.js';
import type { RequestContext } from '../http/context.js';
import { parseCookies, serializeCookie } from '../http/cookies.js';
import { sendError } from '../http/respond.js';
import type { PortalApp } from './app.js';
import type { MessageKey } from './i18n/types.js';
import { messagePage } from './views/pages.js';
import { addCookie, ensureDevice, isSecure, renderPage, requestInfo, rdQuery, safeRd, seeOther, setSessionCookie, userAgent, viewContext } from './page.js';

/** The browser's binding to the sign-ins it started at identity providers (only sent to `/oidc/`). */
export const OIDC_BINDING_COOKIE = 'portcullis_oidc';

const ROUTE = /^([a-z0-9-]{1,32})\/(start|callback)$/;

const REFUSALS: Record<CallbackRefusal | 'unavailable_start' | 'rate_limited', { status: number; message: MessageKey }> = {
  unknown_provider: { status: 404, message: 'oidc.error.unknown_provider' },
  state: { status: 400, message: 'oidc.error.state' },
  cancelled: { status: 401, message: 'oidc.error.cancelled' },
  provider_error: { status: 502, message: 'oidc.error.provider' },
  invalid_response: { status: 502, message: 'oidc.error.provider' },
  unavailable: { status: 503, message: 'oidc.error.unavailable' },
  unavailable_start: { status: 503, message: 'oidc.error.unavailable' },
  unknown_user: { status: 403, message: 'oidc.error.unknown_user' },
  not_allowed: { status: 403, message: 'oidc.error.not_allowed' },
  disabled: { status: 403, message: 'oidc.error.unknown_user' },
  locked: { status: 423, message: 'login.error.locked' },
  rate_limited: { status: 429, message: 'login.error.rate_limited' },
};

/** SPEC §3 `GET /_gateway/oidc/NAME/start?rd=URL` and `GET /_gateway/oidc/NAME/callback`. */
export async function handleOidc(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  const m = ROUTE.exec(rest);
  if (!m) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
  // GET only: a HEAD (a link checker, a prefetch) must not start a sign-in or use up a callback.
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId);
  }
  return m[2] === 'start' ? start(app, req, res, ctx, m[1]!) : callback(app, req, res, ctx, m[1]!);
}

function refusal(app: PortalApp, req: IncomingMessage, res: ServerResponse, reason: keyof typeof REFUSALS, rd: string, headers: Record<string, string> = {}): void {
  const { status, message } = REFUSALS[reason];
  const view = viewContext(app, req);
  const page = messagePage(view, { title: view.t.t('oidc.error.title'), message: view.t.t(message), status, link: { href: `${app.prefix}/login?${rdQuery(rd)}`, label: view.t.t('common.back_to_login') } });
  renderPage(res, status, page, { 'cache-control': 'no-store', ...headers });
}

/** The redirect URI this provider is told: the `public_url` of this host (else the request's own origin) + the callback path. */
function redirectUri(app: PortalApp, ctx: RequestContext, name: string): string {
  const base = app.publicBase(ctx.client.host, ctx.client.proto) ?? `${ctx.client.proto}://${ctx.client.host}`;
  return `${base}${app.prefix}/oidc/${name}/callback`;
}

function bindingOf(req: IncomingMessage): string | undefined {
  const value = req.headers.cookie ? parseCookies(req.headers.cookie).get(OIDC_BINDING_COOKIE) : undefined;
  return SignInStates.wellFormed(value) ? value : undefined;
}

async function start(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, name: string): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const rd = safeRd(app, ctx, params.get('rd'));
  const reauth = params.get('reauth') === '1';
  const outcome = await app.core.identityProviders.start(name, { rd, redirectUri: redirectUri(app, ctx, name), binding: bindingOf(req), info: requestInfo(app, req, ctx), reauth });
  if (outcome.kind === 'unknown_provider') return refusal(app, req, res, 'unknown_provider', rd);
  if (outcome.kind === 'unavailable') return refusal(app, req, res, 'unavailable_start', rd);
  if (outcome.kind === 'rate_limited') return refusal(app, req, res, 'rate_limited', rd, { 'retry-after': String(outcome.retryAfter) });
  addCookie(res, serializeCookie(OIDC_BINDING_COOKIE, outcome.binding, { httpOnly: true, secure: isSecure(app, ctx), sameSite: 'Lax', path: `${app.prefix}/oidc/`, maxAge: SIGN_IN_STATE_TTL_MS / 1000 }));
  seeOther(res, outcome.url);
}

async function callback(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, name: string): Promise<void> {
  const { core } = app;
  const deviceId = ensureDevice(app, req, res, ctx);
  const outcome = await core.identityProviders.callback(name, { query: new URLSearchParams(ctx.query), binding: bindingOf(req), info: requestInfo(app, req, ctx, deviceId) });
  if (outcome.kind === 'refused') return refusal(app, req, res, outcome.reason, safeRd(app, ctx, undefined));
  // `rd` was checked when the sign-in started; it is checked again against this request.
  const rd = safeRd(app, ctx, outcome.rd);
  const { step, idp } = outcome;
  const previous = await core.lookup.find(req.headers).catch(() => undefined);
  const base = { now: core.clock.now(), deviceId, clientIp: ctx.client.ip, userAgent: userAgent(req), replace: previous?.id, idp, host: ctx.hostname };
  if (step.kind === 'authenticated') {
    const made = await issueSession(core.sessions, step.user, { ...base, level: 'two_factor', factors: step.via === 'exempt' ? [] : [step.via], exempt: step.via === 'exempt' });
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    return seeOther(res, rd);
  }
  if (step.kind === 'enrol') {
    const made = await issueSession(core.sessions, step.user, { ...base, level: 'one_factor', factors: [], enrol: step.method });
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  }
  const made = await issueSession(core.sessions, step.user, { ...base, level: 'one_factor', factors: [], flow: step.flow.id });
  setSessionCookie(app, res, ctx, made.cookie, made.session);
  seeOther(res, `${app.prefix}/verify?${rdQuery(rd)}`);
}
