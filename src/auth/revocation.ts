import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { SessionManager } from '../session/sessions.js';

/** Why everything of a user ends (audit lines and the callers' own records say it). */
export type EndReason = 'logout_everywhere' | 'operator' | 'second_factor_reset' | 'password_changed' | 'locked' | 'disabled' | 'removed' | 'reported';

export interface EndOptions {
  /** Keep the user's trusted devices (a lockout: the browsers stay the user's own). Default: forget them. */
  keepDevices?: boolean;
}

/** What was ended. */
export interface Ended {
  sessions: number;
  devices: number;
}

/** Something else a user's access hangs on (app passwords, ...), ended with the rest. */
export type AccessRevoker = (user: string, reason: EndReason) => Promise<unknown>;

/**
 * "End everything of user U", in one place: every session of the user on every instance (the fan-out
 * closes the WebSockets and streams they opened, within a second), the trusted devices and the reverify
 * grace of every device (unless kept),
 * cached Basic credentials, and whatever else registered with `alsoRevoke` (app passwords). Every path
 * that must cut a user off — logout everywhere, operator revoke, second-factor reset, a password change,
 * lockout, `disabled: true`, "this wasn't me" — calls `endEverythingOfUser`.
 */
export class UserRevocation {
  private readonly extra: AccessRevoker[] = [];

  constructor(
    private readonly d: {
      sessions: SessionManager;
      devices: TrustedDevices;
      grace: ReverifyGrace;
      /** Forgets cached HTTP Basic credentials of the user. */
      forgetPassword: (user: string) => void;
    },
  ) {}

  /** Registers another kind of access to end with the rest (called once at start-up). */
  alsoRevoke(revoker: AccessRevoker): void {
    this.extra.push(revoker);
  }

  /** Ends every session (and open connection) of `user`, forgets their trusted devices; store errors propagate. */
  async endEverythingOfUser(user: string, reason: EndReason, o: EndOptions = {}): Promise<Ended> {
    const devices = o.keepDevices ? 0 : (await this.d.devices.list(user)).length;
    const sessions = await this.d.sessions.revokeUser(user);
    if (!o.keepDevices) {
      await this.d.devices.revokeAll(user);
      // The reverify grace lets a device skip the code for a few minutes: it ends with the trust.
      await this.d.grace.revokeAll(user);
    }
    this.d.forgetPassword(user);
    for (const revoke of this.extra) await revoke(user, reason);
    return { sessions, devices };
  }
}
