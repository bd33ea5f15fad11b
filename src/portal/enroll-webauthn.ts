import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { verifyCsrf } from './csrf.js';
import { enrolling, finishEnrolment, mayEnrol, type Enrolling } from './enrolling.js';
import { csrfRejected, rdQuery, renderPage, requestInfo, safeRd, seeOther, sessionView } from './page.js';
import { enrollWebauthnPage, type EnrollWebauthnModel } from './views/enroll.js';

const originOf = (ctx: RequestContext) => `${ctx.client.proto}://${ctx.client.host}`;

async function showPasskey(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, e: Enrolling, status: number, rd: string, error?: EnrollWebauthnModel['error']): Promise<void> {
  const creationOptions = await app.core.enrolment.passkeyOptions(e.user, originOf(ctx));
  renderPage(res, status, enrollWebauthnPage(sessionView(app, req, e.found.session), { rd, ...(creationOptions ? { creationOptions } : {}), ...(error ? { error } : {}) }));
}

/** `GET /enroll/webauthn`: the passkey registration page (portal.js runs the ceremony). */
export async function getEnrollWebauthn(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (!mayEnrol(app, e.user, 'webauthn')) return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  await showPasskey(app, req, res, ctx, e, 200, rd);
}

/** `POST /enroll/webauthn` (`name`, `credential`, `csrf`, `rd`): the registration response, checked by the enrolment use-case. */
export async function postEnrollWebauthn(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const rd = safeRd(app, ctx, form.get('rd'));
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) return seeOther(res, e.redirect);
  if (!verifyCsrf(e.found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
  if (!mayEnrol(app, e.user, 'webauthn')) return seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
  try {
    const done = await app.core.enrolment.confirmPasskey(e.found, e.user, form.get('name') ?? '', form.get('credential') ?? '', requestInfo(app, req, ctx));
    return finishEnrolment(app, req, res, ctx, e, done, rd);
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CODE')) return showPasskey(app, req, res, ctx, e, 400, rd, 'failed');
    throw err;
  }
}
