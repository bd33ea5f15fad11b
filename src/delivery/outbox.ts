import { systemClock, type Clock } from '../util/clock.js';

export interface OutboxEntry {
  channel: 'email' | 'sms';
  to: string;
  subject?: string;
  text: string;
  /** The one-time code in the message, when it carries one. */
  code?: string;
  /** ISO 8601. */
  at: string;
}

/**
 * The last messages the development transports "sent" (demo mode serves them at /_gateway/dev/outbox).
 * A bounded ring: the oldest entry is dropped when full.
 */
export class Outbox {
  readonly capacity: number;
  readonly #clock: Clock;
  #entries: OutboxEntry[] = [];

  constructor(options: { capacity?: number; clock?: Clock } = {}) {
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 100));
    this.#clock = options.clock ?? systemClock;
  }

  add(entry: Omit<OutboxEntry, 'at'>): OutboxEntry {
    const stored: OutboxEntry = { ...entry, at: new Date(this.#clock.now()).toISOString() };
    this.#entries.push(stored);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
    return stored;
  }

  /** Oldest first. Copies: callers cannot change the outbox. */
  list(): OutboxEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  /** The newest message, optionally the newest to `to`. */
  latest(to?: string): OutboxEntry | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i] as OutboxEntry;
      if (to === undefined || entry.to === to) return { ...entry };
    }
    return undefined;
  }

  clear(): void {
    this.#entries = [];
  }
}
