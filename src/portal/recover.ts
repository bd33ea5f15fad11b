import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenLookup } from '../auth/one-time-tokens.js';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import type { PortalApp } from './app.js';
import { clearSessionCookie, deviceIdOf, preSessionCsrf, preSessionCsrfOk, renderPage, requestInfo, viewContext } from './page.js';
import { messagePage, recoverPage, type RecoverModel } from './views/pages.js';

const MAX_USERNAME = 256;
const TOKEN_SHAPE = /^\/([A-Za-z0-9_-]{1,128})$/;
const TOKEN_PAGE_HEADERS = { 'Referrer-Policy': 'no-referrer' } as const;

/** `/_gateway/recover`: a lost second factor (seed 004); every decision is the recovery use-case's. */
export async function handleRecover(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  const tokenMatch = TOKEN_SHAPE.exec(rest);
  if (rest !== '' && !tokenMatch) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method !== 'GET' && method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId, undefined, app.errorPages);
  }
  if (!app.core.recovery.enabled) {
    const view = viewContext(app, req);
    return renderPage(res, 404, messagePage(view, { title: view.t.t('recover.title'), message: view.t.t('recover.error.not_available'), link: { href: `${app.prefix}/login`, label: view.t.t('common.back_to_login') } }));
  }
  if (tokenMatch) {
    const token = tokenMatch[1]!;
    return method === 'GET' ? getReset(app, req, res, ctx, token) : postReset(app, req, res, ctx, token);
  }
  return method === 'GET' ? show(app, req, res, ctx, 200, { step: 'request' }) : postRequest(app, req, res, ctx);
}

function show(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: RecoverModel, headers: Record<string, string> = {}): void {
  const token = preSessionCsrf(app, res, ctx);
  renderPage(res, status, recoverPage(viewContext(app, req, { csrf: token }), model), { ...(model.token ? TOKEN_PAGE_HEADERS : {}), ...headers });
}

function goneStatus(status: string): number {
  return status === 'unknown' ? 404 : 410;
}

async function postRequest(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const username = (form.get('username') ?? '').trim();
  if (!preSessionCsrfOk(app, req, form)) return show(app, req, res, ctx, 403, { step: 'request', error: 'csrf', username: username.slice(0, MAX_USERNAME) });
  if (username.length === 0 || username.length > MAX_USERNAME) return show(app, req, res, ctx, 400, { step: 'request' });
  try {
    await app.core.recovery.requestLink(username, app.publicBase(ctx.client.host, ctx.client.proto), requestInfo(app, req, ctx));
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    return show(app, req, res, ctx, 429, { step: 'request', error: 'rate_limited', username }, { 'retry-after': String(Number(err.details.retry_after ?? 60)) });
  }
  show(app, req, res, ctx, 200, { step: 'sent' });
}

async function getReset(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const found: TokenLookup = await app.core.recovery.peek(token);
  if (found.status !== 'valid') return show(app, req, res, ctx, goneStatus(found.status), { step: 'reset', error: 'expired', token });
  show(app, req, res, ctx, 200, { step: 'reset', token });
}

async function postReset(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const found = await app.core.recovery.peek(token);
  if (found.status === 'valid' && !preSessionCsrfOk(app, req, form)) return show(app, req, res, ctx, 403, { step: 'reset', error: 'csrf', token });
  try {
    await app.core.recovery.reset(token, form.get('password') ?? '', deviceIdOf(app, req), requestInfo(app, req, ctx));
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_CODE_EXPIRED')) return show(app, req, res, ctx, goneStatus(String(err.details.status)), { step: 'reset', error: 'expired', token });
    if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CREDENTIALS')) return show(app, req, res, ctx, 401, { step: 'reset', error: 'invalid_password', token });
    if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return show(app, req, res, ctx, 429, { step: 'reset', error: 'rate_limited', token }, { 'retry-after': String(Number(err.details.retry_after ?? 60)) });
    throw err;
  }
  clearSessionCookie(app, res, ctx);
  const view = viewContext(app, req);
  renderPage(res, 200, messagePage(view, { title: view.t.t('recover.reset.title'), message: view.t.t('recover.done'), link: { href: `${app.prefix}/login`, label: view.t.t('login.submit') } }), TOKEN_PAGE_HEADERS);
}
