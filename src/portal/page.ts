import type { IncomingMessage, ServerResponse } from 'node:http';
import { needsFreshFactor } from '../auth/account.js';
import type { RequestInfo } from '../auth/request.js';
import type { RequestContext } from '../http/context.js';
import { parseCookies, serializeCookie } from '../http/cookies.js';
import { negotiateLanguage } from '../http/language.js';
import { safeRedirect } from '../policy/redirect.js';
import type { SessionData } from '../session/sessions.js';
import { clearCookie, deviceCookieOptions, portalIsHttps, serializeCookie as serializeSessionCookie, sessionCookieOptions } from '../session/cookie-options.js';
import type { PortalApp } from './app.js';
import { csrfToken, LOGIN_CSRF_COOKIE, newLoginCsrf, verifyLoginCsrf } from './csrf.js';
import { translator } from './i18n/index.js';
import type { ViewContext } from './views/context.js';
import { PORTAL_SECURITY_HEADERS } from './views/layout.js';
import { messagePage } from './views/pages.js';

export function languageFor(app: PortalApp, req: IncomingMessage): string {
  const header = req.headers['accept-language'];
  return negotiateLanguage(typeof header === 'string' ? header.slice(0, 512) : undefined, app.config.portal.languages);
}

export function viewContext(app: PortalApp, req: IncomingMessage, extra: { csrf?: string; user?: { name: string } } = {}): ViewContext {
  const lang = languageFor(app, req);
  return { lang, t: translator(lang), prefix: app.prefix, productTitle: app.brand.name, brand: app.brand, ...extra };
}

/** The view context for a signed-in page: the session's CSRF token and the user's name in the header. */
export function sessionView(app: PortalApp, req: IncomingMessage, session: SessionData): ViewContext {
  return viewContext(app, req, { csrf: csrfToken(session.csrf), user: { name: session.displayName ?? session.user } });
}

/** Who is asking, for the use-cases. */
export function requestInfo(app: PortalApp, req: IncomingMessage, ctx: RequestContext, deviceId = deviceIdOf(app, req)): RequestInfo {
  return { clientIp: ctx.client.ip, requestId: ctx.requestId, lang: languageFor(app, req), deviceId, userAgent: userAgent(req) };
}

export function userAgent(req: IncomingMessage): string | undefined {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 256) : undefined;
}

export function renderPage(res: ServerResponse, status: number, body: string, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, {
    ...PORTAL_SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** A plain message page (errors the portal explains in the visitor's language). */
export function renderMessage(app: PortalApp, req: IncomingMessage, res: ServerResponse, status: number, message: Parameters<ViewContext['t']['t']>[0], headers: Record<string, string> = {}): void {
  const view = viewContext(app, req);
  renderPage(res, status, messagePage(view, { title: view.t.t('error.generic'), message: view.t.t(message), status }), headers);
}

export function csrfRejected(app: PortalApp, req: IncomingMessage, res: ServerResponse): void {
  renderMessage(app, req, res, 403, 'error.csrf');
}

export function seeOther(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}

/** Adds one Set-Cookie without losing those already set. */
export function addCookie(res: ServerResponse, cookie: string): void {
  const prev = res.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('set-cookie', [...list, cookie]);
}

/** HTTPS as the browser sees it: the request's scheme, or an https public_url (a TLS terminator in front). */
function https(app: PortalApp, ctx: RequestContext): boolean {
  return ctx.client.proto === 'https' || portalIsHttps(app.config.server);
}

export function isSecure(app: PortalApp, ctx: RequestContext): boolean {
  return sessionCookieOptions(app.config, https(app, ctx)).secure;
}

/** Sets the session cookie, lasting as long as the session (seed 002's 90-day sessions survive a browser restart). */
export function setSessionCookie(app: PortalApp, res: ServerResponse, ctx: RequestContext, value: string, session: SessionData): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt - app.core.clock.now()) / 1000));
  addCookie(res, serializeSessionCookie(value, { ...sessionCookieOptions(app.config, https(app, ctx)), maxAge }));
}

export function clearSessionCookie(app: PortalApp, res: ServerResponse, ctx: RequestContext): void {
  addCookie(res, clearCookie(sessionCookieOptions(app.config, https(app, ctx))));
}

/**
 * Two session cookies in one request (one planted by a sibling subdomain or scoped to a path): neither is
 * believed (session-lookup.ts), and the sign-in page clears the copies it can name — ours, and a host-only
 * one when a cookie domain is configured — so that the next sign-in is not ambiguous again.
 */
export function clearAmbiguousSessionCookies(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
  if (!app.core.lookup.ambiguous(req.headers.cookie)) return;
  const options = sessionCookieOptions(app.config, https(app, ctx));
  addCookie(res, clearCookie(options));
  if (options.domain) addCookie(res, clearCookie({ ...options, domain: '' }));
}

/** The browser's device id from its signed `portcullis_device` cookie, if any. */
export function deviceIdOf(app: PortalApp, req: IncomingMessage): string | undefined {
  const raw = req.headers.cookie ? parseCookies(req.headers.cookie).get(app.config.session.cookie.device_name) : undefined;
  return raw ? app.core.deviceCookies.verify(raw) : undefined;
}

/** The browser's long-lived device id (SPEC §6 `portcullis_device`), created on first sign-in. */
export function ensureDevice(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): string {
  const existing = deviceIdOf(app, req);
  if (existing) return existing;
  const { id, cookie } = app.core.deviceCookies.issue();
  addCookie(res, serializeSessionCookie(cookie, deviceCookieOptions(app.config.session, https(app, ctx))));
  return id;
}

/** Lifetime of the pre-session CSRF cookie of the sign-in, invite and recovery forms. */
const PRE_SESSION_CSRF_MAX_AGE = 3_600_000;

/** Sets the pre-session CSRF cookie (double submit) and answers the token for the page's form. */
export function preSessionCsrf(app: PortalApp, res: ServerResponse, ctx: RequestContext): string {
  const { cookieValue, token } = newLoginCsrf(app.core.keyring.signing('login-csrf'), app.core.clock.now());
  addCookie(res, serializeCookie(LOGIN_CSRF_COOKIE, cookieValue, { httpOnly: true, secure: isSecure(app, ctx), sameSite: 'Lax', path: app.prefix, maxAge: PRE_SESSION_CSRF_MAX_AGE / 1000 }));
  return token;
}

/** Checks a pre-session form's `csrf` field against this browser's CSRF cookie. */
export function preSessionCsrfOk(app: PortalApp, req: IncomingMessage, form: URLSearchParams): boolean {
  const cookie = parseCookies(req.headers.cookie).get(LOGIN_CSRF_COOKIE);
  return verifyLoginCsrf(app.core.keyring.signing('login-csrf'), cookie, form.get('csrf') ?? undefined, app.core.clock.now(), PRE_SESSION_CSRF_MAX_AGE);
}

/** `rd` as SPEC §3 allows it, else the portal's default target. */
export function safeRd(app: PortalApp, ctx: RequestContext, rd: string | null | undefined): string {
  return safeRedirect(rd ?? undefined, {
    requestOrigin: `${ctx.client.proto}://${ctx.client.host}`,
    servedOrigins: app.servedOrigins,
    servedHosts: app.servedHosts,
    fallback: app.config.portal.default_redirect,
  });
}

export function loginUrl(app: PortalApp, rd: string): string {
  return `${app.prefix}/login?rd=${encodeURIComponent(rd)}`;
}

export function rdQuery(rd: string): string {
  return `rd=${encodeURIComponent(rd)}`;
}

/**
 * Where a change to the user's own credentials must go first when the session's second factor is not
 * fresh enough (`second_factor.sensitive_action_age`, auth/account.ts): the verify page as a step-up,
 * back to `rd` after. Undefined when the change may go ahead.
 */
export function stepUpFirst(app: PortalApp, session: SessionData, rd: string): string | undefined {
  if (!needsFreshFactor(session, app.config.second_factor.sensitive_action_age, app.core.clock.now())) return undefined;
  return `${app.prefix}/verify?step_up=1&${rdQuery(rd)}`;
}
