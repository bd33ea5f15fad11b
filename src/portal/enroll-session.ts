import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../auth/signin.js';
import type { FactorMethod } from '../config/schema/index.js';
import type { FactorStateRecord } from '../factors/enrolment.js';
import { resolveSecondFactor, type SecondFactorResolution } from '../factors/methods.js';
import { findSession } from '../gateway/authorize.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { audit } from '../observability/logger.js';
import { sessionRef, type SessionData } from '../session/sessions.js';
import type { UserRecord } from '../users/directory.js';
import { csrfToken } from './csrf.js';
import { languageFor, renderPage, viewContext } from './page.js';
import type { ViewContext } from './views/context.js';
import { messagePage } from './views/pages.js';

/** The browser's session as the enrolment and account pages use it (cookie only, never a bearer token). */
export interface PortalSession {
  id: string;
  ref: string;
  session: SessionData;
}

/** Methods a user can set up from the portal (passkeys have their own flow). */
export type EnrolKind = 'totp' | 'email' | 'sms';
const ENROL_KINDS: readonly EnrolKind[] = ['totp', 'email', 'sms'];

export async function portalSession(gw: Gateway, req: IncomingMessage): Promise<PortalSession | undefined> {
  const found = await findSession(gw, req.headers);
  if (!found || found.viaBearer) return undefined;
  return { id: found.id, ref: sessionRef(found.id), session: found.session };
}

/** A one-factor session that must set up a second factor before it can finish signing in. */
export function isForced(s: PortalSession): boolean {
  return s.session.level === 'one_factor' && typeof s.session.enrol === 'string' && s.session.enrol.length > 0;
}

export function loginUrl(gw: Gateway, rd: string): string {
  return `${gw.compiled.prefix}/login?rd=${encodeURIComponent(rd)}`;
}

export function requestInfo(gw: Gateway, req: IncomingMessage, ctx: RequestContext): RequestInfo {
  return { clientIp: ctx.client.ip, requestId: ctx.requestId, lang: languageFor(gw, req), deviceId: gw.deviceId(req.headers.cookie) };
}

/** The view context for a signed-in page: the session's CSRF token and the user's name in the header. */
export function sessionView(gw: Gateway, req: IncomingMessage, session: SessionData): ViewContext {
  return viewContext(gw, req, { csrf: csrfToken(session.csrf), user: { name: session.displayName ?? session.user } });
}

export function csrfRejected(gw: Gateway, req: IncomingMessage, res: ServerResponse): void {
  const view = viewContext(gw, req);
  renderPage(res, 403, messagePage(view, { title: view.t.t('error.generic'), message: view.t.t('error.csrf'), status: 403 }));
}

export function rateLimited(gw: Gateway, req: IncomingMessage, res: ServerResponse, retryAfter: number): void {
  const view = viewContext(gw, req);
  renderPage(res, 429, messagePage(view, { title: view.t.t('error.generic'), message: view.t.t('verify.error.rate_limited'), status: 429 }), { 'retry-after': String(retryAfter) });
}

export function auditPortal(gw: Gateway, ctx: RequestContext, event: string, user: string, result: 'success' | 'failure' | 'info', method?: string, reason?: string): void {
  audit(gw.services.logger, { event, user, client_ip: ctx.client.ip, method, result, reason, request_id: ctx.requestId });
}

/** The session's user from the directory; undefined (and the session ended) when gone or disabled. */
export async function sessionUser(gw: Gateway, s: PortalSession): Promise<UserRecord | undefined> {
  const user = await gw.services.directory.lookup(s.session.user);
  if (user && !user.disabled) return user;
  await gw.services.sessions.revoke(s.id);
  return undefined;
}

export interface FactorSnapshot {
  state: FactorStateRecord;
  totpEnrolled: boolean;
  recoveryLeft: number;
  resolved: SecondFactorResolution;
}

export async function factorSnapshot(gw: Gateway, user: UserRecord): Promise<FactorSnapshot> {
  const { factorState, totp, recovery } = gw.services;
  const [state, totpEnrolled, recoveryLeft] = await Promise.all([factorState.get(user.username), totp.isEnrolled(user.username), recovery.remaining(user.username)]);
  return { state, totpEnrolled, recoveryLeft, resolved: resolve(gw, user, state, totpEnrolled, recoveryLeft) };
}

export function resolve(gw: Gateway, user: UserRecord, state: FactorStateRecord, totpEnrolled: boolean, recoveryLeft: number): SecondFactorResolution {
  return resolveSecondFactor({ user, cfg: gw.config.second_factor, state, totpEnrolled, webauthnCount: 0, recoveryCodesLeft: recoveryLeft });
}

/** The method an operator chose for this user (per-user method or an assignment), when it is an allowed primary method. */
export function operatorMethod(gw: Gateway, user: UserRecord): FactorMethod | undefined {
  const cfg = gw.config.second_factor;
  const primary = (m: FactorMethod | undefined): m is FactorMethod => m !== undefined && m !== 'recovery_code' && cfg.methods.includes(m);
  if (primary(user.secondFactor?.method)) return user.secondFactor.method;
  const hit = cfg.assignments.find((a) => (a.user !== undefined ? a.user === user.username : a.group !== undefined && user.groups.includes(a.group)));
  return hit && primary(hit.method) ? hit.method : undefined;
}

/** What the user may set up: the operator's allowed methods, only the assigned one when there is an assignment. */
export function enrollableMethods(gw: Gateway, user: UserRecord): EnrolKind[] {
  const allowed = ENROL_KINDS.filter((m) => gw.config.second_factor.methods.includes(m));
  const chosen = operatorMethod(gw, user);
  return chosen ? allowed.filter((m) => m === chosen) : allowed;
}

/**
 * Who may use an enrolment page: a forced-enrolment session or a two-factor session. Others are
 * sent on: no session to the login page, a one-factor session in a sign-in to the second step.
 */
export async function enrolAccess(gw: Gateway, req: IncomingMessage, rd: string): Promise<{ s: PortalSession; user: UserRecord } | { redirect: string }> {
  const s = await portalSession(gw, req);
  if (!s) return { redirect: loginUrl(gw, rd) };
  if (s.session.level !== 'two_factor' && !isForced(s)) return { redirect: `${gw.compiled.prefix}/verify?rd=${encodeURIComponent(rd)}` };
  const user = await sessionUser(gw, s);
  if (!user) return { redirect: loginUrl(gw, rd) };
  return { s, user };
}
