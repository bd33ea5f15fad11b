import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { sendError } from '../http/respond.js';
import { postDisableSecondFactor, postRemoveDevice, postRemoveMethod, postRemoveSession } from './account-actions.js';
import { accountAccess, accountModel, NOTICES } from './account-model.js';
import { sessionView } from './enroll-session.js';
import { renderPage, seeOther } from './page.js';
import { accountPage } from './views/account.js';

type Handler = (gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;

const routes: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '': { GET: getAccount },
  '/': { GET: getAccount },
  '/methods/remove': { POST: postRemoveMethod },
  '/devices/remove': { POST: postRemoveDevice },
  '/sessions/remove': { POST: postRemoveSession },
  '/second-factor/disable': { POST: postDisableSecondFactor },
};

/** `/_gateway/account...`: the signed-in user's methods, trusted devices and sessions. */
export async function handleAccount(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string): Promise<void> {
  const route = routes[rest];
  if (!route) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const handler = route[method as 'GET' | 'POST'];
  if (!handler) {
    res.setHeader('allow', Object.keys(route).join(', '));
    return sendError(req, res, 405, 'method_not_allowed', 'Method not allowed', ctx.requestId);
  }
  return handler(gw, req, res, ctx);
}

async function getAccount(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const access = await accountAccess(gw, req);
  if ('redirect' in access) return seeOther(res, access.redirect);
  const notice = new URLSearchParams(ctx.query).get('notice');
  const model = await accountModel(gw, req, access.s, access.user, notice && NOTICES.has(notice) ? notice : undefined);
  renderPage(res, 200, accountPage(sessionView(gw, req, access.s.session), model));
}
