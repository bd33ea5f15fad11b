import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { verifyCsrf } from './csrf.js';
import { dispatchTable, type MethodTable } from './dispatch.js';
import { getEnrollDestination, postEnrollDestination } from './enroll-destination.js';
import { getEnrollTotp, postEnrollTotp } from './enroll-totp.js';
import { getEnrollWebauthn, postEnrollWebauthn } from './enroll-webauthn.js';
import { csrfRejected, rdQuery, renderMessage, renderPage, requestInfo, safeRd, seeOther, sessionView } from './page.js';
import { enrolling } from './enrolling.js';
import { recoveryCodesConfirmPage } from './views/account.js';
import { enrollChoicePage, recoveryCodesPage, type EnrollMethod } from './views/enroll.js';

const routes: Record<string, MethodTable> = {
  '': { GET: getChoice },
  '/': { GET: getChoice },
  '/totp': { GET: getEnrollTotp, POST: postEnrollTotp },
  '/email': { GET: (app, req, res, ctx) => getEnrollDestination(app, req, res, ctx, 'email'), POST: (app, req, res, ctx) => postEnrollDestination(app, req, res, ctx, 'email') },
  '/sms': { GET: (app, req, res, ctx) => getEnrollDestination(app, req, res, ctx, 'sms'), POST: (app, req, res, ctx) => postEnrollDestination(app, req, res, ctx, 'sms') },
  '/webauthn': { GET: getEnrollWebauthn, POST: postEnrollWebauthn },
  '/recovery-codes': { GET: getRecoveryCodes, POST: postRecoveryCodes },
};

/** `/_gateway/enroll...`: setting up a second factor (forced after the password, or from the account page). */
export const handleEnroll = dispatchTable(routes);

/**
 * `GET /enroll`: the methods to choose from. A forced enrolment with a single possible method (an
 * operator's assignment, or one allowed method) goes straight to it.
 */
async function getChoice(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) return seeOther(res, e.redirect);
  const methods = app.core.enrolment.enrollable(e.user).filter((m): m is EnrollMethod => m === 'totp' || m === 'email' || m === 'sms' || m === 'webauthn');
  if (e.forced && methods.length === 1) return seeOther(res, `${app.prefix}/enroll/${methods[0]}?${rdQuery(rd)}`);
  renderPage(res, 200, enrollChoicePage(sessionView(app, req, e.found.session), { methods, rd, required: e.forced }));
}

/** `GET /enroll/recovery-codes`: asks before a new set replaces the current one (the account page's dialog without JavaScript). */
async function getRecoveryCodes(app: PortalApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const account = `${app.prefix}/account`;
  const e = await enrolling(app, req, account);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (e.forced) return seeOther(res, `${app.prefix}/enroll`);
  const remaining = await app.core.enrolment.recoveryCodesLeft(e.user);
  renderPage(res, 200, recoveryCodesConfirmPage(sessionView(app, req, e.found.session), { cancel: account, ...(remaining !== undefined ? { remaining } : {}) }));
}

/** `POST /enroll/recovery-codes`: a new set replaces the old one and is shown once (two-factor sessions only). */
async function postRecoveryCodes(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const account = `${app.prefix}/account`;
  const rd = safeRd(app, ctx, form.get('rd'));
  const e = await enrolling(app, req, account);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (e.forced) return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  if (!verifyCsrf(e.found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
  try {
    const codes = await app.core.enrolment.regenerateRecoveryCodes(e.user, requestInfo(app, req, ctx));
    renderPage(res, 200, recoveryCodesPage(sessionView(app, req, e.found.session), { codes, next: `${account}?notice=recovery_codes_generated`, replaced: true }));
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_NOT_FOUND')) return renderMessage(app, req, res, 404, 'error.generic');
    throw err;
  }
}
