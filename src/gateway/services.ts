import { dirname } from 'node:path';
import type { Config } from '../config/schema/index.js';
import { createDelivery } from '../delivery/index.js';
import { OneTimeCodes } from '../factors/codes.js';
import { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import { FactorState } from '../factors/enrolment.js';
import { RecoveryCodes } from '../factors/recovery-codes.js';
import { TotpFactor } from '../factors/totp.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { Regulator } from '../regulation/regulator.js';
import { DeviceCookies } from '../session/cookie-options.js';
import { createStore } from '../session/create-store.js';
import { SessionManager } from '../session/sessions.js';
import type { KeyValueStore } from '../session/store.js';
import { createDirectories } from '../users/chain.js';
import { OverridingDirectory, PasswordOverrides } from '../users/overrides.js';
import { systemClock, type Clock } from '../util/clock.js';
import { deriveKey } from '../util/compare.js';
import { cryptoRandom, type Random } from '../util/random.js';
import { FlowStore } from '../auth/flows.js';
import { SignIn } from '../auth/signin.js';
import type { Services } from './runtime.js';

export interface ServiceOptions {
  logger: Logger;
  clock?: Clock;
  random?: Random;
  metrics?: Metrics;
  /** Where relative paths in the config were resolved from. */
  configPath?: string;
  demo?: boolean;
  /** Use this store instead of the configured one (tests). */
  store?: KeyValueStore;
}

export function sessionSecrets(config: Readonly<Config>): string[] {
  return config.session.secrets ? [...config.session.secrets] : [config.session.secret!];
}

/**
 * Builds the long-lived services. `config` is a getter so every service sees a reloaded config.
 * Keys for data at rest derive from the LAST listed secret (the oldest), so `secrets: [new, old]`
 * rotates cookie signing without losing TOTP seeds; signing uses the first.
 */
export async function buildServices(config: () => Readonly<Config>, o: ServiceOptions): Promise<Services> {
  const cfg = config();
  const clock = o.clock ?? systemClock;
  const random = o.random ?? cryptoRandom;
  const logger = o.logger;
  const metrics = o.metrics ?? new Metrics();
  const secrets = sessionSecrets(cfg);
  const atRest = secrets[secrets.length - 1]!;
  const store = o.store ?? createStore(cfg.session, logger, clock);
  const sessions = new SessionManager(store, cfg.session, { clock, random, logger });
  const chain = await createDirectories(cfg.users, { logger, ...(o.configPath ? { configDir: dirname(o.configPath) } : {}) });
  // Passwords set through invite links (seed 001) win over the users file's.
  const directory = new OverridingDirectory(chain, new PasswordOverrides(store), chain.verifier);
  const delivery = createDelivery(cfg.delivery, { logger, title: cfg.portal.title, ...(cfg.delivery.email.templates_dir ? { templatesDir: cfg.delivery.email.templates_dir } : {}) });
  const regulator = new Regulator(store, { regulation: cfg.regulation, lockout: cfg.second_factor.lockout }, clock);
  const codes = new OneTimeCodes(store, cfg.second_factor.code, deriveKey(atRest, 'one-time-codes'), clock, random);
  const totp = new TotpFactor(store, cfg.second_factor.totp, deriveKey(atRest, 'totp-at-rest'), clock);
  const recovery = new RecoveryCodes(store, cfg.second_factor.recovery_codes, deriveKey(atRest, 'recovery-codes'), random);
  const devices = new TrustedDevices(store, cfg.second_factor.trusted_devices, clock);
  const grace = new ReverifyGrace(store, cfg.session.reverify_grace);
  const factorState = new FactorState(store, [
    { remove: (u: string) => totp.remove(u) },
    { remove: (u: string) => recovery.remove(u) },
  ]);
  const flows = new FlowStore(store, clock);
  const signin = new SignIn({ config, logger, metrics, clock, directory, regulator, codes, totp, recovery, devices, grace, factorState, delivery, sessions, flows });
  const deviceCookies = new DeviceCookies(secrets, random);
  return {
    logger,
    metrics,
    clock,
    store,
    sessions,
    directory,
    delivery,
    outbox: delivery.outbox,
    regulator,
    codes,
    totp,
    recovery,
    devices,
    grace,
    factorState,
    flows,
    signin,
    deviceCookies,
    keys: { loginCsrf: deriveKey(secrets[0]!, 'login-csrf'), invite: deriveKey(atRest, 'invites') },
    demo: o.demo ?? false,
  };
}

export async function closeServices(s: Services): Promise<void> {
  await Promise.allSettled([s.sessions.close(), s.directory.close(), s.delivery.close()]);
  await s.store.close().catch(() => undefined);
}
