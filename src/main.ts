import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type https from 'node:https';
import { readFileSync } from 'node:fs';
import { loadConfigFile, formatProblem } from './config/load.js';
import { watchFile } from './config/watch.js';
import { parseListen } from './config/schema/common.js';
import type { Config } from './config/schema/index.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { createHttpServer, drain } from './http/server.js';
import { OpenWebSockets } from './proxy/websocket.js';
import { createAdminServer } from './gateway/admin.js';
import { compile } from './gateway/compile.js';
import { createRequestHandler, createUpgradeHandler } from './gateway/pipeline.js';
import { Gateway } from './gateway/runtime.js';
import { createAuthCore } from './auth/core.js';
import { isClusterWorker, registerWorkerMetrics, runPrimary, workerCount } from './gateway/workers.js';
import type { KeyValueStore } from './store/store.js';
import type { Clock } from './util/clock.js';
import type { Random } from './util/random.js';

export interface StartOptions {
  config: Readonly<Config>;
  configPath?: string;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  store?: KeyValueStore;
  demo?: boolean;
  /** false: no admin listener here (a cluster worker: the primary serves it). */
  admin?: boolean;
}

export interface RunningGateway {
  gateway: Gateway;
  server: http.Server | https.Server;
  admin?: http.Server | undefined;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  adminUrl?: string | undefined;
  /** Swaps in a new config (already validated). Long-lived services keep their state. */
  reload(config: Readonly<Config>): void;
  /** Drains (stop accepting, finish in-flight requests within the bound) and closes everything. */
  close(): Promise<void>;
}

function listen(server: http.Server, address: string): Promise<string> {
  const { host, port } = parseListen(address)!;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve(`${h}:${a.port}`);
    });
  });
}

/** Sections whose change needs a restart: their services hold connections or state. */
const RESTART_SECTIONS = ['session', 'users', 'delivery', 'regulation', 'second_factor', 'admin', 'identity_providers'] as const;

/** Starts one gateway process: services → start-up checks → listeners. */
export async function startGateway(o: StartOptions): Promise<RunningGateway> {
  const logger = o.logger ?? createLogger(o.config.logging);
  let config = o.config;
  const core = await createAuthCore(() => config, {
    logger,
    metrics: new Metrics(),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.random ? { random: o.random } : {}),
    ...(o.store ? { store: o.store } : {}),
    ...(o.configPath ? { configPath: o.configPath } : {}),
  });
  // The open WebSockets of every compiled config: a drain tells them all to go (1001).
  const webSockets = new OpenWebSockets();
  let compiled;
  try {
    compiled = compile(config, core, { webSockets });
  } catch (err) {
    // A referenced file the config check could not judge (a logo too large): nothing may stay open.
    await core.close();
    throw err;
  }
  const gateway = new Gateway(core, compiled, o.demo ?? false);
  await startupChecks(gateway, logger);

  const limits = config.server.limits;
  const tls = config.server.tls ? { cert: readFileSync(config.server.tls.cert_file), key: readFileSync(config.server.tls.key_file) } : undefined;
  const server = createHttpServer(
    { maxHeaderSize: limits.max_header_size, headerTimeout: limits.header_timeout, requestTimeout: limits.request_timeout, keepAliveTimeout: limits.keep_alive_timeout, ...(tls ? { tls } : {}) },
    createRequestHandler(gateway),
    createUpgradeHandler(gateway),
  );
  let bound: string;
  let admin: http.Server | undefined;
  let adminUrl: string | undefined;
  try {
    bound = await listen(server, config.server.listen);
    if (config.admin.listen && o.admin !== false) {
      admin = createAdminServer(() => gateway);
      adminUrl = `http://${await listen(admin, config.admin.listen)}`;
    }
  } catch (err) {
    // An address in use (EADDRINUSE) or not allowed: nothing may keep the process alive afterwards.
    if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    await core.close();
    throw err;
  }
  const url = `${tls ? 'https' : 'http'}://${bound}`;
  logger.info({ url, admin: adminUrl, upstreams: config.upstreams.map((u) => u.name), store: config.session.store }, 'portcullis listening');

  let closing: Promise<void> | undefined;
  return {
    gateway,
    server,
    admin,
    url,
    adminUrl,
    reload(next) {
      for (const section of RESTART_SECTIONS) {
        if (JSON.stringify(next[section]) !== JSON.stringify(config[section])) logger.warn({ section }, `config section '${section}' changed: it takes effect after a restart`);
      }
      const compiled = compile(next, core, { webSockets });
      config = next;
      const old = gateway.swap(compiled);
      // The old pools finish what they carry (long video streams included); new requests use the new ones.
      void old.router.close();
      logger.info({ upstreams: next.upstreams.map((u) => u.name) }, 'config reloaded');
    },
    close() {
      closing ??= (async () => {
        // Readiness answers 503 from here on. The listener is closed (synchronously, in drain) before
        // WebSocket clients are told to reconnect: a reconnection must not reach this instance's backlog.
        gateway.draining = true;
        const drained = drain(server, config.server.shutdown_timeout, config.server.shutdown_keepalive_grace);
        const goneAway = webSockets.goAway();
        if (goneAway > 0) logger.info({ websockets: goneAway }, 'WebSockets closed with 1001 (going away)');
        await drained;
        await gateway.compiled.proxy.close();
        if (admin) await new Promise<void>((r) => admin.close(() => r()));
        admin?.closeAllConnections?.();
        await core.close();
      })();
      return closing;
    },
  };
}

/** Every provider is checked at boot and all failures are reported together (STYLE §8). */
async function startupChecks(gw: Gateway, logger: Logger): Promise<void> {
  const s = gw.core;
  const checks: Array<[string, () => Promise<void>]> = [
    ['session store', () => s.store.ping()],
    ['user directory', () => s.directory.check()],
    ['delivery', () => s.delivery.check()],
  ];
  const results = await Promise.allSettled(checks.map(([, fn]) => fn()));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ check: checks[i]![0], message: (r.reason as Error).message }] : []));
  for (const f of failed) logger.warn(f, `start-up check failed: ${f.check}`);
  // The store and directories recover by themselves; the gateway starts and fails closed until they do.
}

/** `portcullis serve`: load, validate (exit 2 on error), listen, handle SIGHUP and SIGTERM. */
export async function serve(options: { configPath: string }): Promise<void> {
  const loaded = await loadConfigFile(options.configPath, process.env, { checkFiles: true });
  if (!loaded.ok) {
    for (const p of loaded.problems) console.error(formatProblem(p));
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(loaded.config.logging);
  if (!isClusterWorker()) for (const w of loaded.warnings) logger.warn({ problem: formatProblem(w) }, 'config warning');
  // server.workers > 1: this process becomes the cluster primary (src/gateway/workers.ts) and forks the gateways.
  const workers = workerCount(loaded.config);
  if (workers > 1 && !isClusterWorker()) return runPrimary({ count: workers, config: loaded.config, logger });
  const running = await startGateway({ config: loaded.config, configPath: options.configPath, logger, ...(isClusterWorker() ? { admin: false } : {}) }).catch((err: unknown) => {
    if (!isClusterWorker()) throw err;
    // A worker that cannot start exits (its IPC channel would keep it alive); the primary decides what next.
    logger.fatal({ err: { message: (err as Error).message } }, 'worker could not start');
    logger.flush?.();
    process.exit(1);
  });
  if (isClusterWorker()) registerWorkerMetrics(running.gateway.core.metrics.registry);
  installSignals(running, logger, options.configPath);
}

export function installSignals(running: RunningGateway, logger: Logger, configPath?: string): void {
  if (configPath) {
    const reload = () => {
      void (async () => {
        const next = await loadConfigFile(configPath, process.env, { checkFiles: true });
        if (!next.ok) {
          logger.error({ problems: next.problems.map(formatProblem) }, 'config reload refused: the old config stays');
          return;
        }
        try {
          running.reload(next.config);
        } catch (err) {
          logger.error({ err: { message: (err as Error).message } }, 'config reload failed: the old config stays');
        }
      })();
    };
    process.on('SIGHUP', reload);
    if (running.gateway.config.server.watch_config) {
      const stopWatching = watchFile(configPath, () => {
        logger.info({ file: configPath }, 'config file changed');
        reload();
      });
      process.once('exit', stopWatching);
    }
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'draining');
    running.close().then(
      () => {
        logger.info('stopped');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

