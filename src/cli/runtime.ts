/**
 * What the operator commands (`sessions`, `users`) share: load the config (exit 2 with every problem on
 * error), build the same auth core the gateway builds (exit 1 with one clear line when the store cannot
 * be reached) — never a listener — then close everything again.
 */
import { pino } from 'pino';
import { createAuthCore, type AuthCore } from '../auth/core.js';
import { formatProblem, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema/index.js';
import { isPortcullisError } from '../errors/index.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';

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

/** What an operator command works with: the config and the auth core (audit lines go to stderr, `client_ip: cli`). */
export interface Runtime {
  readonly config: Readonly<Config>;
  readonly configPath: string;
  readonly core: AuthCore;
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
 * Loads `configPath`, builds the core and runs `fn`; answers the exit code. Config problems → 2, an
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
  // Audit lines (the gateway's format, `client_ip: cli`) on stderr; nothing else is logged.
  const logger = createLogger({ level: config.logging.level }, io.stderr);
  const quiet = pino({ level: 'silent' });
  let core: AuthCore | undefined;
  try {
    core = await createAuthCore(() => config, { logger: quiet, auditLogger: logger, metrics: new Metrics({ defaultMetrics: false }), configPath, watchUsers: false, discoverProviders: false });
    try {
      await core.store.ping();
    } catch (err) {
      io.stderr.write(`portcullis ${command}: cannot reach the session store at ${describeStore(config.session)}: ${causeMessage(err)}\n`);
      return 1;
    }
    return await fn({ config, configPath, core });
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
    await core?.close();
    logger.flush?.();
  }
}
