import type { Clock } from '../util/clock.js';
import type { SessionEnd } from './session-data.js';

/** What an open connection is: a WebSocket, or a streaming (any proxied) HTTP response. */
export type LiveKind = 'websocket' | 'stream';
/** Why it was closed: its session ended (any path), reached its lifetime, or went idle. */
export type CloseReason = 'revoked' | 'expired' | 'idle';

/** What the registry asks the session store about a session with open connections. */
export type LiveCheck = { state: 'live'; lastSeenAt: number } | { state: 'ended' } | { state: 'idle' } | { state: 'unknown' };

export interface LiveConnectionsOptions {
  clock: Clock;
  /** `session.idle_timeout` (ms, 0 = off), read per check so a reload applies. */
  idleTimeout: () => number;
  /**
   * Looks a session up without refreshing it: `ended` (gone), `idle` (past `idle_timeout`: see onIdle),
   * `live` with its last-seen time, or `unknown` (the store did not answer: nothing is closed).
   */
  check: (ref: string) => Promise<LiveCheck>;
  /** A session found idle: its connections are closed here, the caller ends the session itself. */
  onIdle?: (ref: string) => void;
  /** Called once per connection closed by the registry. */
  onClosed?: (kind: LiveKind, reason: CloseReason) => void;
  /** How often deadlines are compared with the clock (default 250 ms). */
  tickMs?: number;
  /** How often a session with open connections is checked against the store anyway (default 5 s): a lost fan-out message cannot keep a stream open. */
  revalidateMs?: number;
}

/** One open connection, as its opener holds it. */
export interface LiveHandle {
  /** The connection ended by itself: forget it. */
  release: () => void;
  /** Replaces how the connection is closed (a WebSocket, once open, closes with a close frame). */
  setCloser: (close: () => void) => void;
}

interface Entry {
  kind: LiveKind;
  close: () => void;
  done: boolean;
  /** The session it belongs to now (a rotated id moves it). */
  group: Group;
}

interface Group {
  ref: string;
  user: string;
  expiresAt: number;
  /** When the store is next asked about this session (idle deadline or revalidation). */
  checkAt: number;
  checking: boolean;
  entries: Set<Entry>;
}

/**
 * The open connections of this instance (WebSockets and streaming responses), by session reference and
 * user, so that ending a session — on any instance: SessionManager.onEnded carries the fan-out — closes
 * what it opened. A timer closes them at the session's absolute expiry and, with `idle_timeout`, asks the
 * store when the session would go idle (the deadline moves when other requests keep it alive).
 */
export class LiveConnections {
  private readonly groups = new Map<string, Group>();
  private readonly byUser = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private readonly revalidateMs: number;
  private closed = false;

  constructor(private readonly o: LiveConnectionsOptions) {
    this.tickMs = o.tickMs ?? 250;
    this.revalidateMs = o.revalidateMs ?? 5000;
  }

  /** Open connections on this instance. */
  get size(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.entries.size;
    return n;
  }

  /** Registers a connection of session `ref` (user `user`, absolute expiry `expiresAt`); `close` ends it. */
  open(session: { ref: string; user: string; expiresAt: number; lastSeenAt: number }, kind: LiveKind, close: () => void): LiveHandle {
    if (this.closed) return { release: () => {}, setCloser: () => {} };
    let group = this.groups.get(session.ref);
    if (!group) {
      group = { ref: session.ref, user: session.user, expiresAt: session.expiresAt, checkAt: this.nextCheck(session.lastSeenAt), checking: false, entries: new Set() };
      this.groups.set(session.ref, group);
      let refs = this.byUser.get(session.user);
      if (!refs) this.byUser.set(session.user, (refs = new Set()));
      refs.add(session.ref);
    }
    const entry: Entry = { kind, close, done: false, group };
    group.entries.add(entry);
    this.schedule();
    return {
      release: () => {
        if (entry.done) return;
        entry.done = true;
        this.remove(entry.group, entry);
      },
      setCloser: (fn) => {
        entry.close = fn;
      },
    };
  }

  /** A session ended or rotated (SessionManager.onEnded). */
  apply(e: SessionEnd): void {
    switch (e.kind) {
      case 'ref':
        return this.closeRef(e.ref, 'revoked');
      case 'user':
        return this.closeUser(e.user, 'revoked');
      case 'all':
        for (const ref of [...this.groups.keys()]) this.closeRef(ref, 'revoked');
        return;
      case 'rotated':
        return this.rename(e.ref, e.next);
    }
  }

  closeRef(ref: string, reason: CloseReason): void {
    const group = this.groups.get(ref);
    if (!group) return;
    for (const entry of [...group.entries]) {
      if (entry.done) continue;
      entry.done = true;
      this.remove(group, entry);
      try {
        entry.close();
      } catch {
        // a connection that is already gone
      }
      this.o.onClosed?.(entry.kind, reason);
    }
  }

  closeUser(user: string, reason: CloseReason): void {
    const refs = this.byUser.get(user);
    if (!refs) return;
    for (const ref of [...refs]) this.closeRef(ref, reason);
  }

  /** Stops the timer; connections stay open (the proxy closes them when the gateway stops). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private rename(from: string, to: string): void {
    const group = this.groups.get(from);
    if (!group) return;
    this.groups.delete(from);
    const existing = this.groups.get(to);
    const refs = this.byUser.get(group.user);
    refs?.delete(from);
    if (existing) {
      for (const entry of group.entries) {
        entry.group = existing;
        existing.entries.add(entry);
      }
      return;
    }
    group.ref = to;
    this.groups.set(to, group);
    refs?.add(to);
  }

  private remove(group: Group, entry: Entry): void {
    group.entries.delete(entry);
    if (group.entries.size > 0 || this.groups.get(group.ref) !== group) return;
    this.groups.delete(group.ref);
    const refs = this.byUser.get(group.user);
    refs?.delete(group.ref);
    if (refs && refs.size === 0) this.byUser.delete(group.user);
    if (this.groups.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private nextCheck(lastSeenAt: number): number {
    const now = this.o.clock.now();
    const idle = this.o.idleTimeout();
    const revalidate = now + this.revalidateMs;
    return idle > 0 ? Math.min(lastSeenAt + idle, revalidate) : revalidate;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = this.o.clock.now();
    for (const group of [...this.groups.values()]) {
      if (now >= group.expiresAt) {
        this.closeRef(group.ref, 'expired');
        continue;
      }
      if (now >= group.checkAt && !group.checking) void this.checkGroup(group);
    }
  }

  private async checkGroup(group: Group): Promise<void> {
    group.checking = true;
    const ref = group.ref;
    let result: LiveCheck;
    try {
      result = await this.o.check(ref);
    } catch {
      result = { state: 'unknown' };
    }
    group.checking = false;
    if (this.groups.get(ref) !== group) return;
    if (result.state === 'ended') return this.closeRef(ref, 'revoked');
    if (result.state === 'idle') {
      this.closeRef(ref, 'idle');
      this.o.onIdle?.(ref);
      return;
    }
    // `unknown`: the store did not answer; nothing can have been revoked meanwhile (a revocation writes
    // to the store). Ask again at the next revalidation.
    group.checkAt = result.state === 'live' ? this.nextCheck(result.lastSeenAt) : this.o.clock.now() + this.revalidateMs;
  }
}
