import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawAnswer } from '../http/raw.js';
import type { ProxyContext } from './context.js';
import { buildRequestHeaders } from './headers.js';
import { FrameBoundary, closeWebSocket } from './ws-frames.js';

const HOP_BY_HOP_101 = new Set(['keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding']);

/** Refuses an upgrade on the raw socket: a small JSON answer, then the socket is closed. */
export function rejectUpgrade(_req: IncomingMessage, socket: Duplex, status: number, code: string, message: string, requestId: string): void {
  rawAnswer(socket, status, JSON.stringify({ error: code, message, request_id: requestId }), { 'X-Request-Id': requestId });
}

/** WebSocket close code for a gateway that is shutting down (RFC 6455 §7.4.1: going away). */
export const GOING_AWAY_CLOSE_CODE = 1001;

/**
 * The proxied WebSockets open in this process, with how the gateway closes each (a close frame between
 * two upstream frames). Every compiled config's proxy shares one, so a shutdown reaches the WebSockets
 * opened before a reload too.
 */
export class OpenWebSockets {
  private readonly open = new Map<Duplex, (code: number, reason: string) => void>();

  get size(): number {
    return this.open.size;
  }

  add(client: Duplex, close: (code: number, reason: string) => void): void {
    this.open.set(client, close);
  }

  delete(client: Duplex): void {
    this.open.delete(client);
  }

  /**
   * A drain begins: every WebSocket gets a close frame with 1001 ("going away"), so its client reconnects
   * — to another instance — while this one still serves, instead of being cut when the drain ends.
   * Answers how many were closed.
   */
  goAway(): number {
    const closers = [...this.open.values()];
    this.open.clear();
    for (const close of closers) close(GOING_AWAY_CLOSE_CODE, 'server shutting down');
    return closers.length;
  }

  /** Ends every one at once (the end of a drain). */
  destroyAll(): void {
    for (const s of this.open.keys()) s.destroy();
    this.open.clear();
  }
}

/**
 * WebSocket proxying with node:http: the handshake goes upstream with the same header hygiene as
 * HTTP requests, a 101 is relayed and both sockets are piped; a non-101 answer is relayed as is.
 */
export class WebSocketProxy {
  constructor(private readonly sockets: OpenWebSockets = new OpenWebSockets()) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ProxyContext): void {
    const { upstream } = ctx;
    let settled = false;
    const fail = (status: number): void => {
      if (settled) return;
      settled = true;
      const timeout = status === 504;
      rejectUpgrade(req, socket, status, timeout ? 'upstream_timeout' : 'upstream_unavailable', timeout ? 'The application did not answer in time' : 'The application is unavailable', ctx.requestId);
      ctx.onDone?.(status);
    };
    socket.on('error', () => socket.destroy());
    if (!upstream.websocket) {
      settled = true;
      rejectUpgrade(req, socket, 403, 'websocket_not_allowed', 'WebSockets are not enabled for this application', ctx.requestId);
      ctx.onDone?.(403);
      return;
    }
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      settled = true;
      rejectUpgrade(req, socket, 400, 'bad_request', 'Only WebSocket upgrades are supported', ctx.requestId);
      ctx.onDone?.(400);
      return;
    }
    const headers = buildRequestHeaders(req.rawHeaders, ctx, true);
    const proxyReq = (upstream.secure ? https : http).request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: ctx.path,
      headers,
      agent: false,
      setHost: false,
      servername: upstream.secure ? upstream.hostname : undefined,
    });
    const timers: NodeJS.Timeout[] = [];
    const clearTimers = (): void => {
      for (const t of timers) clearTimeout(t);
    };
    if (upstream.timeouts.connect > 0) {
      proxyReq.on('socket', (s: Socket) => {
        const t = setTimeout(() => {
          fail(504);
          proxyReq.destroy();
        }, upstream.timeouts.connect);
        timers.push(t);
        s.once('connect', () => clearTimeout(t));
      });
    }
    if (upstream.timeouts.responseHeaders > 0) {
      timers.push(
        setTimeout(() => {
          fail(504);
          proxyReq.destroy();
        }, upstream.timeouts.responseHeaders),
      );
    }
    proxyReq.on('error', () => {
      clearTimers();
      fail(502);
    });
    socket.once('close', () => {
      if (!settled) {
        settled = true;
        clearTimers();
        proxyReq.destroy();
        ctx.onDone?.(0);
      }
    });

    proxyReq.on('response', (pres: IncomingMessage) => {
      // The upstream refused the upgrade: relay its answer and close.
      clearTimers();
      if (settled) {
        pres.destroy();
        return;
      }
      settled = true;
      let head = `HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}\r\n`;
      for (let i = 0; i < pres.rawHeaders.length; i += 2) {
        const name = (pres.rawHeaders[i] as string).toLowerCase();
        if (name === 'connection' || name === 'transfer-encoding' || HOP_BY_HOP_101.has(name)) continue;
        head += `${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}\r\n`;
      }
      socket.write(head + 'Connection: close\r\n\r\n');
      pres.on('error', () => socket.destroy());
      pres.pipe(socket);
      ctx.onDone?.(pres.statusCode ?? 502);
    });

    proxyReq.on('upgrade', (pres: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      clearTimers();
      upSocket.on('error', () => upSocket.destroy());
      if (settled) {
        upSocket.destroy();
        return;
      }
      settled = true;
      let reply = `HTTP/1.1 101 ${pres.statusMessage || 'Switching Protocols'}\r\n`;
      for (let i = 0; i < pres.rawHeaders.length; i += 2) {
        if (HOP_BY_HOP_101.has((pres.rawHeaders[i] as string).toLowerCase())) continue;
        reply += `${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}\r\n`;
      }
      socket.write(reply + '\r\n');
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      const close = this.join(socket, upSocket, upstream.timeouts.idle, upHead);
      ctx.onWebSocketOpen?.(close);
      ctx.onDone?.(101);
    });
    proxyReq.end();
  }

  /**
   * Pipes two sockets both ways; either side closing or failing (or an idle timeout) ends both. Answers
   * how the gateway closes the pair itself: a close frame to the client between two upstream frames.
   */
  private join(client: Duplex, up: Socket, idleMs: number, upHead: Buffer): (code: number, reason: string) => void {
    const clientSocket = client as Socket;
    clientSocket.setNoDelay?.(true);
    up.setNoDelay(true);
    clientSocket.setTimeout?.(0);
    up.setTimeout(0);
    if (idleMs > 0) {
      clientSocket.setTimeout?.(idleMs, () => client.destroy());
      up.setTimeout(idleMs, () => up.destroy());
    }
    const end = (): void => {
      this.sockets.delete(client);
      client.destroy();
      up.destroy();
    };
    client.once('close', end);
    up.once('close', end);
    const boundary = new FrameBoundary();
    boundary.feed(upHead); // bytes of the upstream's that arrived with its 101, already sent to the client
    const track = (chunk: Buffer): void => boundary.feed(chunk);
    up.on('data', track);
    up.pipe(client);
    client.pipe(up);
    const close = (code: number, reason: string): void => {
      this.sockets.delete(client);
      up.off('data', track);
      // The upstream is cut first: that must not destroy the client before the close frame is out.
      up.off('close', end);
      closeWebSocket(client, up, boundary, code, reason);
    };
    this.sockets.add(client, close);
    return close;
  }

  /** Ends every proxied WebSocket. */
  closeAll(): void {
    this.sockets.destroyAll();
  }
}
