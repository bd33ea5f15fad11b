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
  draining: boolean;
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
  const tracking: Tracking = { inFlight: new Set(), upgraded: new Set(), draining: false, onIdle: undefined };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    tracking.inFlight.add(res);
    res.once('close', () => {
      tracking.inFlight.delete(res);
      if (tracking.draining) {
        server.closeIdleConnections();
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
  if (tracking.draining && tracking.inFlight.size === 0 && tracking.upgraded.size === 0) tracking.onIdle?.();
}

/**
 * Stops accepting connections, lets in-flight requests (and upgraded sockets) finish for at most
 * `timeoutMs`, closes idle keep-alive connections at once and destroys whatever is left at the end.
 */
export function drain(server: http.Server | https.Server, timeoutMs: number): Promise<void> {
  const tracking = (server as TrackedServer)[TRACKING];
  return new Promise<void>((resolve) => {
    let done = false;
    let closed = !server.listening;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      server.closeAllConnections();
      if (tracking) for (const socket of tracking.upgraded) socket.destroy();
      if (closed) resolve();
      else server.once('close', () => resolve());
    };
    const timer = setTimeout(finish, Math.max(0, timeoutMs));
    timer.unref();
    if (server.listening) {
      server.close(() => {
        closed = true;
      });
    }
    server.closeIdleConnections();
    if (!tracking) return;
    tracking.draining = true;
    tracking.onIdle = finish;
    for (const res of tracking.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    checkIdle(tracking);
  });
}
