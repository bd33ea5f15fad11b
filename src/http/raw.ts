import http from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The one way the gateway answers on a raw socket (a refused WebSocket upgrade, a malformed request the
 * HTTP parser rejected, a draining server): a small complete HTTP/1.1 response, then the socket is
 * closed. Header values are the caller's constants or escaped JSON; nothing from the request is echoed.
 */
export function rawAnswer(socket: Duplex, status: number, body = '', headers: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n`;
  const all: Record<string, string> = {
    ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    ...headers,
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    Connection: 'close',
  };
  for (const [k, v] of Object.entries(all)) if (!/[\r\n]/.test(v)) head += `${k}: ${v}\r\n`;
  socket.end(`${head}\r\n${body}`);
}
