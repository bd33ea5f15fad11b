import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostnameOf, type RequestContext } from '../http/context.js';
import { sendError } from '../http/respond.js';
import { isPlainAuthority, splitAbsoluteForm } from '../policy/normalize.js';
import { originVerdict } from '../policy/origin.js';
import { normalizeForRules } from '../policy/readings.js';
import { answerFor, writeAnswer } from './refusal.js';
import type { Gateway } from './runtime.js';

/** No identity: nothing to set (shared, never written to). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

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
 * The request the front proxy is asking about. `/authz` (nginx, ingress-nginx) reads only `X-Original-*`;
 * `/authz/forward-auth` (Traefik, Caddy) reads only `X-Forwarded-*`: a client-sent `X-Original-URL` that
 * Traefik passes on must not choose the path the decision is made for. `X-Original-URL` is a full URL
 * (`$scheme://$http_host$request_uri`) or a bare path (then the host and scheme are the forwarded ones).
 * The path is taken exactly as sent — never through `new URL()`, which would resolve `/public//../admin`
 * to `/public/admin` before the checks see it.
 */
function originalRequest(req: IncomingMessage, ctx: RequestContext, mode: 'authz' | 'forward-auth'): Original | undefined {
  if (mode === 'authz') {
    const url = header(req, 'x-original-url');
    if (!url) return undefined;
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
 * `GET /_gateway/authz` (nginx auth_request: the portal URL in `Location` on 401) and
 * `/_gateway/authz/forward-auth` (Traefik/Caddy: browser navigations get a 302 to the portal).
 * Same rules, sessions and API clients as the built-in proxy, and the same refusal mapping.
 */
export async function forwardAuth(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, mode: 'authz' | 'forward-auth'): Promise<void> {
  const peer = req.socket.remoteAddress;
  if (!gw.compiled.trusted.has(peer)) return sendError(req, res, 403, 'untrusted_forwarder', 'Forward-auth requests are accepted only from server.trusted_proxies', ctx.requestId, undefined, gw.errorPages);
  const original = originalRequest(req, ctx, mode);
  if (!original) return sendError(req, res, 400, 'bad_request', mode === 'authz' ? 'Missing or malformed X-Original-URL' : 'Missing or malformed X-Forwarded-Uri/-Host', ctx.requestId, undefined, gw.errorPages);
  const hostname = hostnameOf(original.host);
  // The front proxy forwards the path as sent: every plausible reading of it must fall under the same rules (SPEC §3).
  const norm = original.uri[0] === '/' ? normalizeForRules(original.uri, gw.compiled.policy, 'as-sent', hostname) : undefined;
  if (!norm?.ok) return sendError(req, res, 400, 'bad_path', 'The request path cannot be handled safely', ctx.requestId, undefined, gw.errorPages);
  const result = await gw.compiled.access.decide({ headers: req.headers, host: hostname, path: norm.path, method: original.method, clientIp: ctx.client.ip, upstream: undefined, requestId: ctx.requestId });
  // A WebSocket handshake the session cookie authenticates needs an Origin the gateway serves, as at the
  // built-in proxy (the front proxy passes the client's Upgrade and Origin on to this check).
  if (result.kind === 'allow' && result.session && !result.session.viaBearer && result.decision.policy !== 'bypass' && String(req.headers.upgrade ?? '').toLowerCase() === 'websocket') {
    const c = gw.compiled;
    const verdict = originVerdict(req.headers, { requestOrigin: `${original.proto}://${original.host}`, servedOrigins: c.servedOrigins, servedHosts: c.servedHosts, allowedOrigins: c.allowedOrigins });
    if (req.headers.origin === undefined || verdict !== 'same') {
      gw.core.logger.warn({ request_id: ctx.requestId, origin: String(req.headers.origin ?? '').slice(0, 200) }, 'cross-origin WebSocket refused');
      return sendError(req, res, 403, 'cross_origin', 'This request did not come from a page of this site', ctx.requestId, undefined, gw.errorPages);
    }
  }
  if (result.kind === 'allow') {
    const headersMade = result.subject ? gw.compiled.identity.headers(result.subject, gw.core.clock.now()) : NO_HEADERS;
    const headers = headersMade instanceof Promise ? await headersMade : headersMade;
    res.writeHead(200, { ...headers, 'cache-control': 'no-store', 'content-length': '0' });
    return void res.end();
  }
  // The sign-in link is built from the configured public URL (or a configured host), never from the
  // forwarded Host alone: a forged header must not send a user to someone else's portal.
  const base = gw.publicBase(original.host, original.proto) ?? '';
  const browser = (original.method === 'GET' || original.method === 'HEAD') && String(req.headers.accept ?? '').includes('text/html');
  const answer = answerFor(result, mode, { browser, original: `${original.proto}://${original.host}${norm.forward}`, portal: `${base}${gw.prefix}` });
  writeAnswer(req, res, answer, ctx.requestId, gw.errorPages);
}
