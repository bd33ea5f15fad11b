import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type PortcullisError, publicDetails, wireCode } from '../errors/index.js';
import { escapeHtml } from '../util/html.js';

/** Headers on every response the gateway itself generates. */
const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
});

/** Extra headers on gateway HTML (portal pages and error pages): never framed, nothing loaded from elsewhere. */
const HTML_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
});


/** What an error page shows: the status, the stable wire code, the English message and the request id to quote. */
export interface ErrorInfo {
  status: number;
  code: string;
  message: string;
  requestId: string;
}

/**
 * Renders an error page for a browser (the portal's layout, in the visitor's language). http/ does not
 * know the portal: the gateway passes this down to every place that answers with an error, and a
 * caller without one gets the small built-in page.
 */
export type ErrorPages = (req: IncomingMessage, error: ErrorInfo) => { html: string; headers: Readonly<Record<string, string>> };

/** True when the client prefers an HTML answer (a browser navigation). */
export function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

function write(res: ServerResponse, status: number, type: string, body: string, extra: Readonly<Record<string, string>> | undefined, headers?: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    // Too late for a clean answer: cut the connection rather than corrupt the response.
    res.destroy();
    return;
  }
  const payload = Buffer.from(body, 'utf8');
  res.statusCode = status;
  for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
  if (extra) for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  if (headers) for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', payload.length);
  res.end(res.req?.method === 'HEAD' ? undefined : payload);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: OutgoingHttpHeaders): void {
  write(res, status, 'application/json; charset=utf-8', JSON.stringify(body), undefined, headers);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers?: OutgoingHttpHeaders): void {
  write(res, status, 'text/html; charset=utf-8', html, HTML_HEADERS, headers);
}

export function redirect(res: ServerResponse, status: number, location: string): void {
  write(res, status, 'text/plain; charset=utf-8', '', undefined, { Location: location });
}

/** True when the request announced a body (which may still be unread). */
function expectsBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * An error answer: for browsers the page `pages` renders (else a small escaped built-in page), for
 * everything else `{"error": code, "message": ..., "request_id": ...}` merged with `extra`. Never a
 * stack trace. When the request body was not read to the end the connection is closed after the answer.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  extra?: Record<string, unknown>,
  pages?: ErrorPages,
): void {
  const headers: OutgoingHttpHeaders = { 'X-Request-Id': requestId };
  if (!req.complete && expectsBody(req)) headers.Connection = 'close';
  if (acceptsHtml(req) && pages) {
    const page = pages(req, { status, code, message, requestId });
    write(res, status, 'text/html; charset=utf-8', page.html, page.headers, headers);
    return;
  }
  if (acceptsHtml(req)) {
    const title = `${status} ${escapeHtml(message)}`;
    const html =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
      '<meta name="viewport" content="width=device-width, initial-scale=1">' +
      '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}' +
      'small{color:#777}</style></head><body>' +
      `<h1>${escapeHtml(message)}</h1><p><small>Error ${status} · ${escapeHtml(code)} · request ${escapeHtml(requestId)}</small></p>` +
      '</body></html>';
    sendHtml(res, status, html, headers);
    return;
  }
  sendJson(res, status, { ...extra, error: code, message, request_id: requestId }, headers);
}

/**
 * A PortcullisError as the client sees it (SPEC §3): the status from `errors/`, `error` its wire code,
 * the message, and the error's public details (`attempts_left`, `retry_after`, `reason`). `Retry-After`
 * is set for rate limits and for 503s. An HTML page for browsers, JSON otherwise (`json` forces JSON).
 */
export function sendPortcullisError(req: IncomingMessage, res: ServerResponse, err: PortcullisError, requestId: string, o: { json?: boolean; message?: boolean; pages?: ErrorPages | undefined } = {}): void {
  const retry = err.code === 'PORTCULLIS_ERR_RATE_LIMITED' ? Number(err.details.retry_after ?? 60) : err.status === 503 ? 5 : undefined;
  if (retry !== undefined) res.setHeader('Retry-After', String(retry));
  const details = publicDetails(err);
  if (o.json) {
    const headers: OutgoingHttpHeaders = { 'X-Request-Id': requestId };
    if (!req.complete && expectsBody(req)) headers.Connection = 'close';
    return sendJson(res, err.status, { ...details, error: wireCode(err.code), ...(o.message === false ? {} : { message: err.message }), request_id: requestId }, headers);
  }
  sendError(req, res, err.status, wireCode(err.code), err.message, requestId, details, o.pages);
}
