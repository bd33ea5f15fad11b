import type { Config } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import type { Outbox } from '../delivery/outbox.js';
import type { DeviceCookies } from '../session/cookie-options.js';
import type { OneTimeCodes } from '../factors/codes.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { FactorState } from '../factors/enrolment.js';
import type { RecoveryCodes } from '../factors/recovery-codes.js';
import type { TotpFactor } from '../factors/totp.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { ApiClientAuthenticator } from '../apiclients/index.js';
import type { Proxy } from '../proxy/forward.js';
import type { UpstreamRouter } from '../proxy/router.js';
import type { Regulator } from '../regulation/regulator.js';
import type { KeyValueStore } from '../session/store.js';
import type { SessionManager } from '../session/sessions.js';
import type { UserDirectory } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import type { NetworkSet } from '../util/net.js';
import { parseCookies } from '../http/cookies.js';
import type { FlowStore } from '../auth/flows.js';
import type { SignIn } from '../auth/signin.js';
import type { IdentityHeaders } from './identity.js';

/** Long-lived parts: they keep state and connections across config reloads. */
export interface Services {
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  store: KeyValueStore;
  sessions: SessionManager;
  directory: UserDirectory;
  delivery: Delivery;
  outbox?: Outbox | undefined;
  regulator: Regulator;
  codes: OneTimeCodes;
  totp: TotpFactor;
  recovery: RecoveryCodes;
  devices: TrustedDevices;
  grace: ReverifyGrace;
  factorState: FactorState;
  flows: FlowStore;
  signin: SignIn;
  /** Issues, signs and verifies the long-lived device cookie and API device tokens. */
  deviceCookies: DeviceCookies;
  keys: { loginCsrf: Buffer; invite: Buffer };
  /** Demo mode: the dev outbox is served. */
  demo: boolean;
}

/** Everything compiled from one config; a reload builds a new one and swaps the reference. */
export interface Compiled {
  config: Readonly<Config>;
  access: AccessPolicy;
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
  prefix: string;
}

export class Gateway {
  constructor(
    readonly services: Services,
    public compiled: Compiled,
  ) {}

  get config(): Readonly<Config> {
    return this.compiled.config;
  }

  /** The session cookie's value from a Cookie header, if any. */
  sessionCookie(header: string | undefined): string | undefined {
    if (!header) return undefined;
    return parseCookies(header).get(this.compiled.config.session.cookie.name);
  }

  deviceId(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const raw = parseCookies(header).get(this.compiled.config.session.cookie.device_name);
    return raw ? this.services.deviceCookies.verify(raw) : undefined;
  }

  servesHost(host: string): boolean {
    return this.compiled.servedHosts.has(host.toLowerCase());
  }

  /** Swaps in a new compiled config; the old proxy's pools close once their requests finish. */
  swap(next: Compiled): Compiled {
    const old = this.compiled;
    this.compiled = next;
    return old;
  }
}
