/**
 * What the operator commands (`sessions`, `users`) share: load the config (exit 2 with every problem on
 * error), open the configured store (exit 1 with one clear line when it cannot be reached) and build
 * only the parts a command asks for — never a listener — then close everything again.
 */
import { dirname } from 'node:path';
import { pino, type DestinationStream } from 'pino';
import { Invites } from '../auth/invites.js';
import { formatProblem, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import { isPortcullisError } from '../errors/index.js';
import type { TrustedDevices } from '../factors/devices.js';
import type { FactorState } from '../factors/enrolment.js';
import type { RecoveryCodes } from '../factors/recovery-codes.js';
import type { TotpFactor } from '../factors/totp.js';
import { audit, createLogger, type AuditEvent, type Logger } from '../observability/logger.js';
import { Regulator } from '../regulation/regulator.js';
import { sessionSecrets } from '../session/cookie.js';
import { createStore } from '../session/create-store.js';
import { SessionManager } from '../session/sessions.js';
import type { KeyValueStore } from '../session/store.js';
import type { UserDirectory } from '../users/directory.js';
import { systemClock, type Clock } from '../util/clock.js';
import { deriveKey } from '../util/compare.js';
import { cryptoRandom } from '../util/random.js';

export type Out = { write(chunk: string): unknown };
export interface CommandIo {
  stdout: Out;
  stderr: Out;
}

/** A failure the command explains itself: its message goes to stderr as one line. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export interface Factors {
  state: FactorState;
  totp: TotpFactor;
  recovery: RecoveryCodes;
  devices: TrustedDevices;
}

/** The parts of a gateway an operator command may need, each built on first use. */
export interface Runtime {
  readonly config: Readonly<Config>;
  readonly configPath: string;
  readonly store: KeyValueStore;
  readonly clock: Clock;
  sessions(): SessionManager;
  regulator(): Regulator;
  factors(): Promise<Factors>;
  directory(): Promise<UserDirectory>;
  delivery(): Promise<Delivery>;
  invites(): Invites;
  /** An audit line (the gateway's format) on stderr, with `client_ip: cli`. */
  audit(event: AuditEvent): void;
}

/** Where the store lives, for messages (never a password). */
export function describeStore(session: Config['session']): string {
  const r = session.redis;
  if (r.sentinel) return `redis sentinel '${r.sentinel.master_name}' (${r.sentinel.nodes.join(', ')})`;
  if (r.cluster) return `redis cluster (${r.cluster.nodes.join(', ')})`;
  try {
    const u = new URL(r.url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'redis';
  }
}

function causeMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(err);
}

/**
 * Loads `configPath`, opens the store and runs `fn`; answers the exit code. Config problems → 2, an
 * unreachable store → 1, a CommandError → its code; everything built is closed before returning.
 */
export async function withRuntime(configPath: string, io: CommandIo, command: string, fn: (rt: Runtime) => Promise<number>): Promise<number> {
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    for (const p of loaded.problems) io.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  const config = loaded.config;
  if (config.session.store !== 'redis') {
    io.stderr.write(`portcullis ${command}: session.store is '${config.session.store}': that state lives inside the gateway process, so operator commands cannot reach it; use store: redis\n`);
    return 2;
  }
  const quiet: Logger = pino({ level: 'silent' });
  const auditLog = createLogger({ level: config.logging.level }, io.stderr as unknown as DestinationStream);
  const clock = systemClock;
  const store = createStore(config.session, quiet, clock);
  const secrets = sessionSecrets(config.session);
  const atRest = secrets[secrets.length - 1]!;
  const built: { sessions?: SessionManager; regulator?: Regulator; factors?: Promise<Factors>; directory?: Promise<UserDirectory>; delivery?: Promise<Delivery>; invites?: Invites } = {};
  const rt: Runtime = {
    config,
    configPath,
    store,
    clock,
    sessions: () => (built.sessions ??= new SessionManager(store, config.session, { clock })),
    regulator: () => (built.regulator ??= new Regulator(store, { regulation: config.regulation, lockout: config.second_factor.lockout }, clock)),
    // The heavier modules (QR codes, LDAP, mail) load only for the commands that use them.
    factors: () => (built.factors ??= buildFactors(store, config, atRest, clock)),
    directory: () =>
      (built.directory ??= import('../users/chain.js').then(({ createDirectories }) => createDirectories(config.users, { logger: quiet, configDir: dirname(configPath), watch: false }))),
    delivery: () => (built.delivery ??= import('../delivery/index.js').then(({ createDelivery }) => createDelivery(config.delivery, { logger: quiet, title: config.portal.title, clock }))),
    invites: () => (built.invites ??= new Invites(store, deriveKey(atRest, 'invites'), clock)),
    audit: (event) => audit(auditLog, { ...event, client_ip: 'cli' }),
  };
  try {
    try {
      await store.ping();
    } catch (err) {
      io.stderr.write(`portcullis ${command}: cannot reach the session store at ${describeStore(config.session)}: ${causeMessage(err)}\n`);
      return 1;
    }
    return await fn(rt);
  } catch (err) {
    if (err instanceof CommandError) {
      io.stderr.write(`portcullis ${command}: ${err.message}\n`);
      return err.exitCode;
    }
    if (isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE')) {
      io.stderr.write(`portcullis ${command}: the session store at ${describeStore(config.session)} failed: ${causeMessage(err)}\n`);
      return 1;
    }
    if (isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG')) {
      io.stderr.write(`portcullis ${command}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`portcullis ${command}: ${causeMessage(err)}\n`);
    return 1;
  } finally {
    const directory = built.directory?.then((d) => d.close(), () => undefined);
    const delivery = built.delivery?.then((d) => d.close(), () => undefined);
    await Promise.allSettled([built.sessions?.close(), directory, delivery]);
    await store.close().catch(() => undefined);
    auditLog.flush?.();
  }
}

async function buildFactors(store: KeyValueStore, config: Readonly<Config>, atRest: string, clock: Clock): Promise<Factors> {
  const [{ TotpFactor }, { RecoveryCodes }, { FactorState }, { TrustedDevices }] = await Promise.all([
    import('../factors/totp.js'),
    import('../factors/recovery-codes.js'),
    import('../factors/enrolment.js'),
    import('../factors/devices.js'),
  ]);
  const sf = config.second_factor;
  const totp = new TotpFactor(store, sf.totp, deriveKey(atRest, 'totp-at-rest'), clock);
  const recovery = new RecoveryCodes(store, sf.recovery_codes, deriveKey(atRest, 'recovery-codes'), cryptoRandom);
  const state = new FactorState(store, [{ remove: (u: string) => totp.remove(u) }, { remove: (u: string) => recovery.remove(u) }]);
  return { state, totp, recovery, devices: new TrustedDevices(store, sf.trusted_devices, clock) };
}
