import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../http/context.js';
import { acceptsHtml, sendError, sendJson } from '../http/respond.js';
import type { PortalApp } from './app.js';
import { dispatchTable, type MethodTable } from './dispatch.js';
import { handleAccount } from './account.js';
import { handleEnroll } from './enroll.js';
import { handleInvite } from './invite.js';
import { handleOidc } from './oidc.js';
import { handleRecover } from './recover.js';
import { handleReport } from './report.js';
import { renderPage, viewContext } from './page.js';
import { outboxPage } from './views/pages.js';
import { getLogin, getLogout, getVerify, postLogin, postLogout, postVerify } from './signin.js';

type Section = (app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string) => Promise<void> | void;

const pages: Record<string, MethodTable> = {
  '': {
    GET: (app, _req, res) => {
      res.writeHead(302, { location: `${app.prefix}/account`, 'content-length': '0' });
      res.end();
    },
  },
  '/login': { GET: getLogin, POST: postLogin },
  '/verify': { GET: getVerify, POST: (app, req, res, ctx) => postVerify(app, req, res, ctx, false) },
  '/verify/resend': { POST: (app, req, res, ctx) => postVerify(app, req, res, ctx, true) },
  '/logout': { GET: getLogout, POST: postLogout },
  '/dev/outbox': {
    GET: (app, req, res, ctx) => {
      const outbox = app.core.delivery.outbox;
      if (!app.demo || !outbox) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
      // A page for people (newest first, the code large); JSON for scripts (scripts/curl-demo.sh).
      if (acceptsHtml(req)) return renderPage(res, 200, outboxPage(viewContext(app, req), { messages: outbox.list() }));
      sendJson(res, 200, { messages: outbox.list() });
    },
  },
};

const sections: Array<[string, Section]> = [
  ['/enroll', handleEnroll],
  ['/account', handleAccount],
  ['/recover', handleRecover],
  ['/invite/', handleInvite],
  ['/report/', handleReport],
  ['/oidc/', handleOidc],
];

const top = dispatchTable(pages);

/** The portal's pages under `portal_prefix` (the gateway's route table mounts it). */
export async function handlePortal(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, sub: string): Promise<void> {
  if (Object.hasOwn(pages, sub)) return top(app, req, res, ctx, sub);
  for (const [p, section] of sections) if (sub.startsWith(p)) return section(app, req, res, ctx, sub.slice(p.length));
  sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
}
