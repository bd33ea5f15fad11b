import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { sendError } from '../http/respond.js';

// PLACEHOLDER: replaced by the account flow (wave 2).
export async function handleAccount(_gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, _rest: string): Promise<void> {
  sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
}
