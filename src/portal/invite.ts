import type { IncomingMessage, ServerResponse } from 'node:http';
import { Invites } from '../auth/invites.js';
import { issueSession } from '../auth/sessions.js';
import type { TokenLookup } from '../auth/one-time-tokens.js';
import { findSession } from '../gateway/authorize.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import { audit } from '../observability/logger.js';
import type { UserRecord } from '../users/directory.js';
import { OVERRIDABLE_SOURCES, PasswordOverrides } from '../users/overrides.js';
import { hashPassword } from '../users/password.js';
import { preSessionCsrf, preSessionCsrfOk, ensureDevice, renderPage, safeRd, seeOther, setSessionCookie, viewContext } from './page.js';
import { invitePage, messagePage, type InviteModel } from './views/pages.js';

export const MIN_INVITE_PASSWORD = 8;
const MAX_PASSWORD = 1024;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;
/** Token pages never leak their URL to other sites. */
const TOKEN_PAGE_HEADERS = { 'Referrer-Policy': 'no-referrer' } as const;

/** `/_gateway/invite/<token>`: the set-password page of `portcullis users invite` (seed 001). */
export async function handleInvite(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  if (!TOKEN_SHAPE.test(rest)) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method === 'GET') return getInvite(gw, req, res, ctx, rest);
  if (method === 'POST') return postInvite(gw, req, res, ctx, rest);
  res.setHeader('allow', 'GET, POST');
  sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId);
}

function invites(gw: Gateway): Invites {
  return new Invites(gw.services.store, gw.services.keys.invite, gw.services.clock);
}

function showInvite(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: InviteModel): void {
  const token = preSessionCsrf(gw, res, ctx);
  renderPage(res, status, invitePage(viewContext(gw, req, { csrf: token }), { minLength: MIN_INVITE_PASSWORD, ...model }), TOKEN_PAGE_HEADERS);
}

/** Used, expired, unknown or no longer usable: one clear page (410 when it once existed, else 404). */
function showGone(gw: Gateway, req: IncomingMessage, res: ServerResponse, status: 404 | 410): void {
  renderPage(res, status, invitePage(viewContext(gw, req), { token: '', username: '', error: 'expired', minLength: MIN_INVITE_PASSWORD }), TOKEN_PAGE_HEADERS);
}

function goneStatus(found: TokenLookup): 404 | 410 {
  return found.status === 'unknown' ? 404 : 410;
}

/** The invited user, while the directory still knows them as a users-file account that is not disabled. */
async function invitedUser(gw: Gateway, user: string): Promise<UserRecord | undefined> {
  const record = await gw.services.directory.lookup(user);
  return record && record.username === user && !record.disabled && OVERRIDABLE_SOURCES.has(record.source) ? record : undefined;
}

function auditInvite(gw: Gateway, ctx: RequestContext, user: string | undefined, result: 'success' | 'failure', reason?: string): void {
  audit(gw.services.logger, { event: 'invite', user, client_ip: ctx.client.ip, request_id: ctx.requestId, method: 'invite', result, reason });
}

async function getInvite(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const found = await invites(gw).peek(token);
  if (found.status !== 'valid') return showGone(gw, req, res, goneStatus(found));
  if (!(await invitedUser(gw, found.user))) return showGone(gw, req, res, 410);
  showInvite(gw, req, res, ctx, 200, { token, username: found.user });
}

async function postInvite(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, token: string): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const store = invites(gw);
  const found = await store.peek(token);
  if (found.status !== 'valid') {
    auditInvite(gw, ctx, undefined, 'failure', found.status);
    return showGone(gw, req, res, goneStatus(found));
  }
  const username = found.user;
  if (!preSessionCsrfOk(gw, req, form)) {
    return showInvite(gw, req, res, ctx, 403, { token, username, error: 'csrf' });
  }
  const password = form.get('password') ?? '';
  if ([...password].length < MIN_INVITE_PASSWORD || password.length > MAX_PASSWORD) return showInvite(gw, req, res, ctx, 400, { token, username, error: 'too_short' });
  if (password !== (form.get('password_confirm') ?? '')) return showInvite(gw, req, res, ctx, 400, { token, username, error: 'mismatch' });

  const user = await invitedUser(gw, username);
  if (!user) {
    auditInvite(gw, ctx, username, 'failure', 'not_invitable');
    return showGone(gw, req, res, 410);
  }
  if (await services.regulator.isLocked(username)) {
    auditInvite(gw, ctx, username, 'failure', 'locked');
    const view = viewContext(gw, req);
    return renderPage(res, 423, messagePage(view, { title: view.t.t('invite.title'), message: view.t.t('login.error.locked'), status: 423 }), TOKEN_PAGE_HEADERS);
  }
  const hash = await hashPassword(password, 'argon2id');
  // Claimed atomically: of two submissions racing with the same link, one wins.
  const claimed = await store.consume(token);
  if (claimed.status !== 'valid' || claimed.user !== username) {
    auditInvite(gw, ctx, username, 'failure', claimed.status);
    return showGone(gw, req, res, goneStatus(claimed));
  }
  await new PasswordOverrides(services.store).set(username, hash);
  // A new password ends what the old one opened: other sessions and remembered devices.
  await services.sessions.revokeUser(username);
  await services.devices.revokeAll(username);
  auditInvite(gw, ctx, username, 'success', 'password_set');

  // The link stands in for the code, this once (seed 001).
  const deviceId = ensureDevice(gw, req, res, ctx);
  const previous = await findSession(gw, req.headers).catch(() => undefined);
  const now = services.clock.now();
  const made = await issueSession(services.sessions, user, {
    level: 'two_factor',
    factors: ['invite'],
    now,
    deviceId,
    clientIp: ctx.client.ip,
    userAgent: req.headers['user-agent'],
    replace: previous?.id,
  });
  audit(services.logger, { event: 'login', user: username, client_ip: ctx.client.ip, request_id: ctx.requestId, method: 'invite', result: 'success', reason: 'invite' });
  setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
  seeOther(res, safeRd(gw, ctx, null));
}
