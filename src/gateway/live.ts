import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AccessResult } from '../auth/access.js';
import type { ProxyContext } from '../proxy/context.js';
import type { Gateway } from './runtime.js';

/** WebSocket close code for a session that ended (RFC 6455 §7.4.1: policy violation). */
export const SESSION_ENDED_CLOSE_CODE = 1008;

type Allowed = Extract<AccessResult, { kind: 'allow' }>;

/**
 * A proxied response that a session opened (a page, or a stream that runs for hours: MJPEG, SSE, long
 * poll, chunked download) is registered until it ends, so that ending the session closes it. The caller
 * calls the returned release once the response ended (the proxy's `onDone`); undefined without a session.
 */
export function trackResponse(gw: Gateway, result: Allowed, res: ServerResponse): (() => void) | undefined {
  const found = result.session;
  if (!found) return undefined;
  return gw.core.connections.open({ ref: found.ref, user: found.session.user, expiresAt: found.session.expiresAt, lastSeenAt: found.session.lastSeenAt }, 'stream', () => res.destroy()).release;
}

/** The same for a WebSocket: destroyed during the handshake, closed with 1008 once open. */
export function trackUpgrade(gw: Gateway, result: Allowed, socket: Duplex, ctx: ProxyContext): void {
  const found = result.session;
  if (!found) return;
  const handle = gw.core.connections.open({ ref: found.ref, user: found.session.user, expiresAt: found.session.expiresAt, lastSeenAt: found.session.lastSeenAt }, 'websocket', () => socket.destroy());
  socket.once('close', handle.release);
  ctx.onWebSocketOpen = (close) => handle.setCloser(() => close(SESSION_ENDED_CLOSE_CODE, 'session ended'));
}
