import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../http/respond.js';
import { isPlainAuthority, splitAbsoluteForm } from '../policy/normalize.js';
import { normalizeForRules } from '../policy/readings.js';
import { authorize } from './authorize.js';
import { hostnameOf, type RequestContext } from './context.js';
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

/**
 * The request the front proxy is asking about: nginx `X-Original-*` or Traefik/Caddy `X-Forwarded-*`.
 * `X-Original-URL` is a full URL (`$scheme://$http_host$request_uri`) or a bare path (then the host and
 * scheme are the forwarded ones). The path is taken exactly as sent — never through `new URL()`, which
 * would resolve `/public//../admin` to `/public/admin` before the checks see it.
 */
function originalRequest(req: IncomingMessage, ctx: RequestContext): Original | undefined {
  const url = header(req, 'x-original-url');
  if (url) {
    const method = (header(req, 'x-original-method') ?? 'GET').toUpperCase();
    if (url[0] === '/') return { method, proto: ctx.client.proto, host: ctx.client.host, uri: url };
    const abs = splitAbsoluteForm(url);
    if (!abs.ok) return undefined;
    return { method, proto: abs.scheme, host: abs.authority, uri: abs.target };
  }
  const uri = header(req, 'x-forwarded-uri');
  const host = header(req, 'x-forwarded-host');
  if (uri === undefined && host === undefined) return undefined;
  if (host !== undefined && !isPlainAuthority(host)) return undefined; // `open.example.com:80@evil.com` is no host
  const proto = header(req, 'x-forwarded-proto');
  return {
    method: (header(req, 'x-forwarded-method') ?? 'GET').toUpperCase(),
    proto: proto === 'https' ? 'https' : proto === 'http' ? 'http' : ctx.client.proto,
    host: host ?? ctx.client.host,
    uri: uri ?? '/',
  };
}

/**
 * `GET /_gateway/authz` (nginx auth_request: 2xx/401/403 only, the portal URL in `Location` on 401) and
 * `/_gateway/authz/forward-auth` (Traefik/Caddy: browser navigations get a 302 to the portal).
 * Same rules, sessions and API clients as the built-in proxy.
 */
export async function forwardAuth(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, mode: 'nginx' | 'redirect'): Promise<void> {
  const peer = req.socket.remoteAddress;
  if (!gw.compiled.trusted.has(peer)) return sendError(req, res, 403, 'untrusted_forwarder', 'Forward-auth requests are accepted only from server.trusted_proxies', ctx.requestId);
  const original = originalRequest(req, ctx);
  if (!original) return sendError(req, res, 400, 'bad_request', 'Missing or malformed X-Original-URL or X-Forwarded-Uri/-Host', ctx.requestId);
  const hostname = hostnameOf(original.host);
  // The front proxy forwards the path as sent: every plausible reading of it must fall under the same rules (SPEC §3).
  const norm = original.uri[0] === '/' ? normalizeForRules(original.uri, gw.compiled.access, 'as-sent', hostname) : undefined;
  if (!norm?.ok) return sendError(req, res, 400, 'bad_path', 'The request path cannot be handled safely', ctx.requestId);
  const result = await authorize(gw, { headers: req.headers, host: hostname, path: norm.path, method: original.method, clientIp: ctx.client.ip, upstream: undefined });
  if (result.kind === 'allow') {
    const headers = result.subject ? await gw.compiled.identity.headers(result.subject, gw.services.clock.now()) : {};
    res.writeHead(200, { ...headers, 'cache-control': 'no-store', 'content-length': '0' });
    return void res.end();
  }
  const prefix = gw.compiled.prefix;
  const rd = encodeURIComponent(`${original.proto}://${original.host}${norm.forward}`);
  const base = `${original.proto}://${original.host}${prefix}`;
  const browser = (original.method === 'GET' || original.method === 'HEAD') && String(req.headers.accept ?? '').includes('text/html');
  switch (result.kind) {
    case 'deny':
      return sendError(req, res, 403, 'forbidden', 'Access denied', ctx.requestId);
    case 'client_denied':
      if (result.retryAfter) res.setHeader('retry-after', String(Math.ceil(result.retryAfter / 1000)));
      return sendError(req, res, result.status === 429 ? 403 : result.status, result.status === 429 ? 'rate_limited' : 'unauthenticated', result.reason, ctx.requestId);
    case 'unavailable':
      // auth_request only passes 2xx/401/403 on; anything else becomes a 500 at nginx. Fail closed.
      return sendError(req, res, mode === 'nginx' ? 403 : 503, 'store_unavailable', 'Service temporarily unavailable', ctx.requestId);
    default: {
      const location = result.kind === 'unauthenticated' ? `${base}/login?rd=${rd}` : result.kind === 'reauth' ? `${base}/verify?step_up=1&rd=${rd}` : `${base}/verify?rd=${rd}`;
      if (mode === 'redirect' && browser) {
        res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': '0' });
        return void res.end();
      }
      res.setHeader('location', location);
      res.setHeader('www-authenticate', 'Bearer realm="portcullis"');
      return sendError(req, res, 401, result.kind === 'unauthenticated' ? 'unauthenticated' : result.kind === 'reauth' ? 'reauthentication_required' : 'second_factor_required', 'Authentication required', ctx.requestId);
    }
  }
}
