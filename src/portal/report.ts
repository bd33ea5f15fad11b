import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_REPORT_TOKEN } from '../auth/report-links.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import { sendError } from '../http/respond.js';
import type { PortalApp } from './app.js';
import { clearSessionCookie, preSessionCsrf, preSessionCsrfOk, renderPage, requestInfo, viewContext } from './page.js';
import { reportPage, type ReportModel } from './views/index.js';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{1,64}$/;
/** Token pages never leak their URL to other sites, and are never cached. */
const TOKEN_PAGE_HEADERS = { 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' } as const;

/**
 * `/_gateway/report/<token>`: "this wasn't me" from a security email. GET shows the confirmation (and
 * changes nothing: mail scanners open links); POST with the page's CSRF token does it. The decision is
 * the NotMe use-case's.
 */
export async function handleReport(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  if (rest.length > MAX_REPORT_TOKEN || !TOKEN_SHAPE.test(rest) || !app.core.notMe.enabled) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method === 'GET') {
    const found = await app.core.notMe.check(rest);
    return show(app, req, res, ctx, found.status === 'valid' ? 200 : 410, { step: found.status === 'valid' ? 'confirm' : 'gone', token: rest });
  }
  if (method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId, undefined, app.errorPages);
  }
  const form = await readForm(req, app.config.server.limits.max_form_body);
  if (!preSessionCsrfOk(app, req, form)) {
    const found = await app.core.notMe.check(rest);
    if (found.status === 'valid') return show(app, req, res, ctx, 403, { step: 'csrf', token: rest });
    app.core.notMe.refused(found.status, requestInfo(app, req, ctx));
    return show(app, req, res, ctx, 410, { step: 'gone', token: rest });
  }
  const outcome = await app.core.notMe.report(rest, requestInfo(app, req, ctx));
  if (outcome.status !== 'done') return show(app, req, res, ctx, 410, { step: 'gone', token: rest });
  // This browser's session (if it is the user's) has ended with the rest.
  clearSessionCookie(app, res, ctx);
  show(app, req, res, ctx, 200, { step: 'done', token: rest });
}

function show(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, status: number, model: ReportModel): void {
  const csrf = model.step === 'confirm' || model.step === 'csrf' ? preSessionCsrf(app, res, ctx) : undefined;
  renderPage(res, status, reportPage(viewContext(app, req, csrf === undefined ? {} : { csrf }), model), TOKEN_PAGE_HEADERS);
}
