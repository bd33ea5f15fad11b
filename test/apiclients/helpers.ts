import { createHash } from 'node:crypto';
import { apiClientsSchema } from '../../src/config/schema/api-clients.js';
import { compileApiClients, type ApiClientDeps } from '../../src/apiclients/index.js';
import { createLogger } from '../../src/observability/logger.js';
import type { UserDirectory, UserRecord } from '../../src/users/directory.js';

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
  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    this.calls++;
    const u = this.users[username];
    if (!u || u.password !== password || u.disabled) return null;
    return { username, groups: u.groups ?? [], disabled: false, source: 'test' };
  }
  async lookup(username: string): Promise<UserRecord | null> {
    const u = this.users[username];
    return u ? { username, groups: u.groups ?? [], disabled: !!u.disabled, source: 'test' } : null;
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A tiny regulation: blocks a user after `limit` failures. */
export class TinyRegulation {
  failures = new Map<string, number>();
  successes = 0;
  constructor(private readonly limit = 3) {}
  async isBlocked(user: string): Promise<number> {
    return (this.failures.get(user) ?? 0) >= this.limit ? 60_000 : 0;
  }
  async fail(user: string): Promise<void> {
    this.failures.set(user, (this.failures.get(user) ?? 0) + 1);
  }
  async succeed(user: string): Promise<void> {
    this.successes++;
    this.failures.delete(user);
  }
}

export function basicHeader(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}
