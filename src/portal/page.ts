import type { IncomingMessage, ServerResponse } from 'node:http';
import { serializeCookie } from '../http/cookies.js';
import { safeRedirect } from '../policy/redirect.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { randomToken } from '../util/random.js';
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
  const s = gw.config.session.cookie.secure;
  return s === true || (s === 'auto' && ctx.client.proto === 'https');
}

function sameSite(gw: Gateway): 'Lax' | 'Strict' | 'None' {
  const v = gw.config.session.cookie.same_site;
  return v === 'strict' ? 'Strict' : v === 'none' ? 'None' : 'Lax';
}

/** Sets the session cookie (a session cookie in the browser sense: the server enforces the lifetime). */
export function setSessionCookie(gw: Gateway, res: ServerResponse, ctx: RequestContext, value: string, maxAgeMs: number): void {
  const c = gw.config.session.cookie;
  addCookie(
    res,
    serializeCookie(c.name, value, {
      httpOnly: true,
      secure: isSecure(gw, ctx) || c.same_site === 'none',
      sameSite: sameSite(gw),
      path: '/',
      maxAge: Math.floor(maxAgeMs / 1000),
      ...(c.domain ? { domain: c.domain } : {}),
    }),
  );
}

export function clearSessionCookie(gw: Gateway, res: ServerResponse, ctx: RequestContext): void {
  const c = gw.config.session.cookie;
  addCookie(res, serializeCookie(c.name, '', { httpOnly: true, secure: isSecure(gw, ctx), sameSite: sameSite(gw), path: '/', maxAge: 0, ...(c.domain ? { domain: c.domain } : {}) }));
}

/** The browser's long-lived device id (SPEC §6 `portcullis_device`), created on first sign-in. */
export function ensureDevice(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): string {
  const existing = gw.deviceId(req.headers.cookie);
  if (existing) return existing;
  const id = randomToken(24);
  const c = gw.config.session.cookie;
  addCookie(
    res,
    serializeCookie(c.device_name, gw.services.deviceSigner.sign(id), {
      httpOnly: true,
      secure: isSecure(gw, ctx),
      sameSite: 'Lax',
      path: '/',
      maxAge: 400 * 24 * 3600,
      ...(c.domain ? { domain: c.domain } : {}),
    }),
  );
  return id;
}

/** `rd` as SPEC §3 allows it, else the portal's default target. */
export function safeRd(gw: Gateway, ctx: RequestContext, rd: string | null | undefined): string {
  return safeRedirect(rd ?? undefined, {
    requestHost: ctx.client.host,
    proto: ctx.client.proto,
    servedHosts: (host) => gw.servesHost(host) || host.toLowerCase() === ctx.client.host.toLowerCase(),
    fallback: gw.config.portal.default_redirect,
  });
}

export function describeDevice(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, 256);
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}
