import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema/index.js';

export type RedisConfig = Config['session']['redis'];
export type RedisClient = Redis | Cluster;

/** `host:port` or `[v6]:port` → ioredis node address. */
export function parseHostPort(value: string): { host: string; port: number } {
  const idx = value.lastIndexOf(':');
  const host = value.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(idx + 1)) };
}

/** Reconnect forever with a capped backoff: the store recovers by itself when Redis returns. */
function backoff(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 5), 1000);
}

/**
 * Fail-fast options: no offline queue (a command while disconnected is rejected at once), no retry
 * of in-flight commands after a disconnect (no double INCR), every command bounded by command_timeout.
 */
function commonOptions(config: RedisConfig): RedisOptions {
  return {
    connectTimeout: config.connect_timeout,
    commandTimeout: config.command_timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    retryStrategy: backoff,
    // A failed-over master answers READONLY/LOADING: reconnect so the sentinel gives us the new one.
    reconnectOnError: (err) => /^(READONLY|LOADING|MASTERDOWN)/.test(err.message),
    ...(config.password === undefined ? {} : { password: config.password }),
  };
}

/** Builds (and starts connecting) the ioredis client for single node, Sentinel or Cluster. */
export function createRedisClient(config: RedisConfig): RedisClient {
  const options = commonOptions(config);
  if (config.cluster) {
    const { retryStrategy: _r, enableOfflineQueue: _q, ...redisOptions } = options;
    const password = config.cluster.password ?? config.password;
    return new Cluster(config.cluster.nodes.map(parseHostPort), {
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      slotsRefreshTimeout: config.connect_timeout,
      redisOptions: { ...redisOptions, ...(password === undefined ? {} : { password }) },
    });
  }
  if (config.sentinel) {
    const s = config.sentinel;
    const password = s.password ?? config.password;
    return new Redis({
      ...options,
      sentinels: s.nodes.map(parseHostPort),
      name: s.master_name,
      role: 'master',
      sentinelRetryStrategy: backoff,
      failoverDetector: true,
      ...(password === undefined ? {} : { password }),
      ...(s.sentinel_password === undefined ? {} : { sentinelPassword: s.sentinel_password }),
    });
  }
  return new Redis(config.url, options);
}

/** A second connection with the same settings, for pub/sub. */
export function duplicateClient(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}
