import type { ApiClientAuthenticator } from '../apiclients/index.js';
import type { AccessDecider } from '../auth/access.js';
import type { AuthCore } from '../auth/core.js';
import type { Config } from '../config/schema/index.js';
import type { ErrorPages } from '../http/respond.js';
import type { Branding, BrandView } from '../portal/branding.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { Proxy } from '../proxy/forward.js';
import type { UpstreamRouter } from '../proxy/router.js';
import { UpgradeLimits } from '../proxy/upgrade-limits.js';
import type { NetworkSet } from '../util/net.js';
import type { IdentityHeaders } from './identity.js';

/** Everything compiled from one config; a reload builds a new one and swaps the reference. */
export interface Compiled {
  config: Readonly<Config>;
  policy: AccessPolicy;
  access: AccessDecider;
  router: UpstreamRouter;
  proxy: Proxy;
  apiClients: ApiClientAuthenticator;
  trusted: NetworkSet;
  identity: IdentityHeaders;
  /** Client-sent copies of these (identity headers) are always removed before forwarding. */
  stripHeaders: readonly string[];
  /** The gateway's own cookies, never forwarded upstream. */
  stripCookies: readonly string[];
  /** Host names this gateway serves (public_url and upstream hosts; `rd` honours them in the request's scheme and port). */
  servedHosts: ReadonlySet<string>;
  /** The `public_url` origins, honoured as `rd` targets whatever the request arrived on. */
  servedOrigins: ReadonlySet<string>;
  /** The Strict-Transport-Security header value, when the portal is HTTPS. */
  hsts: string | undefined;
  /** `server.allowed_origins`: further origins a cookie-authenticated state change may come from. */
  allowedOrigins: ReadonlySet<string>;
  prefix: string;
  /** `portal.branding`: its assets (logo, accent stylesheet) and what the pages show. */
  branding: Branding;
  brand: BrandView;
  /** Error pages in the portal's layout, handed to every place that answers with an error. */
  errorPages: ErrorPages;
}

/**
 * One running gateway: the long-lived auth core and the current compiled config. The portal and the
 * JSON API see it through their own narrow interfaces (PortalApp, ApiApp), never this class.
 */
export class Gateway {
  /** Open WebSockets per upstream and per client address (kept across reloads). */
  readonly upgrades = new UpgradeLimits();
  /** The process is draining (SIGTERM): readiness answers 503 so that balancers send traffic elsewhere. */
  draining = false;

  constructor(
    readonly core: AuthCore,
    public compiled: Compiled,
    /** Demo mode: the dev outbox is served. */
    readonly demo: boolean,
  ) {}

  get config(): Readonly<Config> {
    return this.compiled.config;
  }

  get prefix(): string {
    return this.compiled.prefix;
  }

  get brand(): BrandView {
    return this.compiled.brand;
  }

  get errorPages(): ErrorPages {
    return this.compiled.errorPages;
  }

  get servedHosts(): ReadonlySet<string> {
    return this.compiled.servedHosts;
  }

  get servedOrigins(): ReadonlySet<string> {
    return this.compiled.servedOrigins;
  }

  servesHost(host: string): boolean {
    return this.compiled.servedHosts.has(host.toLowerCase());
  }

  /**
   * Where links to the portal point (emails, a front proxy's redirect): the `public_url` of `host`, else
   * the first `public_url`, else the request's own origin when this gateway serves that host. Never an
   * unchecked Host header (a forged one would send the victim a link to the attacker's site).
   */
  publicBase(host: string, proto: 'http' | 'https'): string | undefined {
    const configured = this.config.server.public_url;
    const urls = configured === undefined ? [] : Array.isArray(configured) ? configured : [configured];
    const h = host.toLowerCase();
    const chosen = urls.find((u) => new URL(u).host.toLowerCase() === h) ?? urls[0];
    if (chosen !== undefined) return chosen.replace(/\/+$/, '');
    return this.servesHost(h) ? `${proto}://${h}` : undefined;
  }

  /** Swaps in a new compiled config; the old proxy's pools close once their requests finish. */
  swap(next: Compiled): Compiled {
    const old = this.compiled;
    this.compiled = next;
    return old;
  }
}
