import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostnameOf, type RequestContext } from '../http/context.js';
import { sendError } from '../http/respond.js';
import { normalizePath } from '../policy/normalize.js';
import { answerFor, writeAnswer } from './refusal.js';
import type { Gateway } from './runtime.js';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.length <= 8192 ? s : undefined;
}

interface Original {
  method: string;
  proto: 'http' | 'https';
  host: string;
  uri: string;
}

/** The request the front proxy is asking about: nginx `X-Original-*` or Traefik/Caddy `X-Forwarded-*`. */
function originalRequest(req: IncomingMessage, ctx: RequestContext): Original | undefined {
  const url = header(req, 'x-original-url');
  if (url) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
      return { method: (header(req, 'x-original-method') ?? 'GET').toUpperCase(), proto: u.protocol === 'https:' ? 'https' : 'http', host: u.host, uri: `${u.pathname}${u.search}` };
    } catch {
      return undefined;
    }
  }
  const uri = header(req, 'x-forwarded-uri');
  const host = header(req, 'x-forwarded-host');
  if (uri === undefined && host === undefined) return undefined;
  const proto = header(req, 'x-forwarded-proto');
  return {
    method: (header(req, 'x-forwarded-method') ?? 'GET').toUpperCase(),
    proto: proto === 'https' ? 'https' : proto === 'http' ? 'http' : ctx.client.proto,
    host: host ?? ctx.client.host,
    uri: uri ?? '/',
  };
}

/**
 * `GET /_gateway/authz` (nginx auth_request: the portal URL in `Location` on 401) and
 * `/_gateway/authz/forward-auth` (Traefik/Caddy: browser navigations get a 302 to the portal).
 * Same rules, sessions and API clients as the built-in proxy, and the same refusal mapping.
 */
export async function forwardAuth(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, mode: 'authz' | 'forward-auth'): Promise<void> {
  const peer = req.socket.remoteAddress;
  if (!gw.compiled.trusted.has(peer)) return sendError(req, res, 403, 'untrusted_forwarder', 'Forward-auth requests are accepted only from server.trusted_proxies', ctx.requestId);
  const original = originalRequest(req, ctx);
  if (!original) return sendError(req, res, 400, 'bad_request', 'Missing X-Original-URL or X-Forwarded-Uri/-Host', ctx.requestId);
  const norm = normalizePath(original.uri, { caseInsensitive: gw.config.access.case_insensitive_paths });
  if (!norm.ok) return sendError(req, res, 403, 'bad_path', 'The request path cannot be handled safely', ctx.requestId);
  const hostname = hostnameOf(original.host);
  const result = await gw.compiled.access.decide({ headers: req.headers, host: hostname, path: norm.path, method: original.method, clientIp: ctx.client.ip, upstream: undefined, requestId: ctx.requestId });
  if (result.kind === 'allow') {
    const headers = result.subject ? await gw.compiled.identity.headers(result.subject, gw.core.clock.now()) : {};
    res.writeHead(200, { ...headers, 'cache-control': 'no-store', 'content-length': '0' });
    return void res.end();
  }
  // The sign-in link is built from the configured public URL (or a configured host), never from the
  // forwarded Host alone: a forged header must not send a user to someone else's portal.
  const base = gw.publicBase(original.host, original.proto) ?? '';
  const browser = (original.method === 'GET' || original.method === 'HEAD') && String(req.headers.accept ?? '').includes('text/html');
  const answer = answerFor(result, mode, { browser, original: `${original.proto}://${original.host}${norm.forward}`, portal: `${base}${gw.prefix}` });
  writeAnswer(req, res, answer, ctx.requestId);
}
