import type { Config, FactorMethod } from '../config/schema/index.js';
import type { UserRecord } from '../users/directory.js';
import type { FactorStateRecord } from './enrolment.js';
import type { Enrolled, FactorKind } from './factor.js';

export interface SecondFactorInput {
  user: UserRecord;
  cfg: Config['second_factor'];
  state: FactorStateRecord;
  /** What the user can use now (from each factor's `enrolled`). */
  enrolled: readonly Enrolled[];
  /** The kind of each available method; undefined for a method this gateway does not offer. */
  kindOf: (method: FactorMethod) => FactorKind | undefined;
}

export interface SecondFactorResolution {
  required: boolean;
  /** Usable methods, the primary one first; a backup method (recovery codes) only ever as an alternative. */
  methods: Enrolled[];
  preferred?: FactorMethod;
  /** Required but no primary method is usable: enrol `enrolMethod` (when `methods` is not empty, pass one of them first). */
  mustEnrol: boolean;
  enrolMethod?: FactorMethod;
  /** Why `preferred` was chosen. */
  chosenBy?: 'user' | 'assignment' | 'preference' | 'passkey' | 'default';
}

const NOT_REQUIRED: SecondFactorResolution = { required: false, methods: [], mustEnrol: false };

/**
 * The method an operator chose for this user: the per-user `second_factor.method`, else the first
 * matching `assignments` entry (user or directory group), when it is an allowed primary method.
 */
export function operatorChoice(user: UserRecord, input: Pick<SecondFactorInput, 'cfg' | 'kindOf'>): { method: FactorMethod; by: 'user' | 'assignment' } | undefined {
  const { cfg, kindOf } = input;
  const primary = (m: FactorMethod | undefined): m is FactorMethod => m !== undefined && cfg.methods.includes(m) && kindOf(m) !== undefined && kindOf(m) !== 'backup';
  if (primary(user.secondFactor?.method)) return { method: user.secondFactor.method, by: 'user' };
  const hit = cfg.assignments.find((a) => (a.user !== undefined ? a.user === user.username : a.group !== undefined && user.groups.includes(a.group)));
  return hit && primary(hit.method) ? { method: hit.method, by: 'assignment' } : undefined;
}

/**
 * Which second factor a user must pass (pure: no I/O). Order of choice: the operator's (per-user
 * method, then assignments), then the user's own preference, then the first usable method in `methods`
 * order. Only methods listed in `cfg.methods` are offered. An operator's choice is exclusive: only that
 * method is offered (plus backup codes). With policy `optional` a second factor is required when the
 * user opted in, holds a secret factor (authenticator app, passkey), or an operator assigned a method.
 */
export function resolveSecondFactor(input: SecondFactorInput): SecondFactorResolution {
  const { user, cfg, state, kindOf } = input;
  if (cfg.policy === 'off' || user.secondFactor?.enabled === false) return NOT_REQUIRED;

  const offered = (m: FactorMethod | undefined): m is FactorMethod => m !== undefined && cfg.methods.includes(m) && kindOf(m) !== undefined;
  const primary = (m: FactorMethod | undefined): m is FactorMethod => offered(m) && kindOf(m) !== 'backup';
  const usable = new Map(input.enrolled.filter((e) => offered(e.type)).map((e) => [e.type, e]));

  const chosen = operatorChoice(user, input);
  const required = cfg.policy === 'required' || state.optedIn === true || [...usable.values()].some((e) => e.kind === 'secret') || chosen !== undefined;
  const backups = cfg.methods.filter((m) => offered(m) && !primary(m)).flatMap((m) => usable.get(m) ?? []);
  const withBackups = (list: Enrolled[]) => [...list, ...backups];

  if (chosen) {
    const first = usable.get(chosen.method);
    const res: SecondFactorResolution = { required, methods: withBackups(first ? [first] : []), preferred: chosen.method, mustEnrol: required && !first, chosenBy: chosen.by };
    if (res.mustEnrol) res.enrolMethod = chosen.method;
    return res;
  }

  const candidates = cfg.methods.filter(primary).flatMap((m) => usable.get(m) ?? []);
  const pref = primary(state.preferred) ? candidates.find((m) => m.type === state.preferred) : undefined;
  // A user with a passkey is offered it first (no code to type or wait for); the others stay one click away.
  const passkey = candidates.find((m) => m.type === 'webauthn');
  const first = passkey ?? pref ?? candidates[0];
  if (!first) {
    const enrolMethod = primary(state.preferred) ? state.preferred : cfg.methods.find(primary);
    const res: SecondFactorResolution = { required, methods: withBackups([]), mustEnrol: required && enrolMethod !== undefined };
    if (res.mustEnrol) res.enrolMethod = enrolMethod;
    return res;
  }
  return {
    required,
    methods: withBackups([first, ...(pref && pref !== first ? [pref] : []), ...candidates.filter((m) => m !== first && m !== pref)]),
    preferred: first.type,
    mustEnrol: false,
    chosenBy: passkey ? 'passkey' : pref ? 'preference' : 'default',
  };
}
