import { createHash } from 'node:crypto';
import { apiClientsSchema } from '../../src/config/schema/api-clients.js';
import { compileApiClients, type ApiClientDeps } from '../../src/apiclients/index.js';
import { createLogger } from '../../src/observability/logger.js';
import type { UserDirectory, UserRecord } from '../../src/users/directory.js';
import { Notices } from '../../src/auth/notices.js';
import { Passwords } from '../../src/auth/passwords.js';
import { configSchema } from '../../src/config/schema/index.js';
import { createDelivery } from '../../src/delivery/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Regulator } from '../../src/regulation/regulator.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

export const logger = createLogger({ level: 'silent' });

export function sha(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function build(clients: unknown[], deps: Partial<ApiClientDeps> = {}) {
  return compileApiClients(apiClientsSchema.parse(clients), { logger, ...deps });
}

/** A small in-memory directory that counts password checks. */
export class CountingDirectory implements UserDirectory {
  readonly name = 'test';
  calls = 0;
  constructor(private readonly users: Record<string, { password: string; groups?: string[]; disabled?: boolean }>) {}
  authenticate(username: string, password: string): Promise<UserRecord | null> {
    this.calls++;
    const u = this.users[username];
    if (!u || u.password !== password || u.disabled) return Promise.resolve(null);
    return Promise.resolve({ username, groups: u.groups ?? [], disabled: false, source: 'test' });
  }
  lookup(username: string): Promise<UserRecord | null> {
    const u = this.users[username];
    return Promise.resolve(u ? { username, groups: u.groups ?? [], disabled: !!u.disabled, source: 'test' } : null);
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The gateway's real password check (auth/passwords.ts) over `directory`, with a real Regulator on a
 * MemoryStore: a user or a client is blocked for 60 s after `limit` wrong passwords.
 */
export function passwordsFor(directory: UserDirectory, clock: ManualClock = new ManualClock(), limit = 3): Passwords {
  const store = new MemoryStore(clock);
  const cfg = configSchema.parse({ session: { secret: 's'.repeat(32) }, regulation: { max_failures: limit, max_failures_per_client: 100, window: '5m', block: '60s' } });
  const regulator = new Regulator(store, { regulation: cfg.regulation, lockout: cfg.second_factor.lockout }, clock);
  const metrics = new Metrics({ defaultMetrics: false });
  const notices = new Notices({ config: () => cfg, logger, metrics, delivery: createDelivery(cfg.delivery, { logger, title: 'Test', clock }) });
  return new Passwords({ directory, regulator, metrics, notices, clock });
}

export function basicHeader(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}
