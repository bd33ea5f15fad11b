import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';
import type { Config } from '../config/schema/index.js';
import type { Subject } from '../auth/subject.js';
import { sha256Hex } from '../util/compare.js';

export type { Subject };

const PLAIN = /^[\x20-\x7e]*$/;

/**
 * Header values are printable ASCII: anything else (a Cyrillic display name, a control character)
 * is sent percent-encoded as UTF-8, so `Zoë` arrives as `Zo%C3%AB` and nothing can split a header.
 */
export function headerValue(value: string): string {
  return PLAIN.test(value) ? value : encodeURIComponent(value);
}

/** Names of every header the gateway owns: client copies are always removed. */
export function identityHeaderNames(identity: Config['identity']): string[] {
  const names = [...new Set([...Object.values(identity.headers).filter((n): n is string => n !== false), ...Object.values(DEFAULT_IDENTITY_HEADERS)])];
  // The assertion header is the gateway's whether or not assertions are on (SPEC §3): a client-sent one
  // must never reach an upstream that trusts it.
  names.push(identity.jwt_assertion?.header ?? DEFAULT_ASSERTION_HEADER);
  return names;
}

/** The identity headers' default names: removed from client requests even when renamed or turned off. */
export const DEFAULT_IDENTITY_HEADERS = { user: 'Remote-User', groups: 'Remote-Groups', email: 'Remote-Email', name: 'Remote-Name', method: 'Remote-Auth-Method' } as const;

/** `identity.jwt_assertion.header`'s default. */
export const DEFAULT_ASSERTION_HEADER = 'X-Portcullis-Assertion';

/** Builds the identity headers; with `jwt_assertion`, a short-lived signed JWT (cached per subject). */
export class IdentityHeaders {
  private readonly key?: KeyObject;
  private readonly alg?: 'ES256' | 'EdDSA';
  private readonly kid?: string;
  private jwk?: JWK;
  private readonly cache = new Map<string, { token: string; until: number }>();

  constructor(private readonly identity: Config['identity']) {
    const a = identity.jwt_assertion;
    if (a) {
      this.key = createPrivateKey(readFileSync(a.private_key_file));
      const type = this.key.asymmetricKeyType;
      this.alg = a.algorithm ?? (type === 'ed25519' ? 'EdDSA' : 'ES256');
      if ((this.alg === 'EdDSA' && type !== 'ed25519') || (this.alg === 'ES256' && type !== 'ec')) {
        throw new Error(`identity.jwt_assertion.private_key_file: a ${String(type)} key cannot sign ${this.alg}; use an EC P-256 or Ed25519 key`);
      }
      this.kid = sha256Hex(createPublicKey(this.key).export({ format: 'der', type: 'spki' })).slice(0, 16);
    }
  }

  /** The public key set upstreams use to verify the assertion, served at /_gateway/.well-known/jwks.json. */
  async jwks(): Promise<{ keys: JWK[] }> {
    if (!this.key) return { keys: [] };
    if (!this.jwk) this.jwk = { ...(await exportJWK(createPublicKey(this.key))), kid: this.kid!, alg: this.alg!, use: 'sig' };
    return { keys: [this.jwk] };
  }

  /**
   * The headers for `subject`: computed synchronously (no promise per request) unless a JWT assertion
   * has to be signed — a cached one is reused for half its lifetime.
   */
  headers(subject: Subject, now: number): Record<string, string> | Promise<Record<string, string>> {
    const h = this.identity.headers;
    const out: Record<string, string> = {};
    if (h.user) out[h.user] = headerValue(subject.user);
    if (h.method) out[h.method] = subject.method;
    if (h.groups && subject.groups.length) out[h.groups] = headerValue(subject.groups.join(','));
    if (h.email && subject.email) out[h.email] = headerValue(subject.email);
    if (h.name && subject.name) out[h.name] = headerValue(subject.name);
    const a = this.identity.jwt_assertion;
    if (!a || !this.key) return out;
    const cached = this.cache.get(subject.cacheKey);
    if (cached && cached.until > now) {
      out[a.header] = cached.token;
      return out;
    }
    return this.assertion(subject, now, a).then((token) => {
      out[a.header] = token;
      return out;
    });
  }

  private async assertion(subject: Subject, now: number, a: NonNullable<Config['identity']['jwt_assertion']>): Promise<string> {
    const cached = this.cache.get(subject.cacheKey);
    if (cached && cached.until > now) return cached.token;
    const iat = Math.floor(now / 1000);
    const ttl = Math.max(1, Math.floor(a.ttl / 1000));
    let jwt = new SignJWT({ groups: [...subject.groups], ...(subject.email ? { email: subject.email } : {}), ...(subject.name ? { name: subject.name } : {}), amr: [...subject.amr], ...(subject.idp ? { idp: subject.idp } : {}) })
      .setProtectedHeader({ alg: this.alg!, kid: this.kid!, typ: 'JWT' })
      .setSubject(subject.user)
      .setIssuer('portcullis')
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl);
    if (a.audience) jwt = jwt.setAudience(a.audience);
    const token = await jwt.sign(this.key!);
    // Reuse for half the lifetime, so an upstream never receives an assertion about to expire.
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(subject.cacheKey, { token, until: now + (ttl * 1000) / 2 });
    return token;
  }
}
