import type { IncomingMessage } from 'node:http';
import { PortcullisError } from '../errors/index.js';

const DEFAULT_TIMEOUT_MS = 10_000;

export interface BodyOptions {
  /** Longest time to receive the whole body (default 10 s). */
  timeoutMs?: number;
}

/** Reads an `application/x-www-form-urlencoded` body of at most `maxBytes`. */
export async function readForm(req: IncomingMessage, maxBytes: number, opts?: BodyOptions): Promise<URLSearchParams> {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected a form (application/x-www-form-urlencoded)');
  }
  const body = await readBody(req, maxBytes, opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return new URLSearchParams(body.toString('utf8'));
}

/** Reads an `application/json` (or `+json`) body of at most `maxBytes` and parses it. */
export async function readJson(req: IncomingMessage, maxBytes: number, opts?: BodyOptions): Promise<unknown> {
  const type = mediaType(req);
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'Expected Content-Type: application/json');
  }
  const body = await readBody(req, maxBytes, opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (cause) {
    throw new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'The body is not valid JSON', { cause });
  }
}

function mediaType(req: IncomingMessage): string {
  const type = req.headers['content-type'];
  if (typeof type !== 'string') return '';
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase();
}

/**
 * Collects the body, failing with 413 past `maxBytes` (at once when Content-Length says so) and with
 * 400 when it does not arrive within `timeoutMs` or the client goes away. On failure the request
 * stream is left paused; the error answer closes the connection (see sendError).
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new PortcullisError('PORTCULLIS_ERR_BODY_TOO_LARGE'));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(new PortcullisError('PORTCULLIS_ERR_BODY_TOO_LARGE'));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (cause: Error): void => finish(new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'The request body could not be read', { cause }));
    const onClose = (): void => {
      if (!req.complete) finish(new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'The client went away'));
    };
    const timer = setTimeout(() => finish(new PortcullisError('PORTCULLIS_ERR_BAD_REQUEST', 'The request body took too long')), timeoutMs);
    timer.unref();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    if (req.readableEnded) finish(undefined);
  });
}
