import type { Config, FactorMethod } from '../config/schema/index.js';
import type { UserRecord } from '../users/directory.js';
import type { FactorStateRecord } from './enrolment.js';

export interface SecondFactorInput {
  user: UserRecord;
  cfg: Config['second_factor'];
  state: FactorStateRecord;
  totpEnrolled: boolean;
  webauthnCount: number;
  recoveryCodesLeft: number;
}

export interface OfferedMethod {
  type: FactorMethod;
  /** Email address or phone number, unmasked: the caller masks it before showing it. */
  destination?: string;
  /** The delivery address itself (same value as `destination`, never masked): send the code here. */
  address?: string;
  /** Where the delivery detail comes from: the directory (trusted) or the user (verified by a code). */
  source?: 'directory' | 'user';
}

export interface SecondFactorResolution {
  required: boolean;
  /** Usable methods, the primary one first; `recovery_code` only ever as an alternative. */
  methods: OfferedMethod[];
  preferred?: FactorMethod;
  /** Required but no primary method is usable: enrol `enrolMethod` (when `methods` is not empty, pass one of them first). */
  mustEnrol: boolean;
  enrolMethod?: FactorMethod;
  /** Why `preferred` was chosen. */
  chosenBy?: 'user' | 'assignment' | 'preference' | 'default';
}

const NOT_REQUIRED: SecondFactorResolution = { required: false, methods: [], mustEnrol: false };

/**
 * Which second factor a user must pass (pure: no I/O). Order of choice: per-user
 * `second_factor.method`, then the first matching `assignments` entry (user or directory group), then
 * the user's own preference, then the first usable method in `methods` order. Only methods listed in
 * `cfg.methods` are offered. An operator's choice (per-user method or assignment) is exclusive: only
 * that method is offered (plus recovery codes). With policy `optional` a second factor is required when
 * the user opted in, has TOTP or passkeys, or an operator assigned a method.
 */
export function resolveSecondFactor(input: SecondFactorInput): SecondFactorResolution {
  const { user, cfg, state } = input;
  if (cfg.policy === 'off' || user.secondFactor?.enabled === false) return NOT_REQUIRED;

  const allowed = (m: FactorMethod | undefined): m is FactorMethod => m !== undefined && cfg.methods.includes(m);
  const primaryAllowed = (m: FactorMethod | undefined): m is FactorMethod => allowed(m) && m !== 'recovery_code';

  let operatorChoice: { method: FactorMethod; by: 'user' | 'assignment' } | undefined;
  if (primaryAllowed(user.secondFactor?.method)) {
    operatorChoice = { method: user.secondFactor.method, by: 'user' };
  } else {
    const hit = cfg.assignments.find((a) => (a.user !== undefined ? a.user === user.username : a.group !== undefined && user.groups.includes(a.group)));
    if (hit && primaryAllowed(hit.method)) operatorChoice = { method: hit.method, by: 'assignment' };
  }

  const required =
    cfg.policy === 'required' || state.optedIn === true || input.totpEnrolled || input.webauthnCount > 0 || operatorChoice !== undefined;
  const recovery = allowed('recovery_code') ? usable('recovery_code', input) : undefined;
  const withRecovery = (list: OfferedMethod[]) => (recovery ? [...list, recovery] : list);

  if (operatorChoice) {
    const primary = usable(operatorChoice.method, input);
    const res: SecondFactorResolution = {
      required,
      methods: withRecovery(primary ? [primary] : []),
      preferred: operatorChoice.method,
      mustEnrol: required && !primary,
      chosenBy: operatorChoice.by,
    };
    if (res.mustEnrol) res.enrolMethod = operatorChoice.method;
    return res;
  }

  const candidates = cfg.methods.filter((m) => m !== 'recovery_code').map((m) => usable(m, input)).filter((m): m is OfferedMethod => m !== undefined);
  const pref = primaryAllowed(state.preferred) ? candidates.find((m) => m.type === state.preferred) : undefined;
  const primary = pref ?? candidates[0];
  if (!primary) {
    const enrolMethod = primaryAllowed(state.preferred) ? state.preferred : cfg.methods.find((m) => m !== 'recovery_code');
    const res: SecondFactorResolution = { required, methods: withRecovery([]), mustEnrol: required && enrolMethod !== undefined };
    if (res.mustEnrol) res.enrolMethod = enrolMethod;
    return res;
  }
  return {
    required,
    methods: withRecovery([primary, ...candidates.filter((m) => m !== primary)]),
    preferred: primary.type,
    mustEnrol: false,
    chosenBy: pref ? 'preference' : 'default',
  };
}

function usable(method: FactorMethod, input: SecondFactorInput): OfferedMethod | undefined {
  const { user, state } = input;
  switch (method) {
    case 'email':
      if (user.email) return { type: 'email', destination: user.email, address: user.email, source: 'directory' };
      if (state.email?.verified) return { type: 'email', destination: state.email.address, address: state.email.address, source: 'user' };
      return undefined;
    case 'sms':
      if (user.phone) return { type: 'sms', destination: user.phone, address: user.phone, source: 'directory' };
      if (state.phone?.verified) return { type: 'sms', destination: state.phone.number, address: state.phone.number, source: 'user' };
      return undefined;
    case 'totp':
      return input.totpEnrolled ? { type: 'totp' } : undefined;
    case 'webauthn':
      return input.webauthnCount > 0 ? { type: 'webauthn' } : undefined;
    case 'recovery_code':
      return input.recoveryCodesLeft > 0 ? { type: 'recovery_code' } : undefined;
  }
}
