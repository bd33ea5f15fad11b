import { hkdfSync } from 'node:crypto';
import type { Config } from '../config/schema/index.js';

/**
 * Every key the gateway uses, derived once (HKDF-SHA256) from the configured `session.secret(s)` and
 * named by purpose. Three families, each with the derivation it has always had (changing one would end
 * every session or make stored seeds unreadable):
 *
 * - at rest: HKDF(oldest secret, salt `portcullis`, info = purpose). The OLDEST listed secret, so
 *   `secrets: [new, old]` rotates signing without losing TOTP seeds, recovery codes or invites.
 * - signing: HKDF(newest secret, salt `portcullis`, info = purpose), for short-lived signed values.
 * - cookies: HKDF(each secret, salt `portcullis-cookie-v1`, info `portcullis <purpose> cookie`), one key
 *   per secret: the newest signs, every one verifies.
 */
export type AtRestPurpose = 'one-time-codes' | 'totp-at-rest' | 'recovery-codes' | 'invites' | 'app-passwords' | 'webauthn' | 'report-links';
export type SigningPurpose = 'login-csrf' | 'oidc-state';
export type CookiePurpose = 'session' | 'device';

export class Keyring {
  private readonly cache = new Map<string, Buffer>();
  private readonly cookies = new Map<CookiePurpose, readonly Buffer[]>();
  /** Newest first. */
  readonly secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('session.secret is required');
    this.secrets = Object.freeze([...secrets]);
  }

  /** The keyring of a validated config: `session.secrets`, else `[session.secret]`. */
  static fromSession(session: Config['session']): Keyring {
    return new Keyring(sessionSecrets(session));
  }

  atRest(purpose: AtRestPurpose): Buffer {
    return this.derived(`r:${purpose}`, () => hkdf(this.secrets[this.secrets.length - 1]!, 'portcullis', purpose));
  }

  signing(purpose: SigningPurpose): Buffer {
    return this.derived(`s:${purpose}`, () => hkdf(this.secrets[0]!, 'portcullis', purpose));
  }

  /** One key per configured secret, newest first. */
  cookie(purpose: CookiePurpose): readonly Buffer[] {
    let keys = this.cookies.get(purpose);
    if (!keys) {
      keys = Object.freeze(this.secrets.map((s) => hkdf(s, 'portcullis-cookie-v1', `portcullis ${purpose} cookie`)));
      this.cookies.set(purpose, keys);
    }
    return keys;
  }

  private derived(name: string, make: () => Buffer): Buffer {
    let key = this.cache.get(name);
    if (!key) {
      key = make();
      this.cache.set(name, key);
    }
    return key;
  }
}

/** The configured signing secrets, newest first (`session.secrets`, else `[session.secret]`). */
export function sessionSecrets(session: Config['session']): string[] {
  const secrets = session.secrets ?? (session.secret === undefined ? [] : [session.secret]);
  if (secrets.length === 0) throw new Error('session.secret is required');
  return [...secrets];
}

function hkdf(secret: string, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, info, 32));
}
