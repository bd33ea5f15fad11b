import type { KeyValueStore } from '../../src/store/store.js';

/** A real store wrapped to count calls per method and record written keys (no behaviour changed). */
export interface CountingStore extends KeyValueStore {
  calls: Record<string, number>;
  writes: Array<{ method: string; key: string }>;
  total(): number;
  reset(): void;
  /** When set, every call throws this error (a broken store). */
  failWith: Error | undefined;
}

const WRITES = new Set(['set', 'hashSet', 'setAdd', 'expire', 'incr', 'hashIncr']);

export function countingStore(inner: KeyValueStore): CountingStore {
  const calls: Record<string, number> = {};
  const writes: Array<{ method: string; key: string }> = [];
  const state = { failWith: undefined as Error | undefined };
  const target = {
    calls,
    writes,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k];
      writes.length = 0;
    },
  };
  return new Proxy(target, {
    get(t, prop) {
      if (prop === 'failWith') return state.failWith;
      if (prop in t) return (t as Record<string | symbol, unknown>)[prop];
      const value = (inner as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const name = String(prop);
        if (name !== 'close' && name !== 'subscribe') {
          calls[name] = (calls[name] ?? 0) + 1;
          if (WRITES.has(name)) writes.push({ method: name, key: String(args[0]) });
        }
        if (state.failWith && name !== 'close') return Promise.reject(state.failWith);
        return (value as (...a: unknown[]) => unknown).apply(inner, args);
      };
    },
    set(_t, prop, value) {
      if (prop === 'failWith') {
        state.failWith = value as Error | undefined;
        return true;
      }
      return false;
    },
  }) as unknown as CountingStore;
}
