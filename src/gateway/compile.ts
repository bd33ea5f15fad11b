import { compileApiClients } from '../apiclients/index.js';
import { AccessDecider } from '../auth/access.js';
import type { AuthCore } from '../auth/core.js';
import type { Config } from '../config/schema/index.js';
import { compileAccess } from '../policy/rules.js';
import { portalIsHttps, sessionCookieName } from '../session/cookie-options.js';
import { Proxy } from '../proxy/forward.js';
import { UpstreamRouter } from '../proxy/router.js';
import type { OpenWebSockets } from '../proxy/websocket.js';
import { NetworkSet } from '../util/net.js';
import { compileBranding } from '../portal/branding.js';
import { LOGIN_CSRF_COOKIE } from '../portal/csrf.js';
import { createErrorPages } from '../portal/error-pages.js';
import { OIDC_BINDING_COOKIE } from '../portal/oidc.js';
import { IdentityHeaders, identityHeaderNames } from './identity.js';
import type { Compiled } from './runtime.js';

function servedHosts(config: Readonly<Config>): Set<string> {
  const hosts = new Set<string>();
  const urls = config.server.public_url === undefined ? [] : Array.isArray(config.server.public_url) ? config.server.public_url : [config.server.public_url];
  for (const u of urls) {
    const url = new URL(u);
    hosts.add(url.host.toLowerCase());
    hosts.add(url.hostname.toLowerCase());
  }
  for (const up of config.upstreams) for (const h of up.match.hosts) if (!h.includes('*')) hosts.add(h.toLowerCase());
  return hosts;
}

/** The `public_url` origins (`scheme://host[:port]`), served whatever the request arrived on (for `rd`). */
function servedOrigins(config: Readonly<Config>): Set<string> {
  const urls = config.server.public_url === undefined ? [] : Array.isArray(config.server.public_url) ? config.server.public_url : [config.server.public_url];
  return new Set(urls.map((u) => new URL(u).origin));
}

/** The Strict-Transport-Security value when the portal is HTTPS and `server.hsts.max_age` is not 0. */
function hstsValue(config: Readonly<Config>): string | undefined {
  const { max_age, include_subdomains } = config.server.hsts;
  if (!portalIsHttps(config.server) || max_age <= 0) return undefined;
  return `max-age=${Math.floor(max_age / 1000)}${include_subdomains ? '; includeSubDomains' : ''}`;
}

/**
 * Builds everything that depends only on the config. Throws with a clear message when a referenced file
 * is unusable. `shared.webSockets`: the process's open WebSockets, kept across reloads (a drain closes them).
 */
export function compile(config: Readonly<Config>, core: Pick<AuthCore, 'passwords' | 'logger' | 'clock' | 'lookup' | 'sessions' | 'factors' | 'appPasswords'>, shared: { webSockets?: OpenWebSockets } = {}): Compiled {
  const prefix = config.server.portal_prefix;
  const policy = compileAccess(config.access, { portalPrefix: prefix });
  const apiClients = compileApiClients(config.api_clients, { passwords: core.passwords, logger: core.logger, clock: core.clock });
  const branding = compileBranding(config.portal);
  const brand = branding.view(prefix);
  const errorPages = createErrorPages(config, brand);
  return {
    config,
    policy,
    access: new AccessDecider({ policy, apiClients, lookup: core.lookup, verifiedId: (v) => core.sessions.verifiedId(v), clock: core.clock, amr: (m) => core.factors.amr(m), appPasswords: core.appPasswords, cookieDomain: config.session.cookie.domain }),
    router: new UpstreamRouter(config.upstreams),
    proxy: new Proxy({ errorPages, ...(shared.webSockets ? { webSockets: shared.webSockets } : {}) }),
    apiClients,
    trusted: new NetworkSet(config.server.trusted_proxies),
    identity: new IdentityHeaders(config.identity),
    stripHeaders: [...new Set([...identityHeaderNames(config.identity), ...config.server.strip_request_headers.map((h) => h.toLowerCase())])],
    hsts: hstsValue(config),
    stripCookies: [sessionCookieName(config), config.session.cookie.device_name, LOGIN_CSRF_COOKIE, OIDC_BINDING_COOKIE],
    servedHosts: servedHosts(config),
    servedOrigins: servedOrigins(config),
    allowedOrigins: new Set(config.server.allowed_origins.map((o) => new URL(o).origin)),
    prefix,
    branding,
    brand,
    errorPages,
  };
}
