import type { ClientInfo } from '../http/client.js';
import type { Upstream } from './router.js';

/** What the gateway decided about one request; the proxy only moves bytes. */
export interface ProxyContext {
  upstream: Upstream;
  /** Path and query to send upstream, already decided (see Upstream.targetPath). */
  path: string;
  requestId: string;
  client: ClientInfo;
  /** Identity headers to set (after every client copy is stripped). */
  setHeaders: Record<string, string>;
  /** Client headers to remove in any case and `_`/`-` spelling (identity headers, API-key header, …). */
  stripHeaders: readonly string[];
  /** Cookies to remove from the Cookie header (session, device). */
  stripCookies: readonly string[];
  /**
   * The gateway's own answer headers (`[lower-case name, value, …]`: Strict-Transport-Security,
   * X-Request-Id), written with the upstream's head — or with the 502/504 — where the upstream sent none of that name.
   */
  answerHeaders?: readonly string[];
  /**
   * A WebSocket is open (101 relayed): `close` ends it from the gateway with a close frame of `code`
   * (revocation: 1008). Until then the gateway may only destroy the socket.
   */
  onWebSocketOpen?: (close: (code: number, reason: string) => void) => void;
  /** Called once with the status sent to the client (0 when the connection was cut). */
  onDone?: (status: number) => void;
}
