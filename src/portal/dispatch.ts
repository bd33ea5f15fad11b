import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../http/context.js';
import { sendError } from '../http/respond.js';
import type { PortalApp } from './app.js';

export type PageHandler = (app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> | void;
export type MethodTable = Partial<Record<'GET' | 'POST', PageHandler>>;

/** A sub-router for a portal section: exact sub-path → handler per method; 404 and 405 otherwise (HEAD is GET). */
export function dispatchTable(routes: Readonly<Record<string, MethodTable>>) {
  return (app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> | void => {
    const route = routes[rest];
    if (!route) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId, undefined, app.errorPages);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = route[method as 'GET' | 'POST'];
    if (!handler) {
      res.setHeader('allow', Object.keys(route).join(', '));
      return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId, undefined, app.errorPages);
    }
    return handler(app, req, res, ctx);
  };
}
