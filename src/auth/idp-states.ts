import { ipKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import { hmacSha256, safeEqual } from '../util/compare.js';
import { cryptoRandom, randomToken, type Random } from '../util/random.js';

/** How long a browser has between "Sign in with ..." and the provider's callback. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60_000;

/**
 * Sign-ins one client address (an IPv6 /64) may start per minute. Each start writes a record, so this
 * bounds what an anonymous flood can put in the store; it is generous because whole offices sign in
 * through one NAT address.
 */
export const STARTS_PER_CLIENT_PER_MINUTE = 600;

/** The browser-binding cookie's value and the `state` parameter: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const MAX_RECORD = 16_384;

/** What the callback is checked against, kept server-side while the browser is at the provider. */
export interface SignInState {
  provider: string;
  codeVerifier: string;
  nonce: string;
  /** Where to go afterwards (validated again at the end). */
  rd: string;
  /** The redirect URI sent to the provider (the code exchange repeats it). */
  redirectUri: string;
  /** A re-authentication (step-up) was asked of the provider. */
  reauth?: boolean;
}

interface StoredState extends SignInState {
  /** HMAC of the browser binding. */
  b: string;
}

export type TakenState = { status: 'ok'; state: SignInState } | { status: 'missing' } | { status: 'foreign' };

/**
 * The `state` of a sign-in at an identity provider, bound to the browser that started it: the record
 * (`oidc-state:<hmac(state)>`, {@link SIGN_IN_STATE_TTL_MS}) holds the PKCE verifier, the nonce, `rd` and
 * the HMAC of a random value the browser keeps in a short-lived cookie. The callback must bring both
 * the `state` and that cookie; the record is then taken atomically, so a callback works once.
 */
export class SignInStates {
  constructor(
    private readonly store: KeyValueStore,
    private readonly key: Buffer,
    private readonly random: Random = cryptoRandom,
  ) {
    if (key.length < 16) throw new TypeError('SignInStates needs a key of at least 16 bytes');
  }

  /** A fresh browser binding (the cookie's value). */
  newBinding(): string {
    return randomToken(32, this.random);
  }

  /** A binding from a cookie, if it is one of ours in form. */
  static wellFormed(binding: string | undefined): binding is string {
    return typeof binding === 'string' && TOKEN.test(binding);
  }

  /** Fresh random values for one sign-in: `state`, `nonce` and the PKCE verifier. */
  newChecks(): { state: string; nonce: string; codeVerifier: string } {
    return { state: randomToken(32, this.random), nonce: randomToken(32, this.random), codeVerifier: randomToken(32, this.random) };
  }

  /** Counts a start from this client; false past {@link STARTS_PER_CLIENT_PER_MINUTE}. */
  async admit(clientIp: string): Promise<boolean> {
    return (await this.store.incr(`oidc-starts:${ipKey(clientIp)}`, 60_000)) <= STARTS_PER_CLIENT_PER_MINUTE;
  }

  async save(state: string, binding: string, data: SignInState): Promise<void> {
    if (!TOKEN.test(state) || !SignInStates.wellFormed(binding)) throw new TypeError('malformed state or binding');
    const record: StoredState = { ...data, b: this.mac(`binding:${binding}`) };
    await this.store.set(this.recordKey(state), JSON.stringify(record), SIGN_IN_STATE_TTL_MS);
  }

  /**
   * The state's record for this browser, used up. `missing`: unknown, expired or already used;
   * `foreign`: it belongs to another browser (left in place: a stolen `state` cannot spoil the owner's sign-in).
   */
  async take(state: string | null, binding: string | undefined): Promise<TakenState> {
    if (state === null || !TOKEN.test(state)) return { status: 'missing' };
    const key = this.recordKey(state);
    const raw = await this.store.get(key);
    const record = raw === null ? undefined : parse(raw);
    if (!record) return { status: 'missing' };
    if (!SignInStates.wellFormed(binding) || !safeEqual(record.b, this.mac(`binding:${binding}`))) return { status: 'foreign' };
    // Of two callbacks racing with the same state, one gets the record.
    if ((await this.store.getDel(key)) === null) return { status: 'missing' };
    const { b: _binding, ...data } = record;
    return { status: 'ok', state: data };
  }

  private mac(value: string): string {
    return hmacSha256(this.key, value).toString('base64url');
  }

  private recordKey(state: string): string {
    return `oidc-state:${this.mac(`state:${state}`)}`;
  }
}

function parse(raw: string): StoredState | undefined {
  if (raw.length > MAX_RECORD) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<StoredState> | null;
    if (!v || typeof v.provider !== 'string' || typeof v.codeVerifier !== 'string' || typeof v.nonce !== 'string' || typeof v.rd !== 'string' || typeof v.redirectUri !== 'string' || typeof v.b !== 'string') return undefined;
    return v as StoredState;
  } catch {
    return undefined;
  }
}
