/**
 * Shared pieces of the adversarial tables in test/security/: raw HTTP over a socket (any byte can be
 * sent, the answer is read as it comes), the entrances of a running gateway, and WebSocket handshakes.
 * See docs/security-testing.md.
 */
import net from 'node:net';
import http from 'node:http';
import { Browser } from '../fixtures/browser.js';
import type { Stack } from '../fixtures/gateway.js';

export interface RawAnswer {
  /** 0 when the server closed without an answer. */
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
  /** Every status line the connection carried (pipelined answers). */
  statuses: number[];
  /** The server closed the connection. */
  closed: boolean;
}

export function parseRaw(text: string, closed: boolean): RawAnswer {
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: statuses[0] ?? 0, head, headers, body: end === -1 ? '' : text.slice(end + 4), statuses, closed };
}

/**
 * Writes `payload` byte for byte on a new connection and collects everything until the server closes
 * (or `waitMs` passes: then `closed` is false). Never half-closes the socket itself.
 */
export function rawExchange(base: string, payload: string | Buffer, o: { waitMs?: number; localAddress?: string; untilSwitch?: boolean } = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1'), closed));
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 5000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (o.untilSwitch && /^HTTP\/1\.1 101[^]*?\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
    socket.on('error', (err) => (chunks.length ? finish(true) : done ? undefined : (done = true, clearTimeout(timer), reject(err))));
    socket.on('close', () => finish(true));
    socket.write(typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload);
  });
}

/** A WebSocket handshake written byte for byte; resolves at a 101's head (the socket is then closed) or the server's close. */
export function rawUpgrade(base: string, target: string, headers: Array<[string, string]>): Promise<RawAnswer> {
  const head = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const request = `GET ${target} HTTP/1.1\r\n${head}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  return rawExchange(base, Buffer.from(request, 'utf8'), { waitMs: 10_000, untilSwitch: true });
}

/** One GET written byte for byte with `Connection: close`; resolves with the answer. */
export function rawGet(base: string, target: string, headers: Array<[string, string]>, localAddress?: string): Promise<RawAnswer> {
  const head = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return rawExchange(base, Buffer.from(`GET ${target} HTTP/1.1\r\n${head}Connection: close\r\n\r\n`, 'utf8'), { waitMs: 10_000, ...(localAddress ? { localAddress } : {}) });
}

export const HOST = 'vms.example.com';

/** The request entrances a path-level decision is made at (the portal and the API are separate tables). */
export type Entrance = 'proxy' | 'websocket' | 'authz path' | 'authz full URL' | 'traefik/caddy';
export const ENTRANCES: readonly Entrance[] = ['proxy', 'websocket', 'authz path', 'authz full URL', 'traefik/caddy'];

/** Puts a request for `path` on HOST through `entrance`, with extra headers (credentials, cookies). */
export function through(stack: Stack, entrance: Entrance, path: string, extra: Array<[string, string]> = []): Promise<RawAnswer> {
  switch (entrance) {
    case 'proxy':
      return rawGet(stack.url, path, [['Host', HOST], ['Accept', 'application/json'], ...extra]);
    case 'websocket':
      return rawUpgrade(stack.url, path, [['Host', HOST], ['Origin', `http://${HOST}`], ...extra]);
    case 'authz path':
      return rawGet(stack.url, '/_gateway/authz', [['Host', '127.0.0.1'], ['X-Original-URL', path], ['X-Original-Method', 'GET'], ['X-Forwarded-Host', HOST], ['X-Forwarded-Proto', 'http'], ['Accept', 'application/json'], ...extra]);
    case 'authz full URL':
      return rawGet(stack.url, '/_gateway/authz', [['Host', '127.0.0.1'], ['X-Original-URL', `http://${HOST}${path}`], ['X-Original-Method', 'GET'], ['Accept', 'application/json'], ...extra]);
    case 'traefik/caddy':
      return rawGet(stack.url, '/_gateway/authz/forward-auth', [['Host', '127.0.0.1'], ['X-Forwarded-Method', 'GET'], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-Host', HOST], ['X-Forwarded-Uri', path], ['Accept', 'application/json'], ...extra]);
  }
}

/** Whether an answer at `entrance` let the request through (200, or 101 for an upgrade). */
export function passed(entrance: Entrance, a: RawAnswer): boolean {
  return entrance === 'websocket' ? a.status === 101 : a.status === 200;
}

/** GET with node:http (keeps a real client's framing); resolves with status, headers and body. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

/** Headers that differ between any two answers by nature (time, request id); everything else must match. */
export const VOLATILE_HEADERS: ReadonlySet<string> = new Set(['date', 'x-request-id', 'set-cookie', 'content-length', 'etag', 'keep-alive']);

/** An answer's headers without the volatile ones, as sorted `name: value` lines (set-cookie: names only). */
export function comparableHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (name === 'set-cookie') {
      const list = Array.isArray(v) ? v : v ? [v] : [];
      for (const c of list) out.push(`set-cookie: ${c.split('=')[0]!}=…${c.includes(';') ? c.slice(c.indexOf(';')) : ''}`);
      continue;
    }
    if (VOLATILE_HEADERS.has(name)) continue;
    out.push(`${name}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  }
  return out.sort();
}

/** A body with the per-request parts (request id, CSRF token, nonces) blanked, for comparing answers. */
export function comparableBody(text: string): string {
  return text
    .replace(/"request_id":"[^"]*"/g, '"request_id":"…"')
    .replace(/[0-9a-f]{16,}/gi, '…')
    .replace(/name="csrf"\s+value="[^"]*"/g, 'name="csrf" value="…"')
    .replace(/value="[^"]*"\s+name="csrf"/g, 'value="…" name="csrf"')
    .replace(/nonce="[^"]*"/g, 'nonce="…"')
    .replace(/nonce-[A-Za-z0-9+/=_-]+/g, 'nonce-…');
}

/** A browser signed in as `svc` (no second factor) through the portal form, on `host` when given. */
export async function signedInBrowser(stack: Stack, host?: string): Promise<Browser> {
  const b = new Browser(stack.url, host ? { host } : {});
  await b.get('/_gateway/login');
  const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return b;
}
