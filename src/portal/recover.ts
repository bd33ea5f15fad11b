import type { IncomingMessage, ServerResponse } from 'node:http';
import { RecoveryLinks, recoveryPath } from '../auth/recovery-links.js';
import type { TokenLookup } from '../auth/one-time-tokens.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import { isPortcullisError } from '../errors/index.js';
import { audit } from '../observability/logger.js';
import { ipKey, typedUserKey } from '../regulation/keys.js';
import { preSessionCsrf, preSessionCsrfOk, clearSessionCookie, languageFor, renderPage, viewContext } from './page.js';
import { messagePage, recoverPage, type RecoverModel } from './views/pages.js';

const MAX_USERNAME = 256;
const MAX_PASSWORD = 1024;
const TOKEN_SHAPE = /^\/([A-Za-z0-9_-]{1,128})$/;
const TOKEN_PAGE_HEADERS = { 'Referrer-Policy': 'no-referrer' } as const;

/**
 * `/_gateway/recover`: a lost second factor (seed 004). The request step mails a one-time link to the
 * address the directory (or a verified user entry) holds, answering the same whether or not the account
 * exists; the link's page takes the password and removes the user's second factors, trusted devices and
 * sessions, so the next sign-in enrols again. Only with `second_factor.recovery.email_reset`.
 */
export async function handleRecover(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  const tokenMatch = TOKEN_SHAPE.exec(rest);
  if (rest !== '' && !tokenMatch) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method !== 'GET' && method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId);
  }
  if (!gw.config.second_factor.recovery.email_reset) {
    const view = viewContext(gw, req);
    return renderPage(res, 404, messagePage(view, { title: view.t.t('recover.title'), message: view.t.t('recover.error.not_available'), link: { href: `${gw.compiled.prefix}/login`, label: view.t.t('common.back_to_login') } }));
  }
  if (tokenMatch) {
    const token = tokenMatch[1]!;
    return method === 'GET' ? getReset(gw, req, res, ctx, token) : postReset(gw, req, res, ctx, token);
  }
  return method === 'GET' ? show(gw, req, res, ctx, 200, { step: 'request' }) : postRequest(gw, req, res, ctx);
}

function links(gw: Gateway): RecoveryLinks {
  return new RecoveryLinks(gw.services.store, gw.services.keys.invite, gw.services.clock);
}

function show(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: RecoverModel, headers: Record<string, string> = {}): void {
  const token = preSessionCsrf(gw, res, ctx);
  renderPage(res, status, recoverPage(viewContext(gw, req, { csrf: token }), model), { ...(model.token ? TOKEN_PAGE_HEADERS : {}), ...headers });
}

function csrfOk(gw: Gateway, req: IncomingMessage, form: URLSearchParams): boolean {
  return preSessionCsrfOk(gw, req, form);
}

function auditRecover(gw: Gateway, ctx: RequestContext, event: string, user: string | undefined, result: 'success' | 'failure', reason?: string): void {
  audit(gw.services.logger, { event, user, client_ip: ctx.client.ip, request_id: ctx.requestId, method: 'email', result, reason });
}

/**
 * Where emailed links point: the `public_url` of the request's host, else the first `public_url`, else
 * the request's own origin when this gateway serves that host. Never an unchecked Host header (a
 * forged one would send the victim a link to the attacker's site).
 */
export function linkBase(gw: Gateway, ctx: RequestContext): string | undefined {
  const configured = gw.config.server.public_url;
  const urls = configured === undefined ? [] : Array.isArray(configured) ? configured : [configured];
  const host = ctx.client.host.toLowerCase();
  const same = urls.find((u) => new URL(u).host.toLowerCase() === host);
  const chosen = same ?? urls[0];
  if (chosen !== undefined) return chosen.replace(/\/+$/, '');
  return gw.servesHost(host) ? `${ctx.client.proto}://${host}` : undefined;
}

/** Counts a link request for the typed name and for the client; answers the seconds to wait when over a limit. */
async function overLimit(gw: Gateway, username: string, ip: string): Promise<number> {
  const { store } = gw.services;
  const { window, max_failures, max_failures_per_client } = gw.config.regulation;
  const userCounter = `reg:recover:u:${typedUserKey(username)}`;
  const clientCounter = `reg:recover:ip:${ipKey(ip)}`;
  const [nu, nc] = await Promise.all([store.incr(userCounter, window), store.incr(clientCounter, window)]);
  if (nu <= max_failures && nc <= max_failures_per_client) return 0;
  const ttl = await store.ttl(nu > max_failures ? userCounter : clientCounter);
  return Math.max(1, Math.ceil((ttl > 0 ? ttl : window) / 1000));
}

async function postRequest(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const username = (form.get('username') ?? '').trim();
  if (!csrfOk(gw, req, form)) return show(gw, req, res, ctx, 403, { step: 'request', error: 'csrf', username: username.slice(0, MAX_USERNAME) });
  if (username.length === 0 || username.length > MAX_USERNAME) return show(gw, req, res, ctx, 400, { step: 'request' });
  const wait = await overLimit(gw, username, ctx.client.ip);
  if (wait > 0) {
    auditRecover(gw, ctx, 'recovery_link', username, 'failure', 'rate_limited');
    return show(gw, req, res, ctx, 429, { step: 'request', error: 'rate_limited', username }, { 'retry-after': String(wait) });
  }
  // Looked up and sent after the answer: the page and its timing are the same for every name.
  const base = linkBase(gw, ctx);
  const lang = languageFor(gw, req);
  void sendLink(gw, ctx, username, base, lang).catch((err: unknown) => {
    auditRecover(gw, ctx, 'recovery_link', username, 'failure', isPortcullisError(err) ? err.code : 'error');
  });
  show(gw, req, res, ctx, 200, { step: 'sent' });
}

async function sendLink(gw: Gateway, ctx: RequestContext, username: string, base: string | undefined, lang: string): Promise<void> {
  const { services } = gw;
  const user = await services.directory.lookup(username);
  if (!user || user.disabled) return auditRecover(gw, ctx, 'recovery_link', username, 'failure', user ? 'disabled' : 'unknown_user');
  let email = user.email;
  if (!email) {
    const state = await services.factorState.get(user.username);
    if (state.email?.verified) email = state.email.address;
  }
  if (!email) return auditRecover(gw, ctx, 'recovery_link', user.username, 'failure', 'no_email');
  if (base === undefined) {
    services.logger.warn({ host: ctx.client.host }, 'recovery link not sent: set server.public_url (the request host is not one this gateway serves)');
    return auditRecover(gw, ctx, 'recovery_link', user.username, 'failure', 'no_public_url');
  }
  const ttl = gw.config.second_factor.recovery.link_ttl;
  const { token } = await links(gw).create(user.username, ttl);
  const link = `${base}${recoveryPath(gw.compiled.prefix, token)}`;
  await services.delivery.notify('recovery_link', email, { link, minutes: String(Math.round(ttl / 60_000)), name: user.displayName ?? user.username }, lang);
  auditRecover(gw, ctx, 'recovery_link', user.username, 'success', 'sent');
}

function goneStatus(found: TokenLookup): number {
  return found.status === 'unknown' ? 404 : 410;
}

async function getReset(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const found = await links(gw).peek(token);
  if (found.status !== 'valid') return show(gw, req, res, ctx, goneStatus(found), { step: 'reset', error: 'expired', token });
  show(gw, req, res, ctx, 200, { step: 'reset', token });
}

async function postReset(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const store = links(gw);
  const found = await store.peek(token);
  if (found.status !== 'valid') {
    auditRecover(gw, ctx, 'second_factor_reset', undefined, 'failure', found.status);
    return show(gw, req, res, ctx, goneStatus(found), { step: 'reset', error: 'expired', token });
  }
  const user = found.user;
  if (!csrfOk(gw, req, form)) return show(gw, req, res, ctx, 403, { step: 'reset', error: 'csrf', token });
  try {
    await services.regulator.checkPassword(user, ctx.client.ip);
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    auditRecover(gw, ctx, 'second_factor_reset', user, 'failure', 'rate_limited');
    const retry = String(err.details.retry_after ?? 60);
    return show(gw, req, res, ctx, 429, { step: 'reset', error: 'rate_limited', token }, { 'retry-after': retry });
  }
  const password = form.get('password') ?? '';
  const record = password.length > 0 && password.length <= MAX_PASSWORD ? await services.directory.authenticate(user, password) : null;
  if (!record || record.username !== user) {
    await services.regulator.passwordFailed(user, ctx.client.ip);
    const stillWorks = await store.failed(found.hash);
    auditRecover(gw, ctx, 'second_factor_reset', user, 'failure', 'invalid_password');
    return show(gw, req, res, ctx, stillWorks ? 401 : 410, { step: 'reset', error: stillWorks ? 'invalid_password' : 'expired', token });
  }
  await services.regulator.passwordSucceeded(user);
  const claimed = await store.consume(token);
  if (claimed.status !== 'valid' || claimed.user !== user) return show(gw, req, res, ctx, goneStatus(claimed), { step: 'reset', error: 'expired', token });

  await services.factorState.reset(user);
  await services.devices.revokeAll(user);
  const ended = await services.sessions.revokeUser(user);
  const deviceId = gw.deviceId(req.headers.cookie);
  if (deviceId) await services.grace.clear(user, deviceId);
  auditRecover(gw, ctx, 'second_factor_reset', user, 'success', `sessions_ended:${ended}`);

  const lang = languageFor(gw, req);
  if (record.email && gw.config.second_factor.notify_user.includes('factor_changed')) {
    await services.delivery.notify('factor_changed', record.email, { method: '', name: record.displayName ?? record.username }, lang).catch(() => {
      // notify() logged why; the reset stands.
    });
  }
  clearSessionCookie(gw, res, ctx);
  const view = viewContext(gw, req);
  renderPage(
    res,
    200,
    messagePage(view, { title: view.t.t('recover.reset.title'), message: view.t.t('recover.done'), link: { href: `${gw.compiled.prefix}/login`, label: view.t.t('login.submit') } }),
    TOKEN_PAGE_HEADERS,
  );
}
