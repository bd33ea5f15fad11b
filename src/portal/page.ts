import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookies, serializeCookie } from '../http/cookies.js';
import { clearCookie, deviceCookieOptions, serializeCookie as serializeSessionCookie, sessionCookieOptions } from '../session/cookie-options.js';
import { LOGIN_CSRF_COOKIE, newLoginCsrf, verifyLoginCsrf } from './csrf.js';
import { safeRedirect } from '../policy/redirect.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { negotiateLanguage, translator } from './i18n/index.js';
import type { ViewContext } from './views/context.js';
import { PORTAL_SECURITY_HEADERS } from './views/layout.js';

export function languageFor(gw: Gateway, req: IncomingMessage): string {
  const header = req.headers['accept-language'];
  return negotiateLanguage(typeof header === 'string' ? header.slice(0, 512) : undefined, gw.config.portal.languages);
}

export function viewContext(gw: Gateway, req: IncomingMessage, extra: { csrf?: string; user?: { name: string } } = {}): ViewContext {
  const lang = languageFor(gw, req);
  return { lang, t: translator(lang), prefix: gw.compiled.prefix, productTitle: gw.config.portal.title, ...extra };
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

export function isSecure(gw: Gateway, ctx: RequestContext): boolean {
  return sessionCookieOptions(gw.config.session, ctx.client.proto === 'https').secure;
}

/** Sets the session cookie, lasting as long as the session (seed 002's 90-day sessions survive a browser restart). */
export function setSessionCookie(gw: Gateway, res: ServerResponse, ctx: RequestContext, value: string, maxAgeMs: number): void {
  addCookie(res, serializeSessionCookie(value, { ...sessionCookieOptions(gw.config.session, ctx.client.proto === 'https'), maxAge: Math.floor(maxAgeMs / 1000) }));
}

export function clearSessionCookie(gw: Gateway, res: ServerResponse, ctx: RequestContext): void {
  addCookie(res, clearCookie(sessionCookieOptions(gw.config.session, ctx.client.proto === 'https')));
}

/** The browser's long-lived device id (SPEC §6 `portcullis_device`), created on first sign-in. */
export function ensureDevice(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): string {
  const existing = gw.deviceId(req.headers.cookie);
  if (existing) return existing;
  const { id, cookie } = gw.services.deviceCookies.issue();
  addCookie(res, serializeSessionCookie(cookie, deviceCookieOptions(gw.config.session, ctx.client.proto === 'https')));
  return id;
}

/** Lifetime of the pre-session CSRF cookie of the sign-in, invite and recovery forms. */
const PRE_SESSION_CSRF_MAX_AGE = 3_600_000;

/** Sets the pre-session CSRF cookie (double submit) and answers the token for the page's form. */
export function preSessionCsrf(gw: Gateway, res: ServerResponse, ctx: RequestContext): string {
  const { cookieValue, token } = newLoginCsrf(gw.services.keys.loginCsrf, gw.services.clock.now());
  addCookie(res, serializeCookie(LOGIN_CSRF_COOKIE, cookieValue, { httpOnly: true, secure: isSecure(gw, ctx), sameSite: 'Lax', path: gw.compiled.prefix, maxAge: PRE_SESSION_CSRF_MAX_AGE / 1000 }));
  return token;
}

/** Checks a pre-session form's `csrf` field against this browser's CSRF cookie. */
export function preSessionCsrfOk(gw: Gateway, req: IncomingMessage, form: URLSearchParams): boolean {
  const cookie = parseCookies(req.headers.cookie).get(LOGIN_CSRF_COOKIE);
  return verifyLoginCsrf(gw.services.keys.loginCsrf, cookie, form.get('csrf') ?? undefined, gw.services.clock.now(), PRE_SESSION_CSRF_MAX_AGE);
}

/** `rd` as SPEC §3 allows it, else the portal's default target. */
export function safeRd(gw: Gateway, ctx: RequestContext, rd: string | null | undefined): string {
  return safeRedirect(rd ?? undefined, {
    requestOrigin: `${ctx.client.proto}://${ctx.client.host}`,
    servedOrigins: gw.compiled.servedOrigins,
    servedHosts: gw.compiled.servedHosts,
    fallback: gw.config.portal.default_redirect,
  });
}

export function describeDevice(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, 256);
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}
