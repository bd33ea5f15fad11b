import type { Config } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import type { TrustedDevice, TrustedDevices } from '../factors/devices.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionManager } from '../session/sessions.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import { OVERRIDABLE_SOURCES } from '../users/overrides.js';
import { invitePath, type Invites } from './invites.js';
import type { Notices } from './notices.js';
import type { UserRevocation } from './revocation.js';

const CLI = { clientIp: 'cli', requestId: '' } as const;

export type InviteCheck =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'unknown' }
  | { kind: 'renamed'; username: string }
  | { kind: 'external'; source: string }
  | { kind: 'disabled' };

/**
 * What an operator does to a user's runtime state (SPEC §1 `portcullis users ...`, `sessions revoke`),
 * with the same consequences as the gateway's own paths: a reset or a revocation ends the user's
 * sessions and trusted devices on every instance.
 */
export class Operator {
  constructor(
    private readonly d: {
      config: () => Readonly<Config>;
      directory: UserDirectory;
      regulator: Regulator;
      factors: FactorRegistry;
      devices: TrustedDevices;
      sessions: SessionManager;
      invites: Invites;
      notices: Notices;
      delivery: Delivery;
      revocation: UserRevocation;
    },
  ) {}

  async unlock(user: string): Promise<{ lock: { reason: string; at: number } | null; blocked: boolean }> {
    const lock = await this.d.regulator.lockInfo(user);
    await this.d.regulator.unlock(user);
    const blocked = await this.d.regulator.clearPasswordBlock(user);
    this.d.notices.audit(CLI, 'account_unlocked', user, 'success', lock ? lock.reason : blocked ? 'password_block' : 'not_locked', { method: 'operator' });
    return { lock, blocked };
  }

  /** Removes every second factor, forgets every trusted device and ends every session of the user. */
  async resetSecondFactor(user: string): Promise<{ hadSecret: boolean; recoveryCodes: number; devices: number; sessions: number }> {
    const { factors } = this.d;
    const record: UserRecord = (await this.d.directory.lookup(user)) ?? { username: user, groups: [], disabled: false, source: 'unknown' };
    const state = await factors.state.get(user);
    const enrolled = (await Promise.all(factors.offered().map((f) => f.enrolled(record, state)))).filter((e) => e !== undefined);
    const hadSecret = enrolled.some((e) => e.kind === 'secret');
    const recoveryCodes = enrolled.find((e) => e.kind === 'backup')?.remaining ?? 0;
    const devices = (await this.d.devices.list(user)).length;
    await factors.reset(user);
    const { sessions } = await this.d.revocation.endEverythingOfUser(user, 'second_factor_reset');
    this.d.notices.audit(CLI, 'second_factor_reset', user, 'success', 'operator', { method: 'operator', sessions_ended: sessions });
    return { hadSecret, recoveryCodes, devices, sessions };
  }

  /** Ends every session of the user and forgets their trusted devices (a device must not skip the second step afterwards). */
  async revokeUser(user: string): Promise<{ sessions: number; devices: number }> {
    const { sessions, devices } = await this.d.revocation.endEverythingOfUser(user, 'operator');
    this.d.notices.audit(CLI, 'sessions_revoked', user, 'success', 'user', { method: 'operator', count: sessions, devices });
    return { sessions, devices };
  }

  async revokeAll(): Promise<number> {
    const n = await this.d.sessions.revokeAll();
    this.d.notices.audit(CLI, 'sessions_revoked', undefined, 'success', 'all', { method: 'operator', count: n });
    return n;
  }

  async revokeSession(ref: string, user: string | undefined): Promise<boolean> {
    const ended = await this.d.sessions.revokeById(ref);
    this.d.notices.audit(CLI, 'sessions_revoked', user, ended ? 'success' : 'failure', 'id', { method: 'operator', count: ended ? 1 : 0 });
    return ended;
  }

  listDevices(user: string): Promise<TrustedDevice[]> {
    return this.d.devices.list(user);
  }

  async revokeDevice(user: string, id: string): Promise<boolean> {
    const ok = await this.d.devices.revoke(user, id);
    if (ok) this.d.notices.audit(CLI, 'device_revoked', user, 'success', undefined, { method: 'operator' });
    return ok;
  }

  async revokeDevices(user: string): Promise<number> {
    const n = (await this.d.devices.list(user)).length;
    await this.d.devices.revokeAll(user);
    this.d.notices.audit(CLI, 'device_revoked', user, 'success', 'all', { method: 'operator', count: n });
    return n;
  }

  /** Whether `user` can be sent a set-password link: a users-file account under that exact name, not disabled. */
  async checkInvitable(user: string): Promise<InviteCheck> {
    const record = await this.d.directory.lookup(user);
    if (!record) return { kind: 'unknown' };
    if (record.username !== user) return { kind: 'renamed', username: record.username };
    if (!OVERRIDABLE_SOURCES.has(record.source)) return { kind: 'external', source: record.source };
    if (record.disabled) return { kind: 'disabled' };
    return { kind: 'ok', user: record };
  }

  /** A new set-password link (replacing the user's previous one); `base` is the public origin, if configured. */
  async invite(user: UserRecord, base: string | undefined): Promise<{ link: string; expiresAt: number; ttl: number }> {
    const cfg = this.d.config();
    const ttl = cfg.users.invite_ttl;
    const { token, expiresAt } = await this.d.invites.create(user.username, ttl);
    this.d.notices.audit(CLI, 'invite_created', user.username, 'success', undefined, { method: 'operator' });
    return { link: `${base ?? ''}${invitePath(cfg.server.portal_prefix, token)}`, expiresAt, ttl };
  }

  /** Emails an invite link to the user's directory address; throws DELIVERY_FAILED. */
  async sendInvite(user: UserRecord, link: string, ttl: number): Promise<void> {
    if (!user.email) throw new Error('the user has no email address');
    const cfg = this.d.config();
    await this.d.delivery.notify('invite', user.email, { link, minutes: String(Math.round(ttl / 60_000)), name: user.displayName ?? user.username }, cfg.portal.languages[0] ?? 'en');
    this.d.notices.audit(CLI, 'invite_sent', user.username, 'success', undefined, { method: 'email' });
  }
}
