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
import { DeviceCookies, sessionCookieName } from '../session/cookie-options.js';
import { LiveConnections } from '../session/live-connections.js';
import { SessionManager } from '../session/sessions.js';
import { IdentityProviders } from '../idp/index.js';
import { createStore } from '../store/create-store.js';
import type { KeyValueStore } from '../store/store.js';
import { createDirectories } from '../users/chain.js';
import { FileDirectory } from '../users/file.js';
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
import { NotMe } from './not-me.js';
import { Notices } from './notices.js';
import { Operator } from './operator.js';
import { Passwords } from './passwords.js';
import { Recovery } from './recovery.js';
import { RecoveryLinks } from './recovery-links.js';
import { ReportLinks } from './report-links.js';
import { UserRevocation } from './revocation.js';
import { SecondStep } from './second-step.js';
import { SessionLookup } from './session-lookup.js';
import { AppPasswords } from './app-passwords.js';
import type { EndReason } from './revocation.js';

const APP_PASSWORDS_END: ReadonlySet<EndReason> = new Set(['password_changed', 'locked', 'reported', 'operator', 'disabled', 'removed']);
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
  /** This instance's open WebSockets and streams by session: closed when their session ends anywhere. */
  readonly connections: LiveConnections;
  /** `endEverythingOfUser`: the one way to cut a user off (sessions, open connections, devices, app passwords). */
  readonly revocation: UserRevocation;
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
  readonly appPasswords: AppPasswords;
  readonly signIn: SignIn;
  readonly secondStep: SecondStep;
  readonly enrolment: Enrolment;
  readonly account: Account;
  readonly recovery: Recovery;
  readonly invitations: Invitations;
  /** "This wasn't me": the link in security emails that shuts everything of the user. */
  readonly notMe: NotMe;
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
  const reportLinks = new ReportLinks(store, keyring.atRest('report-links'), clock, random);
  const notices = new Notices({ config, logger: o.auditLogger ?? logger, metrics, delivery, reportLinks });
  passkeyEvent = (e) => notices.audit({ clientIp: '', requestId: '' }, 'second_factor', e.user, 'failure', 'webauthn_counter_regressed', { method: 'webauthn', credential_id: e.credentialId.slice(0, 16), stored_counter: e.stored });
  const passwords = new Passwords({ directory, regulator, metrics, notices, clock });
  const revocation = new UserRevocation({ sessions, devices, grace, forgetPassword: (u) => passwords.forget(u) });
  const connections = liveConnections(sessions, cfg.session, clock, metrics);
  const appPasswords = new AppPasswords({ store, keyring, clock, config, regulator, directory, notices, sessions });
  // App passwords end with the password, a lock, a report, an operator's revocation or the account itself.
  revocation.alsoRevoke((user, reason) => (APP_PASSWORDS_END.has(reason) ? appPasswords.removeAll(user) : Promise.resolve()));
  // `disabled: true` in the users file: sessions are none at once on lookup, and the reload ends them everywhere.
  // A user removed from the file (and known to no other directory) is ended the same way.
  const usersFile = chain.directories.find((d): d is FileDirectory => d instanceof FileDirectory);
  usersFile?.on('reload', (e: { disabled?: string[]; removed?: string[]; passwordChanged?: string[] }) => {
    const end = (user: string, reason: 'disabled' | 'removed' | 'password_changed'): void => {
      revocation.endEverythingOfUser(user, reason).then(
        (ended) => notices.audit({ clientIp: 'users-file', requestId: '' }, 'sessions_revoked', user, 'success', reason, { method: 'directory', count: ended.sessions, devices: ended.devices }),
        (err: unknown) => logger.error({ err: { message: (err as Error).message }, user }, `ending the sessions of a ${reason} user failed`),
      );
    };
    for (const user of e.disabled ?? []) end(user, 'disabled');
    for (const user of e.passwordChanged ?? []) if (!(e.disabled ?? []).includes(user)) end(user, 'password_changed');
    for (const user of e.removed ?? []) {
      directory.lookup(user).then(
        (still) => (still ? undefined : end(user, 'removed')),
        (err: unknown) => logger.error({ err: { message: (err as Error).message }, user }, 'a removed user could not be looked up; their sessions stay until they end'),
      );
    }
  });
  const secondStep = new SecondStep({ config, clock, metrics, notices, directory, regulator, factors, codes, devices, grace, sessions, flows, revocation });
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
    connections,
    revocation,
    lookup: new SessionLookup(sessions, () => sessionCookieName(config()), usersFile ? (u) => usersFile.isDisabled(u) : undefined),
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
    appPasswords,
    signIn,
    secondStep,
    enrolment: new Enrolment({ config, clock, metrics, notices, store, directory, regulator, passwords, factors, totp, webauthn, recovery: recoveryCodes, codes, sessions, grace }),
    account: new Account({ config, directory, factors, devices, grace, sessions, notices, revocation, ...(webauthn ? { webauthn } : {}) }),
    recovery: new Recovery({ config, logger, directory, regulator, passwords, factors, devices, grace, sessions, links, notices, revocation }),
    invitations: new Invitations({ clock, directory, regulator, invites, overrides, sessions, devices, notices, forgetPassword: (u) => passwords.forget(u), revocation }),
    invites,
    notMe: new NotMe({ config, clock, logger, links: reportLinks, revocation, regulator, codes, recoveryLinks: links, invites, notices, delivery }),
    operator: new Operator({ config, directory, regulator, factors, devices, sessions, invites, notices, delivery, revocation }),
    identityProviders,
    async close() {
      providers.close();
      connections.close();
      await Promise.allSettled([sessions.close(), directory.close(), delivery.close()]);
      await store.close().catch(() => undefined);
    },
  };
}

/** The open-connection registry, told of every session end through the sessions' fan-out. */
function liveConnections(sessions: SessionManager, session: Config['session'], clock: Clock, metrics: Metrics): LiveConnections {
  const connections = new LiveConnections({
    clock,
    idleTimeout: () => session.idle_timeout,
    check: async (ref) => {
      const s = await sessions.peek(ref);
      if (!s) return { state: 'ended' };
      if (session.idle_timeout > 0 && clock.now() - s.lastSeenAt > session.idle_timeout) return { state: 'idle' };
      return { state: 'live', lastSeenAt: s.lastSeenAt };
    },
    onIdle: (ref) => void sessions.revokeById(ref).catch(() => undefined),
    onClosed: (kind, reason) => metrics.connectionsRevoked.inc({ kind, reason }),
  });
  sessions.onEnded((e) => connections.apply(e));
  return connections;
}
