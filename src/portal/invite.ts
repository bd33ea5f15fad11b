import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { sendError } from '../http/respond.js';

// PLACEHOLDER: replaced by the invite flow (wave 2).
export async function handleInvite(_gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, _rest: string): Promise<void> {
  sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
}
