import type { IdentityProviderConfig } from '../config/schema/index.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../util/clock.js';
import { loadAssertionKey } from './client-auth.js';
import { IdentityProvider, type ProviderHealth } from './provider.js';

export { IdentityProvider, IdpError, CLOCK_TOLERANCE_S, type AuthorizationChecks, type IdpFailure, type ProviderHealth, type VerifiedIdentity } from './provider.js';
export { MAX_PROVIDER_RESPONSE_BYTES } from './fetch.js';

/** Every `identity_providers` entry as a relying-party client, built once at start (a change needs a restart). */
export class IdentityProviders {
  private readonly byName: ReadonlyMap<string, IdentityProvider>;

  private constructor(readonly list: readonly IdentityProvider[]) {
    this.byName = new Map(list.map((p) => [p.name, p]));
  }

  /** Loads `private_key_jwt` keys (throws with a clear message when one is unusable); does not touch the network. */
  static async create(configs: readonly Readonly<IdentityProviderConfig>[], deps: { logger: Logger; clock: Clock }): Promise<IdentityProviders> {
    const list: IdentityProvider[] = [];
    for (const config of configs) {
      const key = config.private_key_jwt ? await loadAssertionKey(config) : undefined;
      list.push(new IdentityProvider(config, { ...deps, key }));
    }
    return new IdentityProviders(list);
  }

  get(name: string): IdentityProvider | undefined {
    return this.byName.get(name);
  }

  /** Discovery for every provider, in the background: an unreachable provider never stops the gateway. */
  startDiscovery(): void {
    for (const p of this.list) p.startDiscovery();
  }

  health(): Record<string, ProviderHealth> {
    return Object.fromEntries(this.list.map((p) => [p.name, p.health()]));
  }

  close(): void {
    for (const p of this.list) p.close();
  }
}
