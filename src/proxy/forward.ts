import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { sendError, type ErrorPages } from '../http/respond.js';
import { buildRequestHeaders, filterResponseHeaders, setAnswerHeaders } from './headers.js';
import type { ProxyContext } from './context.js';
import { WebSocketProxy, type OpenWebSockets } from './websocket.js';

export type { ProxyContext } from './context.js';

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** A fresh abort reason each time (undici may annotate it); only on the rare abort path. */
function clientGone(): Error {
  return Object.assign(new Error('client closed the connection'), { code: 'PORTCULLIS_CLIENT_GONE' });
}

/** Forwards one request with undici, streaming both bodies with backpressure and no buffering. */
class WebHandler implements Dispatcher.DispatchHandler {
  private controller: DispatchController | undefined;
  private started = false;
  private finished = false;
  private clientGone = false;
  private status = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly ctx: ProxyContext,
    private readonly active: Set<WebHandler>,
    private readonly errorPages: ErrorPages | undefined,
  ) {
    active.add(this);
    res.on('close', this.onClientClose);
  }

  private readonly onDrain = (): void => {
    if (this.controller?.paused) this.controller.resume();
  };

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    // The client went away before the answer was complete: stop the upstream request too.
    this.clientGone = true;
    this.controller?.abort(clientGone());
    this.done(0);
  };

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(clientGone());
  }

  onResponseStart(controller: DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx informational answers are not relayed
    this.started = true;
    this.status = statusCode;
    try {
      this.res.writeHead(statusCode, statusMessage || undefined, filterResponseHeaders(headers, this.ctx.answerHeaders));
    } catch {
      // An upstream head Node refuses to send (bad characters): a clean 502 instead.
      this.started = false;
      controller.abort(new Error('invalid upstream response head'));
    }
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    let ok: boolean;
    try {
      ok = this.res.write(chunk);
    } catch {
      // The client response refused the bytes (already destroyed, length mismatch): stop both sides.
      controller.abort(clientGone());
      this.res.destroy();
      this.done(0);
      return;
    }
    if (!ok && !controller.paused) {
      // The client is slower than the upstream: stop reading until its socket drains.
      controller.pause();
      this.res.once('drain', this.onDrain);
    }
  }

  onResponseEnd(_controller: DispatchController, trailers: IncomingHttpHeaders): void {
    this.finished = true;
    try {
      if (trailers && this.res.chunkedEncoding) {
        for (const _k in trailers) {
          this.res.addTrailers(filterResponseHeaders(trailers));
          break;
        }
      }
      this.res.end();
    } catch {
      this.res.destroy();
    }
    this.done(this.status);
  }

  onResponseError(_controller: DispatchController, err: Error): void {
    if (this.clientGone || this.finished) return;
    this.finished = true;
    if (this.started || this.res.headersSent) {
      // Mid-response failure (upstream reset, idle timeout): cut the client connection cleanly.
      this.res.destroy();
      this.done(0);
      return;
    }
    const code = (err as { code?: string }).code ?? '';
    const timeout = TIMEOUT_CODES.has(code);
    const status = timeout ? 504 : 502;
    setAnswerHeaders(this.res, this.ctx.answerHeaders);
    sendError(
      this.req,
      this.res,
      status,
      timeout ? 'upstream_timeout' : 'upstream_unavailable',
      timeout ? 'The application did not answer in time' : 'The application is unavailable',
      this.ctx.requestId,
      undefined,
      this.errorPages,
    );
    this.done(status);
  }

  private done(status: number): void {
    if (!this.active.delete(this)) return;
    this.ctx.onDone?.(status);
  }

  abort(): void {
    this.controller?.abort(clientGone());
    this.res.destroy();
  }
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * The forwarding engine: `web` for HTTP requests (undici Pool per upstream, keep-alive), `upgrade`
 * for WebSockets. Every error ends in a 502/504 answer or a cleanly closed connection.
 */
export class Proxy {
  private readonly active = new Set<WebHandler>();
  private readonly ws: WebSocketProxy;

  /** `errorPages`: how a browser is shown a 502/504 (the gateway passes the portal's pages down). */
  /** `webSockets`: the process's open WebSockets, shared by the proxies of every compiled config. */
  constructor(private readonly o: { errorPages?: ErrorPages; webSockets?: OpenWebSockets } = {}) {
    this.ws = new WebSocketProxy(o.webSockets);
  }

  web(req: IncomingMessage, res: ServerResponse, ctx: ProxyContext): void {
    const handler = new WebHandler(req, res, ctx, this.active, this.o.errorPages);
    const opts: Dispatcher.DispatchOptions = {
      method: req.method ?? 'GET',
      path: ctx.path,
      headers: buildRequestHeaders(req.rawHeaders, ctx),
      body: hasBody(req) ? req : null,
    };
    try {
      ctx.upstream.pool.dispatch(opts, handler);
    } catch (err) {
      handler.onResponseError(undefined as unknown as DispatchController, err as Error);
    }
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ProxyContext): void {
    this.ws.upgrade(req, socket, head, ctx);
  }

  /** Aborts every request and WebSocket still in flight (call after draining the server). */
  close(): Promise<void> {
    for (const h of [...this.active]) h.abort();
    this.ws.closeAll();
    return Promise.resolve();
  }
}
