import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import type { UserRecord } from '../users/directory.js';
import { verifyCsrf } from './csrf.js';
import { completeEnrolment } from './enroll-complete.js';
import { auditPortal, csrfRejected, enrollableMethods, enrolAccess, rateLimited, sessionView, type PortalSession } from './enroll-session.js';
import { renderPage, safeRd, seeOther } from './page.js';
import { enrollTotpPage, type EnrollTotpModel } from './views/enroll.js';

const MAX_PASSWORD = 1024;

async function showTotp(gw: Gateway, req: IncomingMessage, res: ServerResponse, s: PortalSession, user: UserRecord, status: number, rd: string, error?: EnrollTotpModel['error']): Promise<void> {
  const { totp } = gw.services;
  // The same secret until it is confirmed or expires: a reload or a wrong first code keeps the scanned QR valid.
  const pending = (await totp.pendingEnrolment(user.username, user.username)) ?? (await totp.beginEnrolment(user.username, user.username));
  const model: EnrollTotpModel = { ...pending, rd, digits: gw.config.second_factor.totp.digits, ...(error ? { error } : {}) };
  renderPage(res, status, enrollTotpPage(sessionView(gw, req, s.session), model));
}

/** `GET /enroll/totp`: the QR code, the otpauth:// URI and the base32 secret of a pending enrolment. */
export async function getEnrollTotp(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const rd = safeRd(gw, ctx, new URLSearchParams(ctx.query).get('rd'));
  const access = await enrolAccess(gw, req, rd);
  if ('redirect' in access) return seeOther(res, access.redirect);
  if (!enrollableMethods(gw, access.user).includes('totp')) return seeOther(res, `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}`);
  await showTotp(gw, req, res, access.s, access.user, 200, rd);
}

/**
 * `POST /enroll/totp` (`password`, `code`, `csrf`, `rd`): the password is checked like a sign-in
 * (counted by the regulator), then the first code against the pending secret.
 */
export async function postEnrollTotp(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const rd = safeRd(gw, ctx, form.get('rd'));
  const access = await enrolAccess(gw, req, rd);
  if ('redirect' in access) return seeOther(res, access.redirect);
  const { s, user } = access;
  if (!verifyCsrf(s.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(gw, req, res);
  if (!enrollableMethods(gw, user).includes('totp')) return seeOther(res, `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}`);

  const password = form.get('password') ?? '';
  try {
    await services.regulator.checkPassword(user.username, ctx.client.ip);
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    auditPortal(gw, ctx, 'enrolment', user.username, 'failure', 'totp', 'rate_limited');
    return rateLimited(gw, req, res, Number(err.details.retry_after ?? 60));
  }
  const checked = password && password.length <= MAX_PASSWORD ? await services.directory.authenticate(user.username, password) : null;
  if (!checked || checked.username !== user.username || (await services.regulator.isLocked(user.username))) {
    await services.regulator.passwordFailed(user.username, ctx.client.ip);
    auditPortal(gw, ctx, 'enrolment', user.username, 'failure', 'totp', 'invalid_password');
    return showTotp(gw, req, res, s, user, 401, rd, 'invalid_password');
  }
  await services.regulator.passwordSucceeded(user.username);

  try {
    await services.regulator.checkCode(ctx.client.ip);
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    return rateLimited(gw, req, res, Number(err.details.retry_after ?? 30));
  }
  const code = (form.get('code') ?? '').slice(0, 64);
  if (!code || !(await services.totp.confirmEnrolment(user.username, code))) {
    auditPortal(gw, ctx, 'enrolment', user.username, 'failure', 'totp', 'invalid_code');
    return showTotp(gw, req, res, s, user, 401, rd, 'invalid_code');
  }
  await completeEnrolment(gw, req, res, ctx, s, user, 'totp', rd);
}
