import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ClientInfo } from '../http/client.js';
import { removeCookies } from '../http/cookies.js';
import type { Upstream } from './router.js';

/** Hop-by-hop and framing headers never copied from the client (RFC 9110 §7.6.1), plus those the gateway sets. */
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'forwarded',
  'x-real-ip',
  'x-request-id',
]);

const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate']);

/** Lower case with `_` read as `-`: `REMOTE_USER` and `Remote-User` are the same name. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.indexOf('_') === -1 ? lower : lower.replaceAll('_', '-');
}

const setCache = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The canonical names of a list, cached per list object (pass the same frozen array each time). */
function canonicalSet(names: readonly string[]): ReadonlySet<string> {
  let set = setCache.get(names);
  if (!set) {
    set = new Set(names.map(canonicalName));
    setCache.set(names, set);
  }
  return set;
}

export interface RequestHeaderSpec {
  upstream: Upstream;
  requestId: string;
  client: ClientInfo;
  /** Set after stripping (identity headers). */
  setHeaders: Readonly<Record<string, string>>;
  /** Client headers to drop in any case and with `_` for `-` (identity headers, the API-key header…). */
  stripHeaders: readonly string[];
  /** Cookies to remove from Cookie (the session and device cookies). */
  stripCookies: readonly string[];
}

/**
 * The request head for the upstream as a flat `[name, value, …]` list, built in one pass over the
 * client's raw headers: hop-by-hop headers (and those listed in Connection) dropped, client-sent
 * X-Forwarded-*, Forwarded, X-Real-IP, X-Request-Id, every `stripHeaders` name and every `setHeaders`
 * name dropped (`_`/`-` and case variants included), `stripCookies` removed from Cookie, then Host,
 * X-Forwarded-For/-Proto/-Host, X-Real-IP, X-Request-Id and `setHeaders` set. With `upgrade` the
 * WebSocket handshake's `Connection: Upgrade` and `Upgrade` are kept.
 */
export function buildRequestHeaders(rawHeaders: readonly string[], spec: RequestHeaderSpec, upgrade = false): string[] {
  const strip = canonicalSet(spec.stripHeaders);
  const setKeys = Object.keys(spec.setHeaders);
  let listed: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).length === 10 && (rawHeaders[i] as string).toLowerCase() === 'connection') {
      for (const token of (rawHeaders[i + 1] as string).split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (listed ??= new Set()).add(canonicalName(t));
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower) || lower.startsWith('proxy-') || lower.startsWith('x-forwarded-')) continue;
    const canon = lower.indexOf('_') === -1 ? lower : lower.replaceAll('_', '-');
    if (strip.has(canon) || (listed !== undefined && listed.has(canon))) continue;
    if (setKeys.length !== 0 && isSetName(canon, setKeys)) continue;
    let value = rawHeaders[i + 1] as string;
    if (lower === 'cookie' && spec.stripCookies.length !== 0) {
      const kept = removeCookies(value, spec.stripCookies);
      if (kept === undefined) continue;
      value = kept;
    }
    out.push(name, value);
  }
  const { upstream, client } = spec;
  out.push('host', upstream.preserveHost && client.host !== '' ? client.host : upstream.hostHeader);
  if (upgrade) out.push('connection', 'Upgrade', 'upgrade', 'websocket');
  out.push('x-forwarded-for', client.forwardedFor, 'x-forwarded-proto', client.proto, 'x-real-ip', client.ip, 'x-request-id', spec.requestId);
  if (client.host !== '') out.push('x-forwarded-host', client.host);
  for (const k of setKeys) out.push(k, spec.setHeaders[k] as string);
  return out;
}

function isSetName(canon: string, setKeys: readonly string[]): boolean {
  for (const k of setKeys) if (k.length === canon.length && canonicalName(k) === canon) return true;
  return false;
}

/**
 * The upstream response head without hop-by-hop headers (and those its Connection lists). Multiple
 * Set-Cookie stay an array. `added` (`[lower-case name, value, …]`: the gateway's own answer headers) are
 * added where the upstream did not send that name.
 */
export function filterResponseHeaders(headers: IncomingHttpHeaders, added?: readonly string[]): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const conn = headers.connection;
  const listed = typeof conn === 'string' && conn.includes(',') ? new Set(conn.split(',').map((t) => t.trim().toLowerCase())) : conn ? new Set([conn.trim().toLowerCase()]) : undefined;
  for (const key in headers) {
    if (DROP_RESPONSE.has(key) || (listed !== undefined && listed.has(key))) continue;
    out[key] = headers[key];
  }
  if (added) {
    for (let i = 0; i < added.length; i += 2) {
      const name = added[i] as string;
      if (out[name] === undefined) out[name] = added[i + 1];
    }
  }
  return out;
}

/** Sets `[name, value, …]` pairs on a response the gateway answers itself (a refusal, a 502/504). */
export function setAnswerHeaders(res: ServerResponse, headers: readonly string[] | undefined): void {
  if (headers) for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i] as string, headers[i + 1] as string);
}
