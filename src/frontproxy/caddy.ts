/**
 * `portcullis caddy-config`: a Caddyfile that serves the configured hosts with Caddy in front and
 * Portcullis as the forward-auth service (`forward_auth` to `<prefix>/authz/forward-auth`, which
 * answers browsers with a 302 to the portal itself). Pure: config in, text out.
 *
 * Every upstream is served inside a `route` (so the order below is the order Caddy runs): client
 * copies of the identity headers (every `_`/`-` spelling) and of X-Original-URL/-Method dropped, the
 * forward-auth check with `copy_headers`, the gateway's credentials dropped, the path rewritten, then
 * `reverse_proxy` with the gateway's cookies cut out of Cookie and no response buffering.
 */
import type { Config } from '../config/schema/index.js';
import { frontProxyModel, regexEscape, underscoreVariants, type FrontProxyModel, type FrontProxyOptions, type FrontSite, type FrontUpstream } from './model.js';
import type { GeneratedConfig } from './nginx.js';

export interface CaddyOptions extends FrontProxyOptions {
  /** `[http://|https://]:PORT`: every site address gets this scheme and port (default: the host names alone, Caddy's automatic HTTPS). */
  listen?: string | undefined;
  /** Interface addresses every site binds to (`bind`). */
  bind?: string | undefined;
}

const TAB = '\t';

/** A Caddyfile token: bare when safe, else in backticks (no escapes inside). */
function tok(s: string): string {
  if (/^[A-Za-z0-9_./:*@+=,-]+$/.test(s)) return s;
  // eslint-disable-next-line no-control-regex
  if (s.includes('`') || /[\x00-\x1f\x7f]/.test(s)) throw new Error(`cannot put ${JSON.stringify(s)} into a Caddyfile`);
  return `\`${s}\``;
}

function block(depth: number, head: string, body: string[]): string[] {
  const ind = TAB.repeat(depth);
  return [`${ind}${head} {`, ...body.map((l) => (l === '' ? '' : `${ind}${TAB}${l}`)), `${ind}}`];
}

function parseListen(listen: string | undefined): { scheme: string; port: string } | undefined {
  if (listen === undefined) return undefined;
  const m = /^(?:(https?):\/\/)?:(\d{1,5})$/.exec(listen);
  if (!m) throw new Error(`--listen must be [http://|https://]:PORT, not '${listen}'`);
  return { scheme: m[1] ? `${m[1]}://` : '', port: m[2] as string };
}

function siteAddresses(m: FrontProxyModel, site: FrontSite, config: Readonly<Config>, o: CaddyOptions): string[] {
  const l = parseListen(o.listen);
  if (site.names.length > 0) return site.names.map((n) => (l ? `${l.scheme}${n}:${l.port}` : n));
  if (l) return [`${l.scheme}:${l.port}`];
  // The default site: the public URLs' hosts when set (automatic HTTPS for them), else any host on :80.
  const urls = config.server.public_url === undefined ? [] : Array.isArray(config.server.public_url) ? config.server.public_url : [config.server.public_url];
  const named = new Set(m.sites.flatMap((s) => s.names));
  const own = urls.map((u) => new URL(u)).filter((u) => !named.has(u.hostname.toLowerCase()));
  return own.length > 0 ? own.map((u) => `${u.protocol}//${u.host}`) : [':80'];
}

function gatewayAddress(m: FrontProxyModel): string {
  return m.gatewayUrl.protocol === 'https:' ? m.gatewayUrl.origin : m.gatewayUrl.host;
}

/** Removes every copy of the gateway's cookies. The trailing `()` group is the (empty) replacement: Caddy 2.6 drops a `""` argument. */
function cookieRegex(m: FrontProxyModel): string {
  return `(^|;\\s*)(?:${m.gatewayCookies.map(regexEscape).join('|')})=[^;]*()`;
}

function matchers(m: FrontProxyModel, site: FrontSite): string[] {
  const p = m.prefix;
  const out = [`@portcullis_authz path ${p}/authz ${p}/authz/*`, `@portcullis_portal path ${p} ${p}/*`];
  for (const u of site.routes) {
    if (u.pathPrefix === '') continue;
    out.push(`@${u.id} path ${tok(u.pathPrefix)} ${tok(`${u.pathPrefix}/*`)}`);
    if (u.stripPrefix) out.push(`@${u.id}_bare path ${tok(u.pathPrefix)}`);
  }
  if (site.routes.length === 0) return out;
  m.identity.filter((i) => i.copied).forEach((id, i) => out.push(`@portcullis_unset_${i} header_regexp ${id.header} ${tok('^\\{http\\.reverse_proxy\\.header\\.')}`));
  out.push(`@portcullis_gateway_token header_regexp Authorization ${tok('(?i)^bearer\\s+[^.\\s]+\\.[^.\\s]+\\s*$')}`);
  if (m.methodHeader) {
    if (m.authorizationStrip.bearerJwt) out.push(`@portcullis_jwt_client header ${m.methodHeader} bearer_jwt`);
    if (m.authorizationStrip.basicUsers.length > 0 && m.userHeader) {
      out.push(...block(0, '@portcullis_basic_client', [`header ${m.methodHeader} basic`, ...m.authorizationStrip.basicUsers.map((u) => `header ${m.userHeader} ${tok(u)}`)]));
    }
    m.apiKeyHeaders.forEach((k, i) => {
      if (typeof k.strip === 'object' && m.userHeader) out.push(...block(0, `@portcullis_key_${i}`, [`header ${m.methodHeader} api_key`, ...k.strip.clients.map((c) => `header ${m.userHeader} ${tok(c)}`)]));
    });
  }
  return out;
}

function portalHandle(m: FrontProxyModel): string[] {
  return block(0, 'handle @portcullis_portal', [
    ...block(0, `reverse_proxy ${gatewayAddress(m)}`, ['header_up -X-Original-URL', 'header_up -X-Original-Method', 'header_up -X-Forwarded-Uri', 'header_up -X-Forwarded-Method', 'header_up -Forwarded']),
  ]);
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

function upstreamRoute(m: FrontProxyModel, u: FrontUpstream): string[] {
  const body: string[] = ['# Client copies of the identity headers and of the forward-auth request never count.'];
  for (const id of m.identity) for (const name of underscoreVariants(id.header)) body.push(`request_header -${name}`);
  body.push('request_header -X-Original-URL', 'request_header -X-Original-Method');
  const copied = m.identity.filter((i) => i.copied).map((i) => i.header);
  // The check is a plain GET: without Upgrade, the gateway would take a WebSocket handshake's check for an upgrade of its own.
  body.push(...block(0, `forward_auth ${gatewayAddress(m)}`, [`uri ${m.prefix}/authz/forward-auth`, ...(copied.length ? [`copy_headers ${copied.join(' ')}`] : []), 'header_up -Upgrade']));
  // Caddy before 2.10 sets a header the answer lacks to the literal placeholder: remove those.
  copied.forEach((_h, i) => body.push(`request_header @portcullis_unset_${i} -${copied[i]}`));
  body.push('# Credentials meant for the gateway stay there.', 'request_header @portcullis_gateway_token -Authorization');
  if (m.authorizationStrip.bearerJwt) body.push(m.methodHeader ? 'request_header @portcullis_jwt_client -Authorization' : 'request_header -Authorization');
  if (m.authorizationStrip.basicUsers.length > 0) body.push(m.methodHeader && m.userHeader ? 'request_header @portcullis_basic_client -Authorization' : 'request_header -Authorization');
  m.apiKeyHeaders.forEach((k, i) => {
    if (k.strip === 'always') body.push(`request_header -${k.header}`);
    else if (typeof k.strip === 'object') body.push(m.methodHeader && m.userHeader ? `request_header @portcullis_key_${i} -${k.header}` : `request_header -${k.header}`);
  });
  if (!u.websocket) body.push('request_header -Upgrade');
  if (u.stripPrefix && u.pathPrefix !== '') {
    // `/legacy` itself becomes `/` upstream, as in the built-in proxy (strip_prefix alone would leave an empty path).
    body.push(`rewrite @${u.id}_bare ${tok('{path}/?{query}')}`, `uri strip_prefix ${tok(u.pathPrefix)}`);
  }
  if (u.basePath !== '') body.push(`rewrite * ${tok(`${u.basePath}{uri}`)}`);
  const transport = [`dial_timeout ${seconds(u.timeouts.connect || 5000)}`];
  if (u.timeouts.responseHeaders > 0) transport.push(`response_header_timeout ${seconds(u.timeouts.responseHeaders)}`);
  body.push(
    ...block(0, `reverse_proxy ${u.secure ? 'https://' : ''}${u.address}`, [
      ...(u.preserveHost ? [] : ['header_up Host {upstream_hostport}']),
      `header_up Cookie ${tok(cookieRegex(m))} $2`,
      `header_up Cookie ${tok('^;\\s*()')} $1`,
      'header_up -Forwarded',
      'header_up -Proxy',
      'header_up -Proxy-Authorization',
      'header_up X-Real-IP {remote_host}',
      'header_up X-Request-Id {http.request.uuid}',
      '# Streams flow as they come (video, long downloads).',
      'flush_interval -1',
      ...block(0, 'transport http', transport),
    ]),
  );
  return block(0, 'route', body);
}

function siteBlock(m: FrontProxyModel, site: FrontSite, config: Readonly<Config>, o: CaddyOptions): string[] {
  const body: string[] = [];
  if (o.bind) body.push(`bind ${o.bind}`);
  for (const s of site.shadowed) body.push(`# upstream ${s.upstream} is not reachable here: ${s.by} covers its path prefix`);
  body.push(...matchers(m, site), '');
  body.push(`# ${m.prefix}/authz is only for Caddy's own forward_auth, which asks the gateway directly.`);
  body.push(...block(0, 'handle @portcullis_authz', ['respond 404']), ...portalHandle(m));
  let catchAll: string[] = block(0, 'handle', ['# No upstream is configured for this address (the built-in proxy answers 404 too).', 'respond `{"error":"not_found"}` 404']);
  for (const u of site.routes) {
    const route = [`# upstream ${u.name}`, ...upstreamRoute(m, u)];
    if (u.pathPrefix === '') catchAll = block(0, 'handle', route);
    else body.push(...block(0, `handle @${u.id}`, route));
  }
  body.push(...catchAll);
  return ['', ...block(0, siteAddresses(m, site, config, o).join(', '), body)];
}

/** The Caddyfile for `config`. */
export function caddyConfig(config: Readonly<Config>, options: CaddyOptions = {}): GeneratedConfig {
  const m = frontProxyModel(config, { ...options, authCacheSeconds: 0 });
  const header = [
    `Generated by \`portcullis caddy-config\`${m.source ? ` from ${m.source}` : ''}: Caddy in front, Portcullis as the forward-auth`,
    'service. Generate it again after changing hosts, upstreams, identity headers, cookies or API clients.',
    '',
    `${m.prefix}/ (sign-in pages, JSON API) goes to the gateway at ${m.gatewayUrl.origin}; every other path is first checked with`,
    `forward_auth (${m.prefix}/authz/forward-auth). The gateway must list Caddy's address in server.trusted_proxies`,
    `(now: ${m.trustedProxies.length ? m.trustedProxies.join(', ') : 'empty — every check would be refused'}). No answer is cached: a revoked session is`,
    `refused within session.cache_ttl (${m.sessionCacheSeconds} s).`,
    ...m.warnings.flatMap((w) => ['', `WARNING: ${w}`]),
  ].map((l) => (l === '' ? '#' : `# ${l}`));
  const lines = [...header];
  for (const site of m.sites) lines.push(...siteBlock(m, site, config, options));
  return { text: `${lines.join('\n')}\n`, warnings: m.warnings, revocationBoundSeconds: m.sessionCacheSeconds };
}
