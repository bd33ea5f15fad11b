import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { normalizeIp, type NetworkSet } from '../util/net.js';

/** Who is on the other end, as far as the gateway can believe it. */
export interface ClientInfo {
  /** The client address (the socket peer, or from X-Forwarded-For when the peer is a trusted proxy). */
  ip: string;
  /** The X-Forwarded-For value to send upstream: the peer alone, or from a trusted proxy its list then the peer. */
  forwardedFor: string;
  proto: 'http' | 'https';
  /** The request's host with port, as the client addressed it ('' when missing or malformed). */
  host: string;
}

const MAX_XFF_ENTRIES = 32;
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]{1,253})(?::\d{1,5})?$/;

/**
 * Resolves the client from the socket and, only when the socket peer is in `trusted`, from
 * X-Forwarded-For/-Proto/-Host. X-Forwarded-For is walked right to left, skipping trusted hops.
 */
export function resolveClient(req: IncomingMessage, trusted: NetworkSet): ClientInfo {
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  const tls = (req.socket as TLSSocket).encrypted === true;
  const ownHost = validHost(req.headers.host);
  if (trusted.size === 0 || !trusted.has(peer)) {
    return { ip: peer, forwardedFor: peer, proto: tls ? 'https' : 'http', host: ownHost };
  }
  const list = forwardedList(req.headers['x-forwarded-for']);
  let ip = peer;
  for (let i = list.length - 1; i >= 0; i--) {
    ip = list[i] as string;
    if (!trusted.has(ip)) break;
  }
  const forwardedFor = list.length === 0 ? peer : `${list.join(', ')}, ${peer}`;
  const fproto = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase();
  const proto = fproto === 'https' || fproto === 'http' ? fproto : tls ? 'https' : 'http';
  const fhost = firstValue(req.headers['x-forwarded-host']);
  const host = fhost !== undefined ? validHost(fhost) || ownHost : ownHost;
  return { ip, forwardedFor, proto, host };
}

/** The valid IP addresses of an X-Forwarded-For header (possibly repeated), left to right, bounded. */
function forwardedList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const out: string[] = [];
  for (const part of text.split(',')) {
    const ip = normalizeIp(stripPort(part.trim()));
    if (isIP(ip) !== 0) out.push(ip);
  }
  return out.length > MAX_XFF_ENTRIES ? out.slice(out.length - MAX_XFF_ENTRIES) : out;
}

/** `[2001:db8::1]:443` → `2001:db8::1`, `10.0.0.1:80` → `10.0.0.1`; plain addresses unchanged. */
function stripPort(value: string): string {
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 0 ? value.slice(1, end) : value;
  }
  const colon = value.indexOf(':');
  if (colon > 0 && value.indexOf(':', colon + 1) === -1) return value.slice(0, colon);
  return value;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const comma = text.indexOf(',');
  const first = (comma === -1 ? text : text.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

function validHost(value: string | undefined): string {
  return value !== undefined && value.length <= 260 && HOST_RE.test(value) ? value : '';
}
