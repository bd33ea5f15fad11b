/**
 * `server.workers: auto | N`: a node:cluster primary forks one gateway process per worker; they share
 * the public listener (the primary accepts and hands connections round-robin). The primary serves no
 * request itself. It
 * - forwards SIGHUP to every worker (each re-reads and validates the config file itself),
 * - drains on SIGTERM/SIGINT: every worker gets SIGTERM, the primary exits once they all have,
 * - restarts a worker that dies (after a second if it died within a second of starting); when 5
 *   workers in a row die before listening (port taken, unreadable TLS files), it stops with exit 1,
 * - runs the admin listener: `/metrics` aggregates every worker's registry (prom-client's
 *   AggregatorRegistry; each series carries a `worker` label), `/healthz`, and `/readyz` (ready when
 *   every worker is listening).
 * The memory store cannot be shared between processes: it always runs one worker (config warning).
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { parseListen } from '../config/schema/common.js';
import type { Config } from '../config/schema/index.js';
import type { Logger } from '../observability/logger.js';

/** How many gateway processes the config asks for: `auto` = one per core; always 1 with the memory store. */
export function workerCount(config: Readonly<Config>, cores: number = os.availableParallelism()): number {
  if (config.session.store === 'memory') return 1;
  return Math.max(1, config.server.workers === 'auto' ? cores : config.server.workers);
}

/** True in a process forked by the primary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: answers the primary's metric requests from `registry`, every series labelled with the worker id. */
export function registerWorkerMetrics(registry: Registry): void {
  registry.setDefaultLabels({ worker: String(cluster.worker?.id ?? 0) });
  // Constructing one installs prom-client's listener for the primary's requests (in a worker).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

export interface PrimaryOptions {
  count: number;
  config: Readonly<Config>;
  logger: Logger;
  /** Called once every worker has stopped after SIGTERM/SIGINT (default: process.exit). */
  exit?: (code: number) => void;
}

const RESTART_DELAY = 1000;
const MAX_FAILED_STARTS = 5;

/** The primary process: forks, supervises and signals the workers; never returns while they run. */
export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const { logger, count } = o;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const listening = new Set<number>();
  let stopping = false;
  /** Workers in a row that died before they ever listened (port taken, bad TLS files...). */
  let failedStarts = 0;

  const fork = (): Worker => {
    const worker = cluster.fork();
    const started = Date.now();
    let listened = false;
    worker.on('listening', () => {
      listened = true;
      failedStarts = 0;
      listening.add(worker.id);
      logger.info({ worker: worker.id, worker_pid: worker.process.pid }, 'worker listening');
    });
    worker.on('exit', (code, signal) => {
      listening.delete(worker.id);
      if (stopping) return;
      if (!listened && ++failedStarts >= MAX_FAILED_STARTS) {
        logger.fatal({ code, signal, attempts: failedStarts }, 'workers keep failing before they listen; stopping');
        stop('SIGTERM', 1);
        return;
      }
      logger.error({ worker: worker.id, worker_pid: worker.process.pid, code, signal }, 'worker died; starting another');
      setTimeout(fork, Date.now() - started < RESTART_DELAY ? RESTART_DELAY : 0).unref();
    });
    return worker;
  };

  logger.info({ workers: count, pid: process.pid }, 'starting workers');
  for (let i = 0; i < count; i++) fork();

  const admin = o.config.admin.listen ? await startAdmin(o.config.admin.listen, () => listening.size >= count, () => stopping, logger) : undefined;

  process.on('SIGHUP', () => {
    logger.info({ workers: Object.keys(cluster.workers ?? {}).length }, 'reload: forwarding SIGHUP to every worker');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });

  function stop(signal: NodeJS.Signals, code = 0): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining every worker');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) w.process.kill('SIGTERM');
    void Promise.all(exited).then(async () => {
      if (admin) await new Promise<void>((r) => admin.close(() => r()));
      logger.info('stopped');
      logger.flush?.();
      exit(code);
    });
  }
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** The admin listener of a clustered gateway, in the primary. */
async function startAdmin(address: string, ready: () => boolean, draining: () => boolean, logger: Logger): Promise<http.Server> {
  const aggregator = new AggregatorRegistry();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      if (draining()) return json(503, { status: 'draining' });
      return ready() ? json(200, { status: 'ready', workers: 'listening' }) : json(503, { status: 'starting' });
    }
    if (path === '/metrics') {
      aggregator.clusterMetrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': aggregator.contentType });
          res.end(body);
        },
        (err: Error) => {
          logger.warn({ err: { message: err.message } }, 'metrics: a worker did not answer');
          json(503, { error: 'unavailable' });
        },
      );
      return;
    }
    json(404, { error: 'not_found' });
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  const { host, port } = parseListen(address)!;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  logger.info({ admin: address }, 'admin listener (primary: metrics of every worker)');
  return server;
}
