import type { Config } from '../config/schema/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { sha256Hex } from '../util/compare.js';

export interface TrustedDevice {
  /** A short reference (not the device id), for listing and revoking. */
  id: string;
  name: string;
  ip: string;
  userAgent: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

const MAX_DEVICE_ID = 256;
const REF_LENGTH = 12;

function deviceHash(deviceId: string): string {
  return sha256Hex(`device:${deviceId}`);
}

/**
 * Trusted devices (seed 001): a browser or app that passed the second factor and asked to be
 * remembered skips the code until its lifetime ends, it is removed, or the user logs out everywhere
 * (callers revokeAll on password change too). Keys: `dev:<user>:<sha256(device id)>` (hash, TTL =
 * lifetime) and `devices:<user>` (index set). The device id itself is never stored.
 */
export class TrustedDevices {
  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: Config['second_factor']['trusted_devices'],
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.cfg.enabled && this.cfg.lifetime > 0;
  }

  async trust(user: string, deviceId: string, meta: { name: string; ip: string; userAgent: string }): Promise<void> {
    if (!this.enabled || !validId(deviceId)) return;
    const k = userKey(user);
    const h = deviceHash(deviceId);
    const now = this.clock.now();
    const lifetime = this.cfg.lifetime;
    await this.store.del(`dev:${k}:${h}`);
    await this.store.hashSet(
      `dev:${k}:${h}`,
      { n: meta.name.slice(0, 100), i: meta.ip.slice(0, 64), a: meta.userAgent.slice(0, 256), c: String(now), l: String(now), x: String(now + lifetime) },
      lifetime,
    );
    await this.store.setAdd(`devices:${k}`, h, lifetime);
  }

  /** True while the device is trusted; refreshes its last-used time (not its expiry). */
  async isTrusted(user: string, deviceId: string): Promise<boolean> {
    if (!this.enabled || !validId(deviceId)) return false;
    const key = `dev:${userKey(user)}:${deviceHash(deviceId)}`;
    const fields = await this.store.hashGetAll(key);
    if (fields === null) return false;
    const now = this.clock.now();
    const left = Number(fields.x) - now;
    if (!(left > 0)) return false;
    await this.store.hashSet(key, { l: String(now) }, left);
    return true;
  }

  async list(user: string): Promise<TrustedDevice[]> {
    const k = userKey(user);
    const now = this.clock.now();
    const out: TrustedDevice[] = [];
    for (const h of await this.store.setMembers(`devices:${k}`)) {
      const f = await this.store.hashGetAll(`dev:${k}:${h}`);
      if (f === null || !(Number(f.x) > now)) {
        await this.store.setRemove(`devices:${k}`, h);
        continue;
      }
      out.push({
        id: h.slice(0, REF_LENGTH),
        name: f.n ?? '',
        ip: f.i ?? '',
        userAgent: f.a ?? '',
        createdAt: Number(f.c),
        lastUsedAt: Number(f.l),
        expiresAt: Number(f.x),
      });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Revokes by the short reference from list(). False when no device matches. */
  async revoke(user: string, id: string): Promise<boolean> {
    if (!/^[0-9a-f]{12}$/.test(id)) return false;
    const k = userKey(user);
    let found = false;
    for (const h of await this.store.setMembers(`devices:${k}`)) {
      if (!h.startsWith(id)) continue;
      found = (await this.store.del(`dev:${k}:${h}`)) > 0 || found;
      await this.store.setRemove(`devices:${k}`, h);
    }
    return found;
  }

  /** The same as revokeAll, so the devices can be passed to FactorState as a remover. */
  remove(user: string): Promise<void> {
    return this.revokeAll(user);
  }

  async revokeAll(user: string): Promise<void> {
    const k = userKey(user);
    const hashes = await this.store.setMembers(`devices:${k}`);
    await Promise.all(hashes.map((h) => this.store.del(`dev:${k}:${h}`)));
    await this.store.del(`devices:${k}`);
  }
}

/**
 * Reverify grace (seed 000): the same user on the same device (the `portcullis_device` cookie) who
 * passed the second factor within `session.reverify_grace` is not asked for a new code.
 * Key `grace:<user>:<sha256(device id)>` with TTL = the grace; 0 turns it off.
 */
export class ReverifyGrace {
  constructor(
    private readonly store: KeyValueStore,
    private readonly graceMs: number,
  ) {}

  async record(user: string, deviceId: string): Promise<void> {
    if (this.graceMs <= 0 || !validId(deviceId)) return;
    await this.store.set(`grace:${userKey(user)}:${deviceHash(deviceId)}`, '1', this.graceMs);
    // Indexed per user, so that ending everything of the user ends the grace of every device too.
    await this.store.setAdd(`grace-devices:${userKey(user)}`, deviceHash(deviceId), this.graceMs);
  }

  /** Ends the grace of every device of the user (sessions revoked, account reported or disabled). */
  async revokeAll(user: string): Promise<void> {
    const index = `grace-devices:${userKey(user)}`;
    for (const hash of await this.store.setMembers(index)) await this.store.del(`grace:${userKey(user)}:${hash}`);
    await this.store.del(index);
  }

  async within(user: string, deviceId: string): Promise<boolean> {
    if (this.graceMs <= 0 || !validId(deviceId)) return false;
    return (await this.store.get(`grace:${userKey(user)}:${deviceHash(deviceId)}`)) !== null;
  }

  async clear(user: string, deviceId: string): Promise<void> {
    if (!validId(deviceId)) return;
    await this.store.del(`grace:${userKey(user)}:${deviceHash(deviceId)}`);
  }
}

function validId(deviceId: string): boolean {
  return deviceId.length > 0 && deviceId.length <= MAX_DEVICE_ID;
}
