import type { Config, FactorMethod } from '../config/schema/index.js';
import type { ReverifyGrace, TrustedDevices } from '../factors/devices.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { UserRecord } from '../users/directory.js';
import type { Flow } from './flows.js';
import type { Notices } from './notices.js';
import type { Passwords } from './passwords.js';
import type { RequestInfo } from './request.js';
import type { SecondStep, SentInfo } from './second-step.js';
import type { PortcullisError } from '../errors/index.js';

export type FirstStepOutcome =
  | { kind: 'authenticated'; user: UserRecord; via: 'exempt' | 'grace' | 'trusted_device' }
  | { kind: 'second_factor'; user: UserRecord; flow: Flow; sent?: SentInfo; sendError?: PortcullisError }
  | { kind: 'enrol'; user: UserRecord; method: FactorMethod };

/**
 * Signing in, step one (SPEC §3 `POST /login`, JSON `POST /login`): the password, then what the user
 * must do next — nothing (exempt, reverify grace, trusted device), a second step, or enrolment.
 * `afterFirstFactor` is the same decision for any first factor (an identity provider's callback too).
 */
export class SignIn {
  constructor(
    private readonly d: {
      config: () => Readonly<Config>;
      passwords: Passwords;
      factors: FactorRegistry;
      secondStep: SecondStep;
      devices: TrustedDevices;
      grace: ReverifyGrace;
      notices: Notices;
    },
  ) {}

  /** Throws INVALID_CREDENTIALS (also for locked and disabled users), RATE_LIMITED, DIRECTORY_UNAVAILABLE. */
  async password(username: string, password: string, info: RequestInfo): Promise<FirstStepOutcome> {
    const user = await this.d.passwords.confirmPassword(username, password, info, { event: 'login' });
    return this.afterFirstFactor(user, info);
  }

  async afterFirstFactor(user: UserRecord, info: RequestInfo): Promise<FirstStepOutcome> {
    const { resolution } = await this.d.factors.snapshot(user);
    if (!resolution.required) return { kind: 'authenticated', user, via: 'exempt' };
    if (info.deviceId) {
      if (await this.d.grace.within(user.username, info.deviceId)) {
        this.d.notices.audit(info, 'second_factor', user.username, 'success', 'reverify_grace');
        return { kind: 'authenticated', user, via: 'grace' };
      }
      if (this.d.config().second_factor.trusted_devices.enabled && (await this.d.devices.isTrusted(user.username, info.deviceId))) {
        this.d.notices.audit(info, 'second_factor', user.username, 'success', 'trusted_device');
        return { kind: 'authenticated', user, via: 'trusted_device' };
      }
    }
    if (resolution.mustEnrol || resolution.methods.length === 0) {
      const method = resolution.enrolMethod ?? this.d.factors.enrollable(user)[0] ?? 'totp';
      this.d.notices.audit(info, 'enrolment_required', user.username, 'info', method);
      return { kind: 'enrol', user, method };
    }
    const started = await this.d.secondStep.begin(user, 'signin', resolution, info);
    return { kind: 'second_factor', user, ...started };
  }
}
