import type { Config, FactorMethod } from '../config/schema/index.js';
import type { Delivery } from '../delivery/index.js';
import type { Keyring } from '../keys/keyring.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { CodeFactor } from './code.js';
import { OneTimeCodes } from './codes.js';
import { FactorState, type FactorStateRecord } from './enrolment.js';
import type { Enrolled, FactorKind, SecondFactor } from './factor.js';
import { operatorChoice, resolveSecondFactor, type SecondFactorResolution } from './methods.js';
import { RecoveryCodes } from './recovery-codes.js';
import { TotpFactor } from './totp.js';
import { WebAuthnFactor, type PasskeyEvent } from './webauthn.js';

/** A user's second-factor situation: their choices, what they can use now, and what they must pass. */
export interface FactorSnapshot {
  state: FactorStateRecord;
  enrolled: Enrolled[];
  resolution: SecondFactorResolution;
}

/**
 * The second factors this gateway offers, by method. The one place that knows which methods exist, what
 * kind each is and which `amr` it stands for; the use-cases in `auth/` ask it, never a method by name.
 */
export class FactorRegistry {
  private readonly byMethod: ReadonlyMap<FactorMethod, SecondFactor>;

  constructor(
    factors: readonly SecondFactor[],
    readonly state: FactorState,
    private readonly cfg: () => Config['second_factor'],
  ) {
    this.byMethod = new Map(factors.map((f) => [f.method, f]));
  }

  /** The factor for `method` when the operator offers it (`second_factor.methods`). */
  get(method: string | undefined): SecondFactor | undefined {
    if (method === undefined) return undefined;
    const f = this.byMethod.get(method as FactorMethod);
    return f && this.cfg().methods.includes(f.method) ? f : undefined;
  }

  /** Offered factors in `second_factor.methods` order. */
  offered(): SecondFactor[] {
    return this.cfg().methods.flatMap((m) => this.byMethod.get(m) ?? []);
  }

  kindOf = (method: FactorMethod): FactorKind | undefined => this.get(method)?.kind;

  /** The RFC 8176 `amr` value of a completed method; undefined for what is not a second factor (a trusted device, an invite). */
  amr(method: string): string | undefined {
    return this.byMethod.get(method as FactorMethod)?.amr;
  }

  async snapshot(user: UserRecord): Promise<FactorSnapshot> {
    const state = await this.state.get(user.username);
    const enrolled = (await Promise.all(this.offered().map((f) => f.enrolled(user, state)))).filter((e): e is Enrolled => e !== undefined);
    return { state, enrolled, resolution: this.resolve(user, state, enrolled) };
  }

  resolve(user: UserRecord, state: FactorStateRecord, enrolled: readonly Enrolled[]): SecondFactorResolution {
    return resolveSecondFactor({ user, cfg: this.cfg(), state, enrolled, kindOf: this.kindOf });
  }

  /** The method an operator chose for the user, if any. */
  operatorMethod(user: UserRecord): FactorMethod | undefined {
    return operatorChoice(user, { cfg: this.cfg(), kindOf: this.kindOf })?.method;
  }

  /** Methods the user may set up as a primary method: offered, not a backup, only the operator's choice when there is one. */
  enrollable(user: UserRecord): FactorMethod[] {
    const chosen = this.operatorMethod(user);
    return this.offered()
      .filter((f) => f.kind !== 'backup' && (chosen === undefined || f.method === chosen))
      .map((f) => f.method);
  }

  /**
   * `portcullis users reset-2fa`: removes what every method keeps (offered or not), user-entered
   * delivery details and the preferred method. An opt-in is kept, so a user of an `optional` policy is
   * not silently left without a second factor: they enrol again.
   */
  async reset(user: string): Promise<void> {
    for (const f of this.byMethod.values()) await f.remove(user);
    await this.state.clear(user);
  }
}

export interface FactorDeps {
  store: KeyValueStore;
  keyring: Keyring;
  delivery: Delivery;
  clock: Clock;
  random: Random;
  config: () => Readonly<Config>;
  /** Passkey events to audit (a signature counter that went backwards). */
  onPasskeyEvent?: (e: PasskeyEvent) => void;
}

/** Every second factor, built once from the config (the one list of implementations). */
export function createFactors(d: FactorDeps): { registry: FactorRegistry; codes: OneTimeCodes; totp: TotpFactor; recovery: RecoveryCodes; webauthn: WebAuthnFactor } {
  const sf = d.config().second_factor;
  const codes = new OneTimeCodes(d.store, sf.code, d.keyring.atRest('one-time-codes'), d.clock, d.random);
  const totp = new TotpFactor(d.store, sf.totp, d.keyring.atRest('totp-at-rest'), d.clock);
  const recovery = new RecoveryCodes(d.store, sf.recovery_codes, d.keyring.atRest('recovery-codes'), d.random);
  const state = new FactorState(d.store);
  const codeCfg = () => d.config().second_factor.code;
  const publicUrl = () => {
    const u = d.config().server.public_url;
    const first = Array.isArray(u) ? u[0] : u;
    return first === undefined ? undefined : new URL(first).origin;
  };
  const webauthn = new WebAuthnFactor(d.store, () => d.config().second_factor.webauthn, publicUrl, d.keyring.atRest('webauthn'), d.clock, d.onPasskeyEvent);
  const factors: SecondFactor[] = [
    totp,
    new CodeFactor('email', codes, d.delivery, state, codeCfg),
    new CodeFactor('sms', codes, d.delivery, state, codeCfg),
    webauthn,
    recovery,
  ];
  return { registry: new FactorRegistry(factors, state, () => d.config().second_factor), codes, totp, recovery, webauthn };
}
