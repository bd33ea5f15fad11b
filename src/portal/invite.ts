import type { IncomingMessage, ServerResponse } from 'node:http';
import { MIN_INVITE_PASSWORD } from '../auth/invitations.js';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import type { PortalApp } from './app.js';
import { ensureDevice, preSessionCsrf, preSessionCsrfOk, renderPage, requestInfo, safeRd, seeOther, setSessionCookie, userAgent, viewContext } from './page.js';
import { invitePage, messagePage, type InviteModel } from './views/pages.js';

export { MIN_INVITE_PASSWORD };
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;
/** Token pages never leak their URL to other sites. */
const TOKEN_PAGE_HEADERS = { 'Referrer-Policy': 'no-referrer' } as const;

/** `/_gateway/invite/<token>`: the set-password page of `portcullis users invite` (seed 001). */
export async function handleInvite(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  if (!TOKEN_SHAPE.test(rest)) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method === 'GET') return getInvite(app, req, res, ctx, rest);
  if (method === 'POST') return postInvite(app, req, res, ctx, rest);
  res.setHeader('allow', 'GET, POST');
  sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId, undefined, app.errorPages);
}

function showInvite(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: InviteModel): void {
  const token = preSessionCsrf(app, res, ctx);
  renderPage(res, status, invitePage(viewContext(app, req, { csrf: token }), { minLength: MIN_INVITE_PASSWORD, ...model }), TOKEN_PAGE_HEADERS);
}

/** Used, expired, unknown or no longer usable: one clear page (410 when it once existed, else 404). */
function showGone(app: PortalApp, req: IncomingMessage, res: ServerResponse, status: string): void {
  renderPage(res, status === 'unknown' ? 404 : 410, invitePage(viewContext(app, req), { token: '', username: '', error: 'expired', minLength: MIN_INVITE_PASSWORD }), TOKEN_PAGE_HEADERS);
}

async function getInvite(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const found = await app.core.invitations.peek(token);
  if (found.status !== 'valid') return showGone(app, req, res, found.status);
  showInvite(app, req, res, ctx, 200, { token, username: found.user });
}

async function postInvite(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const found = await app.core.invitations.peek(token);
  if (found.status !== 'valid') return showGone(app, req, res, found.status);
  const username = found.user;
  if (!preSessionCsrfOk(app, req, form)) return showInvite(app, req, res, ctx, 403, { token, username, error: 'csrf' });
  const deviceId = ensureDevice(app, req, res, ctx);
  const previous = await app.core.lookup.find(req.headers).catch(() => undefined);
  try {
    const made = await app.core.invitations.accept(token, form.get('password') ?? '', form.get('password_confirm') ?? '', { deviceId, userAgent: userAgent(req), replace: previous?.id }, requestInfo(app, req, ctx, deviceId));
    setSessionCookie(app, res, ctx, made.cookie, made.session);
    seeOther(res, safeRd(app, ctx, null));
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_BAD_REQUEST')) return showInvite(app, req, res, ctx, 400, { token, username, error: err.details.reason === 'mismatch' ? 'mismatch' : 'too_short' });
    if (isPortcullisError(err, 'PORTCULLIS_ERR_CODE_EXPIRED')) return showGone(app, req, res, String(err.details.status));
    if (isPortcullisError(err, 'PORTCULLIS_ERR_LOCKED')) {
      const view = viewContext(app, req);
      return renderPage(res, 423, messagePage(view, { title: view.t.t('invite.title'), message: view.t.t('login.error.locked'), status: 423 }), TOKEN_PAGE_HEADERS);
    }
    throw err;
  }
}
