/**
 * What a front proxy (nginx, Caddy) in front of Portcullis needs to know, computed from the loaded,
 * validated config with no I/O: where the gateway is, which sites (host names) route which paths to
 * which upstream — with the same precedence as src/proxy/router.ts — which identity headers the
 * gateway answers with, and which credentials and cookies must stay at the gateway.
 *
 * The generators (nginx.ts, caddy.ts) only turn this model into text.
 */
import type { Config, UpstreamConfig } from '../config/schema/index.js';
import { parseListen } from '../config/schema/common.js';
import { sessionCookieName } from '../session/cookie-options.js';

/** The portal's pre-session CSRF cookie (src/portal/csrf.ts LOGIN_CSRF_COOKIE; a test keeps the two equal). */
export const PORTAL_CSRF_COOKIE = 'portcullis_csrf';

/** The assertion header's name when `identity.jwt_assertion` is not configured: client copies are still dropped (SPEC §3). */
export const DEFAULT_ASSERTION_HEADER = 'X-Portcullis-Assertion';

export interface FrontProxyOptions {
  /** Where the front proxy reaches the gateway (`http://127.0.0.1:8080`); default: from `server.listen`. */
  gateway?: string | undefined;
  /** Seconds a positive forward-auth answer is cached (nginx only); 0 turns the cache off. Default 1. */
  authCacheSeconds?: number | undefined;
  /** Written into the header comment (the config file the text was generated from). */
  source?: string | undefined;
}

export interface FrontUpstream {
  /** A name safe in nginx and Caddy identifiers: `portcullis_up_<index>_<name>`. */
  id: string;
  name: string;
  secure: boolean;
  /** `host:port` to connect to (IPv6 in brackets). */
  address: string;
  hostname: string;
  /** The Host header the upstream expects (`host[:port]`, as in the URL). */
  hostHeader: string;
  /** The URL's path without a trailing slash ('' for `/`). */
  basePath: string;
  /** `match.path_prefix` without a trailing slash ('' for `/`). */
  pathPrefix: string;
  stripPrefix: boolean;
  preserveHost: boolean;
  websocket: boolean;
  timeouts: { connect: number; responseHeaders: number; idle: number };
  maxConnections: number;
}

/** One server block / site: the names it answers for and its routes, most specific first. */
export interface FrontSite {
  /** Exact and `*.suffix` host names; empty for the default site (any other host). */
  names: string[];
  routes: FrontUpstream[];
  /** Upstreams that can never be reached on this site (a more specific host bucket covers their prefix). */
  shadowed: Array<{ upstream: string; by: string }>;
}

export interface IdentityHeader {
  /** The header name the gateway answers with and the upstream receives. */
  header: string;
  /** Whether the gateway sets it (false: only client copies are dropped). */
  copied: boolean;
}

export interface CredentialHeaderPolicy {
  /** An API-key header name (`X-API-Key`). */
  header: string;
  /** `always`: never forwarded; `clients`: dropped when one of these API clients authenticated with it; `never`: every client keeps it. */
  strip: 'always' | 'never' | { clients: string[] };
}

export interface FrontProxyModel {
  /** `http://127.0.0.1:8080` */
  gatewayUrl: URL;
  gatewayLoopback: boolean;
  prefix: string;
  sites: FrontSite[];
  upstreams: FrontUpstream[];
  identity: IdentityHeader[];
  /** The header that carries the method (`session`, `api_key`, ...), or undefined when none is set. */
  methodHeader: string | undefined;
  /** The header that carries the user (or the API client's subject). */
  userHeader: string | undefined;
  sessionCookie: string;
  /** Cookies never forwarded upstream (session, device, portal CSRF). */
  gatewayCookies: string[];
  apiKeyHeaders: CredentialHeaderPolicy[];
  /** `Authorization` of API clients that must not reach the upstream: by method, and for `basic` by user. */
  authorizationStrip: { bearerJwt: boolean; basicUsers: string[] };
  /** Seconds a positive forward-auth answer may be cached; 0 = no cache. */
  authCacheSeconds: number;
  /** `session.cache_ttl` in seconds (the gateway's own cache of a verified session). */
  sessionCacheSeconds: number;
  /** Upper bound, in seconds, for a revoked session to be refused everywhere behind the front proxy. */
  revocationBoundSeconds: number;
  trustedProxies: readonly string[];
  source: string | undefined;
  /** Things the operator should know (printed on stderr by the CLI, and as comments). */
  warnings: string[];
}

/** `vms.example.com`, `*.example.com`, `10.0.0.5`, `[::1]` (lower case, no port). */
const HOST_NAME = /^(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$|^\[[0-9a-f:.]+\]$/;

function trimSlash(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}

function stripPort(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  const name = colon === -1 ? h : h.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function upstreamModel(cfg: UpstreamConfig, index: number): FrontUpstream {
  const url = new URL(cfg.url);
  const secure = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  return {
    id: `portcullis_up_${index}_${cfg.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
    name: cfg.name,
    secure,
    address: `${url.hostname}:${port}`,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    hostHeader: url.host,
    basePath: trimSlash(url.pathname),
    pathPrefix: trimSlash(cfg.match.path_prefix),
    stripPrefix: cfg.strip_prefix,
    preserveHost: cfg.preserve_host,
    websocket: cfg.websocket,
    timeouts: { connect: cfg.timeouts.connect, responseHeaders: cfg.timeouts.response_headers, idle: cfg.timeouts.idle },
    maxConnections: cfg.max_connections,
  };
}

/** True when prefix `outer` covers every path under `inner` (segment boundary; '' covers everything). */
export function prefixCovers(outer: string, inner: string): boolean {
  return outer === '' || inner === outer || inner.startsWith(`${outer}/`);
}

function byPrefixLength(a: FrontUpstream, b: FrontUpstream): number {
  return b.pathPrefix.length - a.pathPrefix.length;
}

/**
 * The routes of one site from its host buckets, most specific bucket first (exact host, longer
 * wildcards, then upstreams without hosts). The router takes the first bucket that has a path match,
 * so an upstream whose prefix an earlier bucket's prefix covers is never reached; within a bucket the
 * longest prefix wins (first in config order on a tie), as a front proxy's longest-prefix match does.
 */
function siteRoutes(buckets: FrontUpstream[][], portalPrefix: string): { routes: FrontUpstream[]; shadowed: FrontSite['shadowed'] } {
  const routes: FrontUpstream[] = [];
  const shadowed: FrontSite['shadowed'] = [];
  for (const bucket of buckets) {
    const earlier = [...routes];
    for (const u of [...bucket].sort(byPrefixLength)) {
      if (routes.includes(u)) continue;
      const by = prefixCovers(portalPrefix, u.pathPrefix) ? { name: `the portal (${portalPrefix})` } : (earlier.find((e) => prefixCovers(e.pathPrefix, u.pathPrefix)) ?? routes.find((e) => e.pathPrefix === u.pathPrefix));
      if (by) shadowed.push({ upstream: u.name, by: by.name });
      else routes.push(u);
    }
  }
  return { routes: routes.sort(byPrefixLength), shadowed };
}

function buildSites(config: Readonly<Config>, upstreams: FrontUpstream[]): FrontSite[] {
  const exact = new Map<string, FrontUpstream[]>();
  const wild = new Map<string, FrontUpstream[]>();
  const any: FrontUpstream[] = [];
  config.upstreams.forEach((cfg, i) => {
    const u = upstreams[i] as FrontUpstream;
    if (cfg.match.hosts.length === 0) any.push(u);
    for (const raw of cfg.match.hosts) {
      const host = stripPort(raw);
      if (!HOST_NAME.test(host)) throw new Error(`upstreams ${cfg.name}: match.hosts '${raw}' is not a host name a front proxy can match`);
      const map = host.startsWith('*.') ? wild : exact;
      const key = host.startsWith('*.') ? host.slice(1) : host;
      const list = map.get(key) ?? [];
      if (!list.includes(u)) list.push(u);
      map.set(key, list);
    }
  });
  const suffixes = [...wild.keys()].sort((a, b) => b.length - a.length);
  const prefix = config.server.portal_prefix;
  const named: FrontSite[] = [];
  const add = (name: string, buckets: FrontUpstream[][]): void => {
    const { routes, shadowed } = siteRoutes(buckets, prefix);
    const key = routes.map((r) => r.id).join(' ');
    const same = named.find((s) => s.routes.map((r) => r.id).join(' ') === key && JSON.stringify(s.shadowed) === JSON.stringify(shadowed));
    if (same) same.names.push(name);
    else named.push({ names: [name], routes, shadowed });
  };
  for (const [host, bucket] of exact) {
    const wilds = suffixes.filter((s) => host.length > s.length && host.endsWith(s)).map((s) => wild.get(s) as FrontUpstream[]);
    add(host, [bucket, ...wilds, any]);
  }
  for (const suffix of suffixes) {
    // A host under this suffix also falls back to shorter wildcards that it ends with.
    const shorter = suffixes.filter((s) => s.length < suffix.length && suffix.endsWith(s)).map((s) => wild.get(s) as FrontUpstream[]);
    add(`*${suffix}`, [wild.get(suffix) as FrontUpstream[], ...shorter, any]);
  }
  const fallback = siteRoutes([any], prefix);
  return [...named, { names: [], routes: fallback.routes, shadowed: fallback.shadowed }];
}

function defaultGateway(config: Readonly<Config>): URL {
  const listen = parseListen(config.server.listen) ?? { host: '127.0.0.1', port: 8080 };
  let host = listen.host;
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  const scheme = config.server.tls ? 'https' : 'http';
  return new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${listen.port}`);
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** Identity header names from `identity.headers` (any entry that is not a non-empty string is skipped). */
function identityHeaders(config: Readonly<Config>): { list: IdentityHeader[]; user: string | undefined; method: string | undefined } {
  const headers = config.identity.headers as Readonly<Record<string, unknown>>;
  const list: IdentityHeader[] = [];
  for (const value of Object.values(headers)) if (typeof value === 'string' && value !== '') list.push({ header: value, copied: true });
  const assertion = config.identity.jwt_assertion;
  list.push({ header: assertion ? assertion.header : DEFAULT_ASSERTION_HEADER, copied: assertion !== undefined });
  const pick = (key: string): string | undefined => (typeof headers[key] === 'string' && headers[key] !== '' ? (headers[key]) : undefined);
  return { list, user: pick('user'), method: pick('method') };
}

function credentialPolicies(config: Readonly<Config>): Pick<FrontProxyModel, 'apiKeyHeaders' | 'authorizationStrip'> {
  const byHeader = new Map<string, { header: string; keep: string[]; drop: string[] }>();
  const basicUsers: string[] = [];
  let bearerJwt = false;
  for (const c of config.api_clients) {
    if (c.api_key) {
      const key = c.api_key.header.toLowerCase();
      const entry = byHeader.get(key) ?? { header: c.api_key.header, keep: [], drop: [] };
      (c.keep_credential ? entry.keep : entry.drop).push(c.name);
      byHeader.set(key, entry);
    } else if (c.bearer_jwt && !c.keep_credential) {
      bearerJwt = true;
    } else if (c.basic && !c.keep_credential) {
      for (const u of c.basic.users) if (!basicUsers.includes(u)) basicUsers.push(u);
    }
  }
  const apiKeyHeaders: CredentialHeaderPolicy[] = [...byHeader.values()].map((e) => ({
    header: e.header,
    // As the built-in proxy: a header no client keeps is never forwarded; otherwise only the credential of a client that does not keep it is removed.
    strip: e.keep.length === 0 ? 'always' : e.drop.length === 0 ? 'never' : { clients: e.drop },
  }));
  return { apiKeyHeaders, authorizationStrip: { bearerJwt, basicUsers } };
}

/** The model of a front proxy for `config`. Pure: no file or network access. */
export function frontProxyModel(config: Readonly<Config>, options: FrontProxyOptions = {}): FrontProxyModel {
  const warnings: string[] = [];
  const gatewayUrl = options.gateway ? new URL(options.gateway) : defaultGateway(config);
  if (gatewayUrl.protocol !== 'http:' && gatewayUrl.protocol !== 'https:') throw new Error(`--gateway must be an http(s) URL, not '${options.gateway}'`);
  if (gatewayUrl.pathname !== '/' || gatewayUrl.search !== '' || gatewayUrl.username !== '') throw new Error(`--gateway must be an origin such as http://127.0.0.1:8080, not '${options.gateway}'`);
  const upstreams = config.upstreams.map(upstreamModel);
  const identity = identityHeaders(config);
  const cookie = config.session.cookie;
  const authCacheSeconds = Math.max(0, Math.floor(options.authCacheSeconds ?? 1));
  const sessionCacheSeconds = config.session.cache_ttl / 1000;
  if (config.server.trusted_proxies.length === 0) {
    warnings.push("server.trusted_proxies is empty: the gateway refuses every forward-auth request (403). List the front proxy's address there (for example 127.0.0.1/32).");
  }
  if (upstreams.length === 0) warnings.push('no upstreams are configured: every path outside the portal answers 404.');
  const sites = buildSites(config, upstreams);
  for (const u of upstreams) if (!sites.some((s) => s.routes.includes(u))) warnings.push(`upstream '${u.name}' is never reached: on every host a more specific upstream or the portal covers its path prefix.`);
  return {
    gatewayUrl,
    gatewayLoopback: isLoopback(gatewayUrl.hostname),
    prefix: config.server.portal_prefix,
    sites,
    upstreams,
    identity: identity.list,
    methodHeader: identity.method,
    userHeader: identity.user,
    sessionCookie: sessionCookieName(config),
    gatewayCookies: [...new Set([sessionCookieName(config), cookie.device_name, PORTAL_CSRF_COOKIE])],
    ...credentialPolicies(config),
    authCacheSeconds,
    sessionCacheSeconds,
    // nginx counts cache validity in whole seconds, so an answer cached at t lives until ⌊t⌋ + validity + 1 at most.
    revocationBoundSeconds: authCacheSeconds === 0 ? sessionCacheSeconds : sessionCacheSeconds + authCacheSeconds + 1,
    trustedProxies: config.server.trusted_proxies,
    source: options.source,
    warnings,
  };
}

/** `X-API-Key` → `x_api_key` (nginx `$http_*` / `$upstream_http_*` suffix). */
export function nginxHeaderVar(header: string): string {
  return header.toLowerCase().replace(/-/g, '_');
}

/** Every spelling of a header name with `_` for any `-` (`Remote-User`, `Remote_User`). At most 16. */
export function underscoreVariants(header: string): string[] {
  const parts = header.split('-');
  const out: string[] = [];
  const gaps = Math.min(parts.length - 1, 4);
  for (let mask = 0; mask < 1 << gaps; mask++) {
    let name = parts[0] as string;
    for (let i = 1; i < parts.length; i++) name += (i <= gaps && mask & (1 << (i - 1)) ? '_' : '-') + parts[i];
    out.push(name);
  }
  return out;
}

/** Escapes a string for a PCRE / RE2 regular expression. */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
