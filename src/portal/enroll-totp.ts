import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { verifyCsrf } from './csrf.js';
import { enrolling, finishEnrolment, mayEnrol, type Enrolling } from './enrolling.js';
import { csrfRejected, rdQuery, renderMessage, renderPage, requestInfo, safeRd, seeOther, sessionView } from './page.js';
import { enrollTotpPage, type EnrollTotpModel } from './views/enroll.js';

async function showTotp(app: PortalApp, req: IncomingMessage, res: ServerResponse, e: Enrolling, status: number, rd: string, error?: EnrollTotpModel['error']): Promise<void> {
  const setup = await app.core.enrolment.totpSetup(e.user);
  // Cancel: back to the account page; a required set-up can only be left by signing out (or choosing another method).
  const others = app.core.enrolment.enrollable(e.user).length > 1;
  const cancel = !e.forced ? `${app.prefix}/account` : others ? `${app.prefix}/enroll?${rdQuery(rd)}` : `${app.prefix}/logout`;
  const passwordless = !app.core.enrolment.needsPassword(e.user);
  const model: EnrollTotpModel = { qrSvg: setup.qrSvg, uri: setup.uri, secretBase32: setup.secretBase32, rd, digits: app.config.second_factor.totp.digits, replaces: setup.replaces, cancel, ...(error ? { error } : {}), ...(passwordless ? { passwordless } : {}) };
  renderPage(res, status, enrollTotpPage(sessionView(app, req, e.found.session), model));
}

/** `GET /enroll/totp`: the QR code, the otpauth:// URI and the base32 secret of a pending enrolment. */
export async function getEnrollTotp(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (!mayEnrol(app, e.user, 'totp')) return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  await showTotp(app, req, res, e, 200, rd);
}

/** `POST /enroll/totp` (`password`, `code`, `csrf`, `rd`): the password, then the first code, checked by the enrolment use-case. */
export async function postEnrollTotp(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const rd = safeRd(app, ctx, form.get('rd'));
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (!verifyCsrf(e.found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
  if (!mayEnrol(app, e.user, 'totp')) return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  try {
    const done = await app.core.enrolment.confirmTotp(e.found, e.user, form.get('password') ?? '', form.get('code') ?? '', requestInfo(app, req, ctx));
    return finishEnrolment(app, req, res, ctx, e, done, rd);
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CREDENTIALS')) return showTotp(app, req, res, e, 401, rd, 'invalid_password');
    if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CODE')) return showTotp(app, req, res, e, 401, rd, 'invalid_code');
    if (isPortcullisError(err, 'PORTCULLIS_ERR_REAUTH_REQUIRED')) return renderMessage(app, req, res, 401, 'enroll.error.reauth');
    if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return renderMessage(app, req, res, 429, 'verify.error.rate_limited', { 'retry-after': String(Number(err.details.retry_after ?? 60)) });
    throw err;
  }
}
