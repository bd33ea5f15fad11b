import type { CustomFetch } from 'openid-client';
import { isLoopbackHost } from '../util/net.js';

/** A provider's answers (discovery, keys, tokens, userinfo) are a few kilobytes; more is refused. */
export const MAX_PROVIDER_RESPONSE_BYTES = 262_144;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Thrown when a provider's answer is larger than the bound. */
export class ResponseTooLarge extends Error {
  constructor(url: string, limit: number) {
    super(`the answer of ${new URL(url).origin} is larger than ${limit} bytes`);
    this.name = 'ResponseTooLarge';
  }
}

/** Whether the gateway may talk to this URL at all: https://, or http:// on a loopback address. */
export function reachable(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/**
 * The `fetch` openid-client uses for every request to a provider: only https:// (or http:// on a
 * loopback address), redirects not followed (openid-client asks for `manual`), and the body read up to
 * `maxBytes` — a provider answering with an endless stream cannot exhaust memory.
 */
export function boundedFetch(maxBytes = MAX_PROVIDER_RESPONSE_BYTES): CustomFetch {
  return async (url, options) => {
    if (!reachable(new URL(url))) throw new TypeError(`refusing to contact ${new URL(url).origin}: only https:// (or http:// on a loopback address)`);
    const res = await fetch(url, options);
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    if (NULL_BODY_STATUS.has(res.status) || res.body === null) {
      await res.body?.cancel();
      return new Response(null, { status: res.status, statusText: res.statusText, headers });
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body.cancel();
      throw new ResponseTooLarge(url, maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ResponseTooLarge(url, maxBytes);
      }
      chunks.push(value);
    }
    return new Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers });
  };
}
