import { FACTOR_METHODS, type FactorMethod } from '../config/schema/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';

export interface FactorStateRecord {
  /** A user-entered email address (the directory's is trusted and not stored here). */
  email?: { address: string; verified: boolean };
  /** A user-entered phone number (E.164). */
  phone?: { number: string; verified: boolean };
  preferred?: FactorMethod;
  optedIn?: boolean;
}

/**
 * Per-user second-factor choices in the store: `fs:<user>`, a hash without expiry.
 */
export class FactorState {
  constructor(private readonly store: KeyValueStore) {}

  async get(user: string): Promise<FactorStateRecord> {
    const f = (await this.store.hashGetAll(key(user))) ?? {};
    const out: FactorStateRecord = {};
    if (f.email) out.email = { address: f.email, verified: f.email_v === '1' };
    if (f.phone) out.phone = { number: f.phone, verified: f.phone_v === '1' };
    if (f.preferred && (FACTOR_METHODS as readonly string[]).includes(f.preferred)) out.preferred = f.preferred as FactorMethod;
    if (f.opted !== undefined) out.optedIn = f.opted === '1';
    return out;
  }

  async setEmail(user: string, address: string, verified: boolean): Promise<void> {
    await this.store.hashSet(key(user), { email: address.slice(0, 254), email_v: verified ? '1' : '0' }, 0);
  }

  async setPhone(user: string, number: string, verified: boolean): Promise<void> {
    await this.store.hashSet(key(user), { phone: number.slice(0, 32), phone_v: verified ? '1' : '0' }, 0);
  }

  /** Forgets the user-entered email address (an empty field reads as absent). */
  async clearEmail(user: string): Promise<void> {
    await this.store.hashSet(key(user), { email: '', email_v: '0' }, 0);
  }

  /** Forgets the user-entered phone number. */
  async clearPhone(user: string): Promise<void> {
    await this.store.hashSet(key(user), { phone: '', phone_v: '0' }, 0);
  }

  async setPreferred(user: string, method: FactorMethod): Promise<void> {
    await this.store.hashSet(key(user), { preferred: method }, 0);
  }

  async setOptedIn(user: string, optedIn: boolean): Promise<void> {
    await this.store.hashSet(key(user), { opted: optedIn ? '1' : '0' }, 0);
  }

  /** Forgets user-entered delivery details and the preferred method; an opt-in is kept (FactorRegistry.reset). */
  async clear(user: string): Promise<void> {
    const { optedIn } = await this.get(user);
    await this.store.del(key(user));
    if (optedIn !== undefined) await this.setOptedIn(user, optedIn);
  }
}

function key(user: string): string {
  return `fs:${userKey(user)}`;
}
