import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../util/clock.js';
import type { KeyValueStore } from './store.js';

type Value = string | Map<string, string> | Set<string>;
interface Entry {
  value: Value;
  expiresAt: number; // 0 = never
}

/**
 * Single-instance store: state is lost on restart and not shared between processes.
 * Expired entries are dropped on access and by a periodic sweep.
 */
export class MemoryStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly bus = new EventEmitter();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock = systemClock) {
    this.bus.setMaxListeners(0);
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const entry = this.data.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.clock.now()) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private expiry(ttlMs: number): number {
    return ttlMs > 0 ? this.clock.now() + ttlMs : 0;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.data) if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.data.delete(key);
  }

  get(key: string): Promise<string | null> {
    const v = this.live(key)?.value;
    return Promise.resolve(typeof v === 'string' ? v : null);
  }

  set(key: string, value: string, ttlMs: number, options?: { onlyIfAbsent?: boolean }): Promise<boolean> {
    if (options?.onlyIfAbsent && this.live(key)) return Promise.resolve(false);
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return Promise.resolve(true);
  }

  getDel(key: string): Promise<string | null> {
    const v = this.live(key)?.value;
    if (typeof v !== 'string') return Promise.resolve(null);
    this.data.delete(key);
    return Promise.resolve(v);
  }

  del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (this.live(key) && this.data.delete(key)) n++;
    return Promise.resolve(n);
  }

  ttl(key: string): Promise<number> {
    const entry = this.live(key);
    if (!entry) return Promise.resolve(-2);
    return Promise.resolve(entry.expiresAt === 0 ? -1 : entry.expiresAt - this.clock.now());
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return Promise.resolve(false);
    entry.expiresAt = this.expiry(ttlMs);
    return Promise.resolve(true);
  }

  incr(key: string, windowMs: number): Promise<number> {
    const entry = this.live(key);
    if (!entry) {
      this.data.set(key, { value: '1', expiresAt: this.expiry(windowMs) });
      return Promise.resolve(1);
    }
    const next = Number(entry.value) + 1;
    entry.value = String(next);
    return Promise.resolve(next);
  }

  hashSet(key: string, fields: Record<string, string>, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    const map = entry && entry.value instanceof Map ? entry.value : new Map<string, string>();
    for (const [k, v] of Object.entries(fields)) map.set(k, v);
    this.data.set(key, { value: map, expiresAt: this.expiry(ttlMs) });
    return Promise.resolve();
  }

  hashGetAll(key: string): Promise<Record<string, string> | null> {
    const v = this.live(key)?.value;
    // As in Redis, a hash without fields does not exist.
    return Promise.resolve(v instanceof Map && v.size > 0 ? Object.fromEntries(v) : null);
  }

  hashIncr(key: string, field: string, by: number): Promise<{ value: number; fields: Record<string, string> } | null> {
    const v = this.live(key)?.value;
    if (!(v instanceof Map)) return Promise.resolve(null);
    const value = Number(v.get(field) ?? '0') + by;
    v.set(field, String(value));
    return Promise.resolve({ value, fields: Object.fromEntries(v) });
  }

  setAdd(key: string, member: string, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    if (entry && entry.value instanceof Set) {
      entry.value.add(member);
      entry.expiresAt = this.expiry(ttlMs);
    } else {
      this.data.set(key, { value: new Set([member]), expiresAt: this.expiry(ttlMs) });
    }
    return Promise.resolve();
  }

  setRemove(key: string, member: string): Promise<void> {
    const v = this.live(key)?.value;
    if (v instanceof Set) {
      v.delete(member);
      if (v.size === 0) this.data.delete(key);
    }
    return Promise.resolve();
  }

  setMembers(key: string): Promise<string[]> {
    const v = this.live(key)?.value;
    return Promise.resolve(v instanceof Set ? [...v] : []);
  }

  publish(channel: string, message: string): Promise<void> {
    // Delivered asynchronously, as Redis would.
    setImmediate(() => this.bus.emit(channel, message));
    return Promise.resolve();
  }

  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.bus.on(channel, handler);
    return Promise.resolve(() => {
      this.bus.off(channel, handler);
      return Promise.resolve();
    });
  }

  async ping(): Promise<void> {}

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
    return Promise.resolve();
  }
}
