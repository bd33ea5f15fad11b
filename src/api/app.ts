import type { AuthCore } from '../auth/core.js';
import type { Config } from '../config/schema/index.js';

/** What the JSON API knows of the gateway that mounts it: the auth core and the live config. */
export interface ApiApp {
  readonly core: AuthCore;
  readonly config: Readonly<Config>;
  /** `server.portal_prefix`. */
  readonly prefix: string;
}
