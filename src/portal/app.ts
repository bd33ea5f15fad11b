import type { AuthCore } from '../auth/core.js';
import type { Config } from '../config/schema/index.js';
import type { ErrorPages } from '../http/respond.js';
import type { BrandView } from './views/context.js';

/**
 * What the portal knows of the gateway that mounts it: the auth core (every decision), the live config,
 * and which hosts are its own. The portal parses forms, calls a use-case and renders its outcome.
 */
export interface PortalApp {
  readonly core: AuthCore;
  readonly config: Readonly<Config>;
  /** `server.portal_prefix`. */
  readonly prefix: string;
  /** Demo mode: the dev outbox is served. */
  readonly demo: boolean;
  /** `portal.branding` as the pages show it. */
  readonly brand: BrandView;
  /** The gateway's error pages (the portal's layout, the visitor's language). */
  readonly errorPages: ErrorPages;
  /** Host names this gateway serves, and the `public_url` origins (where `rd` may point). */
  readonly servedHosts: ReadonlySet<string>;
  readonly servedOrigins: ReadonlySet<string>;
  servesHost(host: string): boolean;
  /** The origin links to the portal should use for a request to `host` (emails), if one is known. */
  publicBase(host: string, proto: 'http' | 'https'): string | undefined;
}
