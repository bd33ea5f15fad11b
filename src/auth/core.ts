import { dirname } from 'node:path';
import type { Config } from '../config/schema/index.js';
import { productName } from '../config/schema/misc.js';
import { createDelivery, type Delivery } from '../delivery/index.js';
import type { OneTimeCodes } from '../factors/codes.js';
import { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import { createFactors, type FactorRegistry } from '../factors/registry.js';
import type { RecoveryCodes } from '../factors/recovery-codes.js';
import type { TotpFactor } from '../factors/totp.js';
import type { PasskeyEvent } from '../factors/webauthn.js';
import { Keyring } from '../keys/keyring.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { Regulator } from '../regulation/regulator.js';
import { DeviceCookies } from '../session/cookie-options.js';
import { SessionManager } from '../session/sessions.js';
import { IdentityProviders } from '../idp/index.js';
import { createStore } from '../store/create-store.js';
import type { KeyValueStore } from '../store/store.js';
import { createDirectories } from '../users/chain.js';
import type { UserDirectory } from '../users/directory.js';
import { claimsNamespace, ExternalUserDirectory, ExternalUsers } from '../users/external.js';
import { OverridingDirectory, PasswordOverrides } from '../users/overrides.js';
import { systemClock, type Clock } from '../util/clock.js';
import { cryptoRandom, type Random } from '../util/random.js';
import { Account } from './account.js';
import { Enrolment } from './enrolment.js';
import { FlowStore } from './flows.js';
import { IdentityProviderSignIn } from './identity-providers.js';
import { SignInStates } from './idp-states.js';
import { Invitations } from './invitations.js';
import { Invites } from './invites.js';
import { Notices } from './notices.js';
import { Operator } from './operator.js';
import { Passwords } from './passwords.js';
import { Recovery } from './recovery.js';
import { RecoveryLinks } from './recovery-links.js';
import { SecondStep } from './second-step.js';
import { SessionLookup } from './session-lookup.js';
import { SignIn } from './signin.js';

export interface CoreOptions {
  logger: Logger;
  /** Where audit lines go (default `logger`): the operator commands print them on stderr, nothing else. */
  auditLogger?: Logger;
  clock?: Clock;
  random?: Random;
  metrics?: Metrics;
  /** Where relative paths in the config were resolved from. */
  configPath?: string;
  /** Use this store instead of the configured one (tests). */
  store?: KeyValueStore;
  /** Watch the users file for changes (the gateway does; one-shot commands do not). */
  watchUsers?: boolean;
  /** Discover the identity providers in the background (the gateway does; one-shot commands do not). */
  discoverProviders?: boolean;
}

/**
 * Every long-lived part of authentication, built once from the config: stores, keys, directories,
 * delivery, factors, and the use-cases on top of them. The gateway (`portcullis serve`) and the
 * operator commands build it the same way, so both act with the same rules. `config` is a getter: a
 * reload is seen by every part that reads it per call.
 */
export interface AuthCore {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly keyring: Keyring;
  readonly store: KeyValueStore;
  readonly sessions: SessionManager;
  readonly lookup: SessionLookup;
  readonly deviceCookies: DeviceCookies;
  readonly directory: UserDirectory;
  readonly delivery: Delivery;
  readonly regulator: Regulator;
  readonly factors: FactorRegistry;
  readonly codes: OneTimeCodes;
  readonly totp: TotpFactor;
  readonly recoveryCodes: RecoveryCodes;
  readonly devices: TrustedDevices;
  readonly grace: ReverifyGrace;
  readonly flows: FlowStore;
  readonly notices: Notices;
  readonly passwords: Passwords;
  readonly signIn: SignIn;
  readonly secondStep: SecondStep;
  readonly enrolment: Enrolment;
  readonly account: Account;
  readonly recovery: Recovery;
  readonly invitations: Invitations;
  readonly invites: Invites;
  readonly operator: Operator;
  readonly identityProviders: IdentityProviderSignIn;
  close(): Promise<void>;
}

export async function createAuthCore(config: () => Readonly<Config>, o: CoreOptions): Promise<AuthCore> {
  const cfg = config();
  const clock = o.clock ?? systemClock;
  const random = o.random ?? cryptoRandom;
  const logger = o.logger;
  const metrics = o.metrics ?? new Metrics();
  const keyring = Keyring.fromSession(cfg.session);
  // Before anything opens a connection: an unusable private_key_jwt key stops the start with its file named.
  const providers = await IdentityProviders.create(cfg.identity_providers, { logger, clock });
  const store = o.store ?? createStore(cfg.session, logger, clock);
  const sessions = new SessionManager(store, cfg.session, { clock, random, logger, keyring });
  const chain = await createDirectories(cfg.users, { logger, watch: o.watchUsers ?? true, ...(o.configPath ? { configDir: dirname(o.configPath) } : {}) });
  // Passwords set through invite links (seed 001) win over the users file's.
  const overrides = new PasswordOverrides(store);
  // Users made from identity providers' claims (`entra:alice`) are found again beside the directories.
  const externalUsers = new ExternalUsers(store);
  const claimsProviders = cfg.identity_providers.filter((p) => p.users === 'claims').map((p) => p.name);
  const directory = new ExternalUserDirectory(new OverridingDirectory(chain, overrides, chain.verifier), externalUsers, claimsNamespace(claimsProviders), chain.verifier);
  const delivery = createDelivery(cfg.delivery, { logger, title: productName(cfg.portal), clock, ...(cfg.delivery.email.templates_dir ? { templatesDir: cfg.delivery.email.templates_dir } : {}) });
  const regulator = new Regulator(store, { regulation: cfg.regulation, lockout: cfg.second_factor.lockout }, clock);
  // A passkey whose signature counter went backwards (a clone) is audited once the notices exist.
  let passkeyEvent: (e: PasskeyEvent) => void = () => {};
  const { registry: factors, codes, totp, recovery: recoveryCodes, webauthn } = createFactors({ store, keyring, delivery, clock, random, config, onPasskeyEvent: (e) => passkeyEvent(e) });
  const devices = new TrustedDevices(store, cfg.second_factor.trusted_devices, clock);
  const grace = new ReverifyGrace(store, cfg.session.reverify_grace);
  const flows = new FlowStore(store, clock);
  const notices = new Notices({ config, logger: o.auditLogger ?? logger, metrics, delivery });
  passkeyEvent = (e) => notices.audit({ clientIp: '', requestId: '' }, 'second_factor', e.user, 'failure', 'webauthn_counter_regressed', { method: 'webauthn', credential_id: e.credentialId.slice(0, 16), stored_counter: e.stored });
  const passwords = new Passwords({ directory, regulator, metrics, notices, clock });
  const secondStep = new SecondStep({ config, clock, metrics, notices, directory, regulator, factors, codes, devices, grace, sessions, flows });
  const invites = new Invites(store, keyring.atRest('invites'), clock, random);
  const links = new RecoveryLinks(store, keyring.atRest('invites'), clock, random);
  const signIn = new SignIn({ config, passwords, factors, secondStep, devices, grace, notices });
  const identityProviders = new IdentityProviderSignIn({ config, providers, states: new SignInStates(store, keyring.signing('oidc-state'), random), directory, externalUsers, signIn, regulator, notices, metrics });
  if (o.discoverProviders ?? true) providers.startDiscovery();
  return {
    logger,
    metrics,
    clock,
    keyring,
    store,
    sessions,
    lookup: new SessionLookup(sessions, () => config().session.cookie.name),
    deviceCookies: new DeviceCookies(keyring, random),
    directory,
    delivery,
    regulator,
    factors,
    codes,
    totp,
    recoveryCodes,
    devices,
    grace,
    flows,
    notices,
    passwords,
    signIn,
    secondStep,
    enrolment: new Enrolment({ config, clock, metrics, notices, store, directory, regulator, passwords, factors, totp, webauthn, recovery: recoveryCodes, codes, sessions, grace }),
    account: new Account({ config, directory, factors, devices, grace, sessions, notices }),
    recovery: new Recovery({ config, logger, directory, regulator, passwords, factors, devices, grace, sessions, links, notices }),
    invitations: new Invitations({ clock, directory, regulator, invites, overrides, sessions, devices, notices, forgetPassword: (u) => passwords.forget(u) }),
    invites,
    operator: new Operator({ config, directory, regulator, factors, devices, sessions, invites, notices, delivery }),
    identityProviders,
    async close() {
      providers.close();
      await Promise.allSettled([sessions.close(), directory.close(), delivery.close()]);
      await store.close().catch(() => undefined);
    },
  };
}
