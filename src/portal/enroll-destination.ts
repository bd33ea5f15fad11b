import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationKind } from '../auth/enrolment.js';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import type { PortalApp } from './app.js';
import { verifyCsrf } from './csrf.js';
import { enrolling, finishEnrolment, mayEnrol, type Enrolling } from './enrolling.js';
import { csrfRejected, rdQuery, renderMessage, renderPage, requestInfo, safeRd, seeOther, sessionView } from './page.js';
import { enrollDestinationPage, type EnrollDestinationModel } from './views/enroll.js';

export { normalizeDestination } from '../auth/enrolment.js';

function show(app: PortalApp, req: IncomingMessage, res: ServerResponse, e: Enrolling, status: number, model: Omit<EnrollDestinationModel, 'codeLength' | 'codeCharset'>, headers: Record<string, string> = {}): void {
  const code = app.config.second_factor.code;
  renderPage(res, status, enrollDestinationPage(sessionView(app, req, e.found.session), { ...model, codeLength: code.length, codeCharset: code.charset }), headers);
}

async function access(app: PortalApp, req: IncomingMessage, res: ServerResponse, kind: DestinationKind, rd: string): Promise<Enrolling | undefined> {
  const e = await enrolling(app, req, rd);
  if ('redirect' in e) {
    seeOther(res, e.redirect);
    return undefined;
  }
  if (!mayEnrol(app, e.user, kind)) {
    seeOther(res, `${app.prefix}/enroll?${rdQuery(rd)}`);
    return undefined;
  }
  return e;
}

/** `GET /enroll/email|sms`: the address entry step. */
export async function getEnrollDestination(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, kind: DestinationKind): Promise<void> {
  const rd = safeRd(app, ctx, new URLSearchParams(ctx.query).get('rd'));
  const e = await access(app, req, res, kind, rd);
  if (e) show(app, req, res, e, 200, { kind, step: 'enter', rd });
}

/**
 * `POST /enroll/email|sms`: with `destination` sends a code there and keeps the address server-side;
 * with `code` checks it and saves the address as verified (seed 001).
 */
export async function postEnrollDestination(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, kind: DestinationKind): Promise<void> {
  const form = await readForm(req, app.config.server.limits.max_form_body);
  const rd = safeRd(app, ctx, form.get('rd'));
  const e = await access(app, req, res, kind, rd);
  if (!e) return;
  if (!verifyCsrf(e.found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
  const { enrolment } = app.core;
  const info = requestInfo(app, req, ctx);
  if (form.has('code')) {
    const pending = await enrolment.pendingDestination(e.found, kind);
    try {
      const done = await enrolment.confirmDestination(e.found, e.user, kind, form.get('code') ?? '', info);
      return finishEnrolment(app, req, res, ctx, e, done, rd);
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CODE')) return show(app, req, res, e, 401, { kind, step: 'confirm', rd, ...(pending ? { destination: pending } : {}), error: 'invalid_code' });
      if (isPortcullisError(err, 'PORTCULLIS_ERR_CODE_EXPIRED')) return show(app, req, res, e, 410, { kind, step: 'enter', rd, error: 'code_expired' });
      if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return renderMessage(app, req, res, 429, 'verify.error.rate_limited', { 'retry-after': String(Number(err.details.retry_after ?? 30)) });
      throw err;
    }
  }
  try {
    const { destination } = await enrolment.sendDestinationCode(e.found, e.user, kind, form.get('destination') ?? '', info);
    show(app, req, res, e, 200, { kind, step: 'confirm', rd, destination });
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_BAD_REQUEST')) return show(app, req, res, e, 400, { kind, step: 'enter', rd, error: 'invalid_destination' });
    if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return show(app, req, res, e, 429, { kind, step: 'enter', rd, error: 'rate_limited' }, { 'retry-after': String(Number(err.details.retry_after ?? 30)) });
    if (isPortcullisError(err, 'PORTCULLIS_ERR_DELIVERY_FAILED')) return show(app, req, res, e, 502, { kind, step: 'enter', rd, error: 'delivery_failed' });
    throw err;
  }
}
