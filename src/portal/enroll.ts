import type { IncomingMessage, ServerResponse } from 'node:http';
import { dispatchTable, type MethodTable } from './dispatch.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import { verifyCsrf } from './csrf.js';
import { getEnrollDestination, postEnrollDestination } from './enroll-destination.js';
import { auditPortal, csrfRejected, enrollableMethods, enrolAccess, isForced, loginUrl, portalSession, requestInfo, sessionUser, sessionView } from './enroll-session.js';
import { getEnrollTotp, postEnrollTotp } from './enroll-totp.js';
import { renderPage, safeRd, seeOther } from './page.js';
import { enrollChoicePage, recoveryCodesPage } from './views/enroll.js';


const routes: Record<string, MethodTable> = {
  '': { GET: getChoice },
  '/': { GET: getChoice },
  '/totp': { GET: getEnrollTotp, POST: postEnrollTotp },
  '/email': { GET: (gw, req, res, ctx) => getEnrollDestination(gw, req, res, ctx, 'email'), POST: (gw, req, res, ctx) => postEnrollDestination(gw, req, res, ctx, 'email') },
  '/sms': { GET: (gw, req, res, ctx) => getEnrollDestination(gw, req, res, ctx, 'sms'), POST: (gw, req, res, ctx) => postEnrollDestination(gw, req, res, ctx, 'sms') },
  '/recovery-codes': { POST: postRecoveryCodes },
};

/** `/_gateway/enroll...`: setting up a second factor (forced after the password, or from the account page). */
export const handleEnroll = dispatchTable(routes);

/**
 * `GET /enroll`: the methods to choose from. A forced enrolment with a single possible method (an
 * operator's assignment, or one allowed method) goes straight to it.
 */
async function getChoice(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const rd = safeRd(gw, ctx, new URLSearchParams(ctx.query).get('rd'));
  const access = await enrolAccess(gw, req, rd);
  if ('redirect' in access) return seeOther(res, access.redirect);
  const methods = enrollableMethods(gw, access.user);
  const forced = isForced(access.s);
  if (forced && methods.length === 1) return seeOther(res, `${gw.compiled.prefix}/enroll/${methods[0]}?rd=${encodeURIComponent(rd)}`);
  renderPage(res, 200, enrollChoicePage(sessionView(gw, req, access.s.session), { methods, rd, required: forced }));
}

/** `POST /enroll/recovery-codes`: a new set replaces the old one and is shown once (two-factor sessions only). */
async function postRecoveryCodes(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const { services } = gw;
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const account = `${gw.compiled.prefix}/account`;
  const s = await portalSession(gw, req);
  if (!s) return seeOther(res, loginUrl(gw, account));
  if (s.session.level !== 'two_factor') {
    const rd = safeRd(gw, ctx, form.get('rd'));
    return seeOther(res, isForced(s) ? `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}` : `${gw.compiled.prefix}/verify?rd=${encodeURIComponent(rd)}`);
  }
  if (!verifyCsrf(s.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(gw, req, res);
  const user = await sessionUser(gw, s);
  if (!user) return seeOther(res, loginUrl(gw, account));
  if (!gw.config.second_factor.methods.includes('recovery_code')) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
  const codes = await services.recovery.generate(user.username);
  auditPortal(gw, ctx, 'recovery_codes_generated', user.username, 'success', 'recovery_code');
  await services.signin.notify(user, 'factor_changed', requestInfo(gw, req, ctx), { method: 'recovery_code' });
  renderPage(res, 200, recoveryCodesPage(sessionView(gw, req, s.session), { codes, next: `${account}?notice=recovery_codes_generated` }));
}
