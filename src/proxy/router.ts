import { Pool } from 'undici';
import type { UpstreamConfig } from '../config/schema/upstreams.js';

/** One upstream with everything the hot path needs computed once. */
export class Upstream {
  readonly name: string;
  /** `http://host:port` — the undici origin. */
  readonly origin: string;
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  /** The Host header the upstream expects (`host[:port]`). */
  readonly hostHeader: string;
  /** The upstream URL's path without a trailing slash ('' for `/`). */
  readonly basePath: string;
  /** `match.path_prefix` without a trailing slash ('' for `/`). */
  readonly pathPrefix: string;
  readonly stripPrefix: boolean;
  readonly preserveHost: boolean;
  readonly websocket: boolean;
  /** `max_connections`: the undici pool's size, and the most WebSockets open to this upstream at once. */
  readonly maxConnections: number;
  readonly timeouts: { readonly connect: number; readonly responseHeaders: number; readonly idle: number };
  readonly pool: Pool;

  constructor(cfg: UpstreamConfig) {
    const url = new URL(cfg.url);
    this.name = cfg.name;
    this.maxConnections = cfg.max_connections;
    this.secure = url.protocol === 'https:';
    this.origin = url.origin;
    this.hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port ? Number(url.port) : this.secure ? 443 : 80;
    this.hostHeader = url.host;
    this.basePath = trimSlash(url.pathname);
    this.pathPrefix = trimSlash(cfg.match.path_prefix);
    this.stripPrefix = cfg.strip_prefix;
    this.preserveHost = cfg.preserve_host;
    this.websocket = cfg.websocket;
    this.timeouts = Object.freeze({ connect: cfg.timeouts.connect, responseHeaders: cfg.timeouts.response_headers, idle: cfg.timeouts.idle });
    this.pool = new Pool(this.origin, {
      connections: cfg.max_connections,
      pipelining: 1,
      connect: { timeout: cfg.timeouts.connect || 5000 },
      // 0 disables either. undici checks both with a coarse timer (about 1 s resolution), and the
      // body timeout does not run while the client is the slow side (reading is paused).
      headersTimeout: cfg.timeouts.response_headers,
      bodyTimeout: cfg.timeouts.idle,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      // Response heads are bounded like request heads; a larger one fails as 502.
      maxHeaderSize: 65_536,
    });
  }

  /** The path (and query) to send upstream for a client path: strip the prefix if configured, add the URL's base path. */
  targetPath(path: string): string {
    let rest = path;
    if (this.stripPrefix && this.pathPrefix !== '' && path.startsWith(this.pathPrefix)) {
      rest = path.slice(this.pathPrefix.length);
      if (rest === '' || rest.startsWith('?')) rest = '/' + rest;
    }
    return this.basePath === '' ? rest : this.basePath + rest;
  }

  /** True when `path` is under this upstream's prefix on a segment boundary. */
  matchesPath(path: string): boolean {
    const p = this.pathPrefix;
    if (p === '') return true;
    if (!path.startsWith(p)) return false;
    if (path.length === p.length) return true;
    const next = path.charCodeAt(p.length);
    return next === 47 /* / */ || next === 63 /* ? */;
  }
}

function trimSlash(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}

/**
 * Picks the upstream for a request: the most specific host bucket that has a path match wins
 * (exact host, then the longest `*.suffix` wildcard, then upstreams with no hosts), and within a
 * bucket the longest `path_prefix` on a segment boundary. Hosts compare case-insensitively, port ignored.
 */
export class UpstreamRouter {
  readonly upstreams: readonly Upstream[];
  private readonly exact = new Map<string, Upstream[]>();
  /** [suffix with leading dot, upstreams], longest suffix first. */
  private readonly wildcards: Array<[string, Upstream[]]> = [];
  private readonly any: Upstream[] = [];
  private readonly byName = new Map<string, Upstream>();

  constructor(upstreams: readonly UpstreamConfig[]) {
    const list = upstreams.map((u) => new Upstream(u));
    this.upstreams = list;
    const wild = new Map<string, Upstream[]>();
    for (let i = 0; i < list.length; i++) {
      const u = list[i] as Upstream;
      const cfg = upstreams[i] as UpstreamConfig;
      this.byName.set(u.name, u);
      if (cfg.match.hosts.length === 0) this.any.push(u);
      for (const raw of cfg.match.hosts) {
        const host = stripPort(raw.toLowerCase());
        if (host.startsWith('*.')) push(wild, host.slice(1), u);
        else push(this.exact, host, u);
      }
    }
    const byPrefix = (a: Upstream, b: Upstream): number => b.pathPrefix.length - a.pathPrefix.length;
    for (const bucket of this.exact.values()) bucket.sort(byPrefix);
    for (const [suffix, bucket] of wild) this.wildcards.push([suffix, bucket.sort(byPrefix)]);
    this.wildcards.sort((a, b) => b[0].length - a[0].length);
    this.any.sort(byPrefix);
  }

  route(host: string, path: string): Upstream | undefined {
    const h = stripPort(host.toLowerCase());
    const exact = this.exact.get(h);
    if (exact) {
      const found = firstMatch(exact, path);
      if (found) return found;
    }
    for (const [suffix, bucket] of this.wildcards) {
      if (h.length > suffix.length && h.endsWith(suffix)) {
        const found = firstMatch(bucket, path);
        if (found) return found;
      }
    }
    return firstMatch(this.any, path);
  }

  get(name: string): Upstream | undefined {
    return this.byName.get(name);
  }

  /** Closes every upstream's connection pool once its in-flight requests are done. */
  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.pool.close().catch(() => undefined)));
  }
}

function firstMatch(bucket: readonly Upstream[], path: string): Upstream | undefined {
  for (const u of bucket) if (u.matchesPath(path)) return u;
  return undefined;
}

function push(map: Map<string, Upstream[]>, key: string, u: Upstream): void {
  const list = map.get(key);
  if (list) list.push(u);
  else map.set(key, [u]);
}

/** `example.com:8080` → `example.com`, `example.com.` → `example.com`, `[::1]:80` → `[::1]` (input already lower case). */
function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
