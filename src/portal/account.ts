import type { IncomingMessage, ServerResponse } from 'node:http';
import { dispatchTable, type MethodTable } from './dispatch.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { postDisableSecondFactor, postRemoveDevice, postRemoveMethod, postRemoveSession } from './account-actions.js';
import { accountAccess, accountModel, NOTICES } from './account-model.js';
import { sessionView } from './enroll-session.js';
import { renderPage, seeOther } from './page.js';
import { accountPage } from './views/account.js';

const routes: Record<string, MethodTable> = {
  '': { GET: getAccount },
  '/': { GET: getAccount },
  '/methods/remove': { POST: postRemoveMethod },
  '/devices/remove': { POST: postRemoveDevice },
  '/sessions/remove': { POST: postRemoveSession },
  '/second-factor/disable': { POST: postDisableSecondFactor },
};

/** `/_gateway/account...`: the signed-in user's methods, trusted devices and sessions. */
export const handleAccount = dispatchTable(routes);

async function getAccount(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const access = await accountAccess(gw, req);
  if ('redirect' in access) return seeOther(res, access.redirect);
  const notice = new URLSearchParams(ctx.query).get('notice');
  const model = await accountModel(gw, req, access.s, access.user, notice && NOTICES.has(notice) ? notice : undefined);
  renderPage(res, 200, accountPage(sessionView(gw, req, access.s.session), model));
}
