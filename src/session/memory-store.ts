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

  async get(key: string): Promise<string | null> {
    const v = this.live(key)?.value;
    return typeof v === 'string' ? v : null;
  }

  async set(key: string, value: string, ttlMs: number, options?: { onlyIfAbsent?: boolean }): Promise<boolean> {
    if (options?.onlyIfAbsent && this.live(key)) return false;
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async getDel(key: string): Promise<string | null> {
    const v = this.live(key)?.value;
    if (typeof v !== 'string') return null;
    this.data.delete(key);
    return v;
  }

  async del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (this.live(key) && this.data.delete(key)) n++;
    return n;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    if (!entry) return -2;
    return entry.expiresAt === 0 ? -1 : entry.expiresAt - this.clock.now();
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.expiresAt = this.expiry(ttlMs);
    return true;
  }

  async incr(key: string, windowMs: number): Promise<number> {
    const entry = this.live(key);
    if (!entry) {
      this.data.set(key, { value: '1', expiresAt: this.expiry(windowMs) });
      return 1;
    }
    const next = Number(entry.value) + 1;
    entry.value = String(next);
    return next;
  }

  async hashSet(key: string, fields: Record<string, string>, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    const map = entry && entry.value instanceof Map ? entry.value : new Map<string, string>();
    for (const [k, v] of Object.entries(fields)) map.set(k, v);
    this.data.set(key, { value: map, expiresAt: this.expiry(ttlMs) });
  }

  async hashGetAll(key: string): Promise<Record<string, string> | null> {
    const v = this.live(key)?.value;
    // As in Redis, a hash without fields does not exist.
    return v instanceof Map && v.size > 0 ? Object.fromEntries(v) : null;
  }

  async hashIncr(key: string, field: string, by: number): Promise<{ value: number; fields: Record<string, string> } | null> {
    const v = this.live(key)?.value;
    if (!(v instanceof Map)) return null;
    const value = Number(v.get(field) ?? '0') + by;
    v.set(field, String(value));
    return { value, fields: Object.fromEntries(v) };
  }

  async setAdd(key: string, member: string, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    if (entry && entry.value instanceof Set) {
      entry.value.add(member);
      entry.expiresAt = this.expiry(ttlMs);
    } else {
      this.data.set(key, { value: new Set([member]), expiresAt: this.expiry(ttlMs) });
    }
  }

  async setRemove(key: string, member: string): Promise<void> {
    const v = this.live(key)?.value;
    if (v instanceof Set) {
      v.delete(member);
      if (v.size === 0) this.data.delete(key);
    }
  }

  async setMembers(key: string): Promise<string[]> {
    const v = this.live(key)?.value;
    return v instanceof Set ? [...v] : [];
  }

  async publish(channel: string, message: string): Promise<void> {
    // Delivered asynchronously, as Redis would.
    setImmediate(() => this.bus.emit(channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.bus.on(channel, handler);
    return async () => {
      this.bus.off(channel, handler);
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
  }
}
