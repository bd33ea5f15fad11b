import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { UserDirectory, UserRecord } from './directory.js';
import { FileDirectory } from './file.js';
import { LdapDirectory } from './ldap.js';
import { isOutcomeDirectory, type AuthOutcome, type OutcomeDirectory } from './outcome.js';
import { PasswordVerifier } from './password.js';

/**
 * The configured directories in order (the users file, then LDAP). The first directory that KNOWS the
 * user answers: a user in the file with a wrong password is refused, not retried against LDAP. A
 * directory that is down stops the chain with DIRECTORY_UNAVAILABLE (fail closed).
 */
export class DirectoryChain implements OutcomeDirectory {
  readonly name = 'chain';

  constructor(
    readonly directories: readonly UserDirectory[],
    /** Shared by the directories; does the dummy work when no directory is configured. */
    readonly verifier: PasswordVerifier,
  ) {}

  async verify(username: string, password: string): Promise<AuthOutcome> {
    for (const dir of this.directories) {
      const outcome = isOutcomeDirectory(dir) ? await dir.verify(username, password) : await viaLookup(dir, username, password);
      if (outcome.status !== 'unknown') return outcome;
    }
    if (this.directories.length === 0) await this.verifier.verify(undefined, password);
    return { status: 'unknown' };
  }

  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    const outcome = await this.verify(username, password);
    return outcome.status === 'ok' ? outcome.user : null;
  }

  async lookup(username: string): Promise<UserRecord | null> {
    for (const dir of this.directories) {
      const user = await dir.lookup(username);
      if (user) return user;
    }
    return null;
  }

  /** Checks every directory and reports all failures together. */
  async check(): Promise<void> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (const dir of this.directories) {
      try {
        await dir.check();
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
        causes.push(err);
      }
    }
    if (failures.length) {
      throw new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE', failures.join('\n'), { cause: causes.length === 1 ? causes[0] : new AggregateError(causes) });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.directories.map((d) => d.close()));
  }
}

async function viaLookup(dir: UserDirectory, username: string, password: string): Promise<AuthOutcome> {
  if (!(await dir.lookup(username))) return { status: 'unknown' };
  const user = await dir.authenticate(username, password);
  return user ? { status: 'ok', user } : { status: 'rejected', reason: 'wrong_password' };
}

export interface DirectoryDeps {
  logger: Logger;
  /** Relative `users.file` paths are resolved against this (the config file's folder); default the cwd. */
  configDir?: string;
  /** Watch the users file for changes (default true). */
  watch?: boolean;
}

/** Builds the chain from `users`: the file (validated now; throws PORTCULLIS_ERR_CONFIG), then LDAP. */
export async function createDirectories(config: Config['users'], deps: DirectoryDeps): Promise<DirectoryChain> {
  const logger = deps.logger.child({ component: 'users' });
  const verifier = new PasswordVerifier({
    concurrency: config.hashing.concurrency === 'auto' ? Math.max(1, availableParallelism() - 1) : config.hashing.concurrency,
    queue: config.hashing.queue,
    warn: (message) => logger.warn(message),
  });
  const directories: UserDirectory[] = [];
  if (config.file) {
    const path = isAbsolute(config.file) ? config.file : resolve(deps.configDir ?? process.cwd(), config.file);
    directories.push(await FileDirectory.load(path, { verifier, logger, watch: deps.watch ?? true }));
  }
  if (config.ldap) directories.push(new LdapDirectory(config.ldap, { verifier, logger }));
  if (directories.length === 0) logger.warn('no user directory is configured (users.file, users.ldap): nobody can sign in');
  return new DirectoryChain(directories, verifier);
}
