import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleApi } from '../api/v1.js';
import { forwardAuth } from '../gateway/forward-auth.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { sendError, sendJson } from '../http/respond.js';
import { serveAsset } from './static/assets.js';
import { dispatchTable, type MethodTable } from './dispatch.js';
import { getLogin, getVerify, postLogin, postLogout, postVerify } from './signin.js';
import { handleAccount } from './account.js';
import { handleEnroll } from './enroll.js';
import { handleRecover } from './recover.js';
import { handleInvite } from './invite.js';

type Handler = (gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, rest: string) => Promise<void> | void;

/** One path's handlers by method (405 for the others), through the portal's shared dispatcher. */
function byMethod(handlers: MethodTable): Handler {
  const table = dispatchTable({ '': handlers });
  return (gw, req, res, ctx) => table(gw, req, res, ctx, '');
}

const exact: Record<string, Handler> = {
  '': (gw, _req, res) => {
    res.writeHead(302, { location: `${gw.compiled.prefix}/account`, 'content-length': '0' });
    res.end();
  },
  '/login': byMethod({ GET: getLogin, POST: postLogin }),
  '/verify': byMethod({ GET: getVerify, POST: (gw, req, res, ctx) => postVerify(gw, req, res, ctx, false) }),
  '/verify/resend': byMethod({ POST: (gw, req, res, ctx) => postVerify(gw, req, res, ctx, true) }),
  '/logout': byMethod({ POST: postLogout }),
  '/.well-known/jwks.json': byMethod({
    GET: async (gw, _req, res) => sendJson(res, 200, await gw.compiled.identity.jwks(), { 'cache-control': 'public, max-age=300' }),
  }),
  '/authz': (gw, req, res, ctx) => forwardAuth(gw, req, res, ctx, 'nginx'),
  '/authz/forward-auth': (gw, req, res, ctx) => forwardAuth(gw, req, res, ctx, 'redirect'),
  '/dev/outbox': byMethod({
    GET: (gw, req, res, ctx) => {
      if (!gw.services.demo || !gw.services.outbox) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
      sendJson(res, 200, { messages: gw.services.outbox.list() });
    },
  }),
};

const prefixed: Array<[string, Handler]> = [
  ['/api/v1/', (gw, req, res, ctx, rest) => handleApi(gw, req, res, ctx, rest)],
  ['/static/', (_gw, req, res, ctx, rest) => {
    const asset = serveAsset(rest);
    if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) return sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { etag: asset.etag });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': asset.type, etag: asset.etag, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(asset.body) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }],
  ['/enroll', handleEnroll],
  ['/account', handleAccount],
  ['/recover', handleRecover],
  ['/invite/', handleInvite],
];

/** Everything under `portal_prefix`: pages, the JSON API, forward-auth, assets. */
export async function handlePortal(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const sub = ctx.path.slice(gw.compiled.prefix.length);
  const handler = exact[sub];
  if (handler) return handler(gw, req, res, ctx, '');
  for (const [p, h] of prefixed) {
    if (sub.startsWith(p) || sub === p.replace(/\/$/, '')) return h(gw, req, res, ctx, sub.slice(p.length));
  }
  sendError(req, res, 404, 'not_found', 'Not found', ctx.requestId);
}
