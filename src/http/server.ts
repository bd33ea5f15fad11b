import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawAnswer } from './raw.js';

export interface HttpServerOptions {
  /** Largest request head in bytes; larger answers 431. */
  maxHeaderSize: number;
  /** Longest time a client may take to send the request head (ms); slowloris bound. */
  headerTimeout: number;
  /** Longest time for a whole request (ms); 0 = none (long uploads and streams). */
  requestTimeout: number;
  /** Idle keep-alive connections are closed after this (ms). */
  keepAliveTimeout: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** Handlers answer every failure themselves; a returned promise never rejects. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

interface Tracking {
  inFlight: Set<ServerResponse>;
  upgraded: Set<Duplex>;
  /** Every open connection (keep-alive ones between requests too). */
  connections: Set<Duplex>;
  draining: boolean;
  /** While draining: idle keep-alive connections are closed (the grace is over). */
  closingIdle: boolean;
  onIdle: (() => void) | undefined;
}

const TRACKING = Symbol('portcullis.tracking');
type TrackedServer = (http.Server | https.Server) & { [TRACKING]?: Tracking };

/**
 * An HTTP(S) server with the gateway's limits: header size (431), header and request timeouts
 * (checked every second at most), keep-alive timeout, and bookkeeping for `drain`.
 * `onUpgrade` owns the socket it is given; the server tracks it so `drain` can end it.
 */
export function createHttpServer(opts: HttpServerOptions, onRequest: RequestHandler, onUpgrade?: UpgradeHandler): http.Server | https.Server {
  const headersTimeout = opts.requestTimeout > 0 ? Math.min(opts.headerTimeout, opts.requestTimeout) : opts.headerTimeout;
  const serverOpts: http.ServerOptions = {
    maxHeaderSize: opts.maxHeaderSize,
    headersTimeout,
    requestTimeout: opts.requestTimeout,
    keepAliveTimeout: opts.keepAliveTimeout,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    noDelay: true,
    requireHostHeader: false,
  };
  const tracking: Tracking = { inFlight: new Set(), upgraded: new Set(), connections: new Set(), draining: false, closingIdle: false, onIdle: undefined };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    tracking.inFlight.add(res);
    res.once('close', () => {
      tracking.inFlight.delete(res);
      if (tracking.draining) {
        if (tracking.closingIdle) server.closeIdleConnections();
        checkIdle(tracking);
      }
    });
    if (tracking.draining) res.setHeader('Connection', 'close');
    void onRequest(req, res);
  };

  const server: TrackedServer = opts.tls
    ? https.createServer({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key }, handleRequest)
    : http.createServer(serverOpts, handleRequest);
  server[TRACKING] = tracking;
  server.on('connection', (socket: Duplex) => {
    tracking.connections.add(socket);
    socket.once('close', () => {
      tracking.connections.delete(socket);
      checkIdle(tracking);
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = http.STATUS_CODES[status] ?? 'Bad Request';
    rawAnswer(socket, status, JSON.stringify({ error: status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request', message: reason }));
    setTimeout(() => socket.destroy(), 1000).unref();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (tracking.draining || !onUpgrade) {
      socket.on('error', () => undefined);
      rawAnswer(socket, 503);
      return;
    }
    tracking.upgraded.add(socket);
    socket.once('close', () => {
      tracking.upgraded.delete(socket);
      checkIdle(tracking);
    });
    void onUpgrade(req, socket, head);
  });
  return server;
}

function checkIdle(tracking: Tracking): void {
  if (!tracking.draining || tracking.inFlight.size > 0 || tracking.upgraded.size > 0) return;
  if (tracking.closingIdle || tracking.connections.size === 0) tracking.onIdle?.();
}

/**
 * Stops accepting connections, lets in-flight requests (and upgraded sockets) finish for at most
 * `timeoutMs` and destroys whatever is left at the end. Answers given while draining carry
 * `Connection: close`. Idle keep-alive connections are kept for `keepAliveGraceMs` (0: closed at once):
 * a client that writes its next request into one gets it answered — closing an idle HTTP/1.1 connection
 * races the request the client may be writing into it at that instant, which is then lost.
 */
export function drain(server: http.Server | https.Server, timeoutMs: number, keepAliveGraceMs = 0): Promise<void> {
  const tracking = (server as TrackedServer)[TRACKING];
  return new Promise<void>((resolve) => {
    let done = false;
    let closed = !server.listening;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      server.closeAllConnections();
      if (tracking) for (const socket of tracking.upgraded) socket.destroy();
      if (closed) resolve();
      else server.once('close', () => resolve());
    };
    const timer = setTimeout(finish, Math.max(0, timeoutMs));
    timer.unref();
    let grace: NodeJS.Timeout | undefined;
    const keepIdle = tracking !== undefined && keepAliveGraceMs > 0 && keepAliveGraceMs < timeoutMs;
    if (server.listening) {
      const onClosed = (): void => {
        closed = true;
      };
      if (keepIdle) {
        // http.Server#close closes idle connections as well (Node >= 19); here they stay for the grace.
        // An own no-op shadows the prototype's method for that one call.
        Object.defineProperty(server, 'closeIdleConnections', { value: () => undefined, configurable: true });
        try {
          server.close(onClosed);
        } finally {
          Reflect.deleteProperty(server, 'closeIdleConnections');
        }
      } else server.close(onClosed);
    }
    if (!tracking) {
      server.closeIdleConnections();
      return;
    }
    tracking.draining = true;
    tracking.onIdle = finish;
    for (const res of tracking.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closeIdle = (): void => {
      tracking.closingIdle = true;
      server.closeIdleConnections();
      checkIdle(tracking);
    };
    if (keepIdle) {
      grace = setTimeout(closeIdle, keepAliveGraceMs);
      grace.unref();
      checkIdle(tracking);
    } else closeIdle();
  });
}
