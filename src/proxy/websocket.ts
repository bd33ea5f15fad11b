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

/**
 * WebSocket proxying with node:http: the handshake goes upstream with the same header hygiene as
 * HTTP requests, a 101 is relayed and both sockets are piped; a non-101 answer is relayed as is.
 */
export class WebSocketProxy {
  private readonly sockets = new Set<Duplex>();

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
    this.sockets.add(client);
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
    return (code, reason) => {
      up.off('data', track);
      // The upstream is cut first: that must not destroy the client before the close frame is out.
      up.off('close', end);
      closeWebSocket(client, up, boundary, code, reason);
    };
  }

  /** Ends every proxied WebSocket. */
  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
