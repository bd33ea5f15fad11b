import { EventEmitter } from 'node:events';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { UserRecord } from './directory.js';
import { formatProblems, parseUsersFile, type FileUser } from './file-parse.js';
import type { AuthOutcome, OutcomeDirectory } from './outcome.js';
import type { PasswordVerifier } from './password.js';

export interface FileDirectoryOptions {
  verifier: PasswordVerifier;
  logger: Logger;
  /** Reload when the file changes (default true). */
  watch?: boolean;
  /** Quiet time after the last change event before the file is read again (default 100 ms). */
  debounceMs?: number;
  /** Poll the file's mtime instead of fs.watch (network file systems, some container mounts). */
  poll?: boolean;
  /** Polling interval, with `poll` or when fs.watch is not available (default 2 s). */
  pollIntervalMs?: number;
}

/**
 * Users from the YAML users file (SPEC §2). Usernames are matched case-sensitively, exactly as written.
 * The file is watched (its directory, so editors that replace the file are seen too) and reloaded: a valid
 * new file swaps in at once, an invalid one is logged and the old users stay.
 *
 * Events: `reload` ({ users: number, disabled: string[], removed: string[] } — users the new file disables
 * that the old one did not, and users the old file had that the new one does not) after a new file was
 * swapped in; `reload-error` (Error) after a
 * change that could not be used.
 */
export class FileDirectory extends EventEmitter implements OutcomeDirectory {
  readonly name = 'file';
  readonly path: string;
  private users: ReadonlyMap<string, FileUser>;
  private lastText: string;
  private readonly verifier: PasswordVerifier;
  private readonly logger: Logger;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Reads the file synchronously; throws PORTCULLIS_ERR_CONFIG listing every problem. */
  constructor(path: string, options: FileDirectoryOptions, text?: string) {
    super();
    this.path = resolve(path);
    this.verifier = options.verifier;
    this.logger = options.logger;
    this.lastText = text ?? readUsersText(this.path);
    this.users = parseOrThrow(this.path, this.lastText);
    if (options.watch ?? true) this.startWatching(options.debounceMs ?? 100, options.pollIntervalMs ?? 2000, options.poll ?? false);
  }

  /** Start-up: reads and validates the file, with a clear error for a missing or invalid one. */
  static async load(path: string, options: FileDirectoryOptions): Promise<FileDirectory> {
    const full = resolve(path);
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (err) {
      throw missingFile(full, err);
    }
    return new FileDirectory(full, options, text);
  }

  get size(): number {
    return this.users.size;
  }

  async verify(username: string, password: string): Promise<AuthOutcome> {
    const user = typeof username === 'string' ? this.users.get(username) : undefined;
    const usable = user !== undefined && !user.disabled && user.password !== undefined;
    // Unknown, disabled or password-less users cost the same dummy verification as a real one.
    const ok = await this.verifier.verify(usable ? user.password : undefined, password);
    if (!user) return { status: 'unknown' };
    if (user.disabled) return { status: 'rejected', reason: 'disabled' };
    if (user.password === undefined) return { status: 'rejected', reason: 'no_password' };
    return ok ? { status: 'ok', user: toRecord(username, user) } : { status: 'rejected', reason: 'wrong_password' };
  }

  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    const outcome = await this.verify(username, password);
    return outcome.status === 'ok' ? outcome.user : null;
  }

  /** True when the file lists the user with `disabled: true` (synchronous: checked on every session lookup). */
  isDisabled(username: string): boolean {
    return this.users.get(username)?.disabled === true;
  }

  lookup(username: string): Promise<UserRecord | null> {
    const user = typeof username === 'string' ? this.users.get(username) : undefined;
    return Promise.resolve(user ? toRecord(username, user) : null);
  }

  check(): Promise<void> {
    if (this.users.size === 0) this.logger.warn({ file: this.path }, 'the users file defines no users');
    return Promise.resolve();
  }

  /** Reads the file again now. Resolves true when a new valid file was swapped in. */
  async reload(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      return this.reloadFailed(missingFile(this.path, err));
    }
    if (text === this.lastText) return false;
    let users: ReadonlyMap<string, FileUser>;
    try {
      users = parseOrThrow(this.path, text);
    } catch (err) {
      return this.reloadFailed(err as Error);
    }
    const before = this.users;
    this.users = users;
    this.lastText = text;
    const disabled = [...users].filter(([name, u]) => u.disabled && before.get(name)?.disabled !== true).map(([name]) => name);
    const removed = [...before.keys()].filter((name) => !users.has(name));
    // A new password hash is a password change: what was tied to the old one (app passwords) ends.
    const passwordChanged = [...users].filter(([name, u]) => before.has(name) && before.get(name)!.password !== u.password).map(([name]) => name);
    this.logger.info({ file: this.path, users: users.size }, 'users file reloaded');
    this.emit('reload', { users: users.size, disabled, removed, passwordChanged });
    return true;
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.poller);
    this.poller = undefined;
    return Promise.resolve();
  }

  private reloadFailed(err: Error): false {
    this.logger.error({ file: this.path, err: { message: err.message } }, 'users file change ignored; the previous users stay in effect');
    this.emit('reload-error', err);
    return false;
  }

  private startWatching(debounceMs: number, pollIntervalMs: number, poll: boolean): void {
    const schedule = () => {
      if (this.closed) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
      this.timer.unref();
    };
    if (poll) return this.startPolling(schedule, pollIntervalMs);
    const file = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (!name || name === file) schedule();
      });
      this.watcher.on('error', (err) => {
        this.logger.warn({ file: this.path, err: { message: err.message } }, 'watching the users file failed; polling instead');
        this.watcher?.close();
        this.watcher = undefined;
        this.startPolling(schedule, pollIntervalMs);
      });
    } catch {
      this.startPolling(schedule, pollIntervalMs);
    }
  }

  /**
   * Compares the file's mtime, size and inode every `interval`. The first round always schedules a
   * check, so a change made before polling started is not missed (reload() ignores identical content).
   */
  private startPolling(schedule: () => void, interval: number): void {
    if (this.closed || this.poller) return;
    let last: string | undefined;
    let busy = false;
    this.poller = setInterval(() => {
      if (busy) return;
      busy = true;
      void stat(this.path)
        .then(
          (st) => `${st.mtimeMs}:${st.size}:${st.ino}`,
          () => 'missing',
        )
        .then((key) => {
          if (key !== last) schedule();
          last = key;
        })
        .finally(() => (busy = false));
    }, interval);
    this.poller.unref();
  }
}

function readUsersText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw missingFile(path, err);
  }
}

function missingFile(path: string, err: unknown): PortcullisError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
  return new PortcullisError('PORTCULLIS_ERR_CONFIG', `users file ${path} ${why}`, { cause: err });
}

function parseOrThrow(path: string, text: string): ReadonlyMap<string, FileUser> {
  const result = parseUsersFile(text);
  if (result.ok) return result.users;
  return fail(path, result.problems);
}

function fail(path: string, problems: Parameters<typeof formatProblems>[1]): never {
  throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `invalid users file:\n${formatProblems(path, problems)}`, {
    details: { problems: problems.map((p) => ({ file: path, ...p })) },
  });
}

function toRecord(username: string, user: FileUser): UserRecord {
  return {
    username,
    displayName: user.display_name,
    email: user.email,
    phone: user.phone,
    groups: [...user.groups],
    disabled: user.disabled,
    secondFactor: user.second_factor ? { ...user.second_factor } : undefined,
    source: 'file',
  };
}
