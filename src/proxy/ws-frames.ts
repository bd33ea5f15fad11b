import type { Duplex } from 'node:stream';

/**
 * Follows the frame boundaries of a WebSocket byte stream (RFC 6455 §5.2) without buffering payloads,
 * so the gateway can put a frame of its own (a close frame) between two frames of the upstream's.
 */
export class FrameBoundary {
  /** Header bytes of a frame not yet complete (at most 14). */
  private header: number[] = [];
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;

  /** True when the bytes seen so far end exactly at the end of a frame. */
  get atBoundary(): boolean {
    return this.header.length === 0 && this.remaining === 0;
  }

  /** Feeds bytes that pass through. */
  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) at += this.advanceToBoundary(chunk.subarray(at)) ?? chunk.length - at;
  }

  /**
   * Consumes `chunk` up to the next frame boundary: answers how many bytes that took (the tracker is then
   * at a boundary), or undefined when all of `chunk` was consumed without reaching one.
   */
  advanceToBoundary(chunk: Buffer): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
      } else {
        this.header.push(chunk[i] as number);
        i++;
        const need = headerLength(this.header);
        if (need === undefined || this.header.length < need) continue;
        this.remaining = payloadLength(this.header);
        this.header = [];
      }
      if (this.atBoundary) return i;
    }
    return undefined;
  }
}

/** The header's full length once its first bytes are known (undefined: need more). */
function headerLength(h: number[]): number | undefined {
  if (h.length < 2) return undefined;
  const len7 = (h[1] as number) & 0x7f;
  const masked = ((h[1] as number) & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(h: number[]): number {
  const len7 = (h[1] as number) & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return ((h[2] as number) << 8) | (h[3] as number);
  let n = 0;
  for (let i = 2; i < 10; i++) n = n * 256 + (h[i] as number);
  return n;
}

/** An unmasked close frame (server to client) with `code` and a short UTF-8 reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/** How long a client has to answer our close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * Closes a proxied WebSocket from the gateway: the upstream is cut, the client gets the rest of the
 * frame in flight (if any), then a close frame with `code`, then the connection ends. When the frame in
 * flight does not complete soon, the connection is destroyed without a close frame.
 */
export function closeWebSocket(client: Duplex, up: Duplex, boundary: FrameBoundary, code: number, reason: string): void {
  up.unpipe(client);
  client.unpipe(up);
  const finish = (): void => {
    up.destroy();
    if (client.destroyed) return;
    client.end(closeFrame(code, reason));
    setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
  };
  if (boundary.atBoundary) return finish();
  // Mid-frame: forward exactly the rest of that frame, then close.
  const timer = setTimeout(() => {
    up.off('data', onData);
    up.destroy();
    client.destroy();
  }, CLOSE_GRACE_MS);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    const n = boundary.advanceToBoundary(chunk);
    if (n === undefined) {
      client.write(chunk);
      return;
    }
    clearTimeout(timer);
    up.off('data', onData);
    if (n > 0) client.write(chunk.subarray(0, n));
    finish();
  };
  up.on('data', onData);
  up.resume();
}
