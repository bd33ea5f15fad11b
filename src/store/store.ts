/**
 * The runtime-state store: sessions, pending codes, counters, lockouts, devices, factor secrets.
 * Keys given here carry no prefix; each implementation adds `session.redis.key_prefix`.
 * Every write has a TTL (ms) where the record can expire. Failures throw
 * PortcullisError('PORTCULLIS_ERR_STORE_UNAVAILABLE') so callers fail closed.
 */
export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** Sets `value`; `ttlMs` 0 = no expiry. With `onlyIfAbsent`, answers false when the key exists. */
  set(key: string, value: string, ttlMs: number, options?: { onlyIfAbsent?: boolean }): Promise<boolean>;
  /** Atomically reads and deletes: of two concurrent callers only one gets the value. */
  getDel(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  /** Remaining lifetime in ms; -2 when missing, -1 when it has no expiry. */
  ttl(key: string): Promise<number>;
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Atomic counter in a window: the first increment creates the key with `windowMs` as its TTL. */
  incr(key: string, windowMs: number): Promise<number>;
  hashSet(key: string, fields: Record<string, string>, ttlMs: number): Promise<void>;
  hashGetAll(key: string): Promise<Record<string, string> | null>;
  /** Atomically increments `field` of an existing hash and returns all its fields; null when the key is missing. */
  hashIncr(key: string, field: string, by: number): Promise<{ value: number; fields: Record<string, string> } | null>;
  setAdd(key: string, member: string, ttlMs: number): Promise<void>;
  setRemove(key: string, member: string): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  /** Fan-out between gateway instances (revocations). Channel names carry no prefix either. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the store answers; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
