/**
 * Bearer JWT verification for one API client, with jose. Algorithms are pinned: a JWKS client accepts
 * only asymmetric algorithms (so an HS256 token "signed" with a public key is refused), a secret
 * client only HS256; `none` is never accepted. `exp` is required; `iss`/`aud` are checked when set;
 * `exp`/`nbf` get the configured leeway.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, jwtVerify, type FetchImplementation, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ApiClientConfig } from '../config/schema/index.js';
import type { Clock } from '../util/clock.js';
import type { JwksOptions } from './types.js';
import { MAX_BEARER_LENGTH } from './credentials.js';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export type JwtCheck = { ok: true; payload: JWTPayload } | { ok: false; reason: string };
export type JwtVerifier = (token: string) => Promise<JwtCheck>;

type BearerConfig = NonNullable<ApiClientConfig['bearer_jwt']>;

/** Fetch for jose's remote JWKS: bounded body, and fail fast for a while after a failure. */
function guardedFetch(clock: Clock, maxBytes: number, backoffMs: number): FetchImplementation {
  let failedAt = Number.NEGATIVE_INFINITY;
  return async (url, options) => {
    if (clock.now() - failedAt < backoffMs) throw new Error('JWKS endpoint failed recently; not retrying yet');
    try {
      const res = await fetch(url, options);
      if (res.status !== 200) throw new Error(`JWKS endpoint answered ${res.status}`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > maxBytes) throw new Error(`JWKS document larger than ${maxBytes} bytes`);
          chunks.push(chunk);
        }
      }
      return new Response(Buffer.concat(chunks), { status: 200, headers: res.headers });
    } catch (err) {
      failedAt = clock.now();
      throw err;
    }
  };
}

function keyResolver(cfg: BearerConfig, clock: Clock, jwks: JwksOptions): JWTVerifyGetKey | Uint8Array {
  if (cfg.secret !== undefined) return new TextEncoder().encode(cfg.secret);
  if (cfg.jwks_file !== undefined) {
    const doc = JSON.parse(readFileSync(cfg.jwks_file, 'utf8')) as JSONWebKeySet;
    if (!doc || !Array.isArray(doc.keys)) throw new Error(`${cfg.jwks_file} is not a JWKS document (no "keys" array)`);
    return createLocalJWKSet(doc);
  }
  if (cfg.jwks_url === undefined) throw new Error('set exactly one of jwks_url, jwks_file or secret');
  return createRemoteJWKSet(new URL(cfg.jwks_url), {
    timeoutDuration: jwks.timeoutMs ?? 5000,
    cooldownDuration: jwks.cooldownMs ?? 30_000,
    cacheMaxAge: jwks.cacheMaxAgeMs ?? 600_000,
    [customFetch]: guardedFetch(clock, jwks.maxBytes ?? 262_144, jwks.failureBackoffMs ?? 10_000),
  });
}

export function pinnedAlgorithms(cfg: BearerConfig): string[] {
  if (cfg.secret !== undefined) {
    const algs = cfg.algorithms ?? ['HS256'];
    if (algs.some((a) => a !== 'HS256')) throw new Error('algorithms: a secret verifies HS256 only');
    return [...algs];
  }
  const algs = cfg.algorithms ?? [...ASYMMETRIC_ALGORITHMS];
  if (algs.includes('HS256')) throw new Error('algorithms: HS256 needs a secret, not a JWKS (algorithm confusion)');
  return [...algs];
}

const REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm_not_allowed',
  ERR_JWKS_NO_MATCHING_KEY: 'no_matching_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'ambiguous_key',
  ERR_JWKS_TIMEOUT: 'jwks_unavailable',
  ERR_JWKS_INVALID: 'jwks_unavailable',
  ERR_JWS_INVALID: 'malformed_token',
  ERR_JWT_INVALID: 'malformed_token',
  ERR_JOSE_NOT_SUPPORTED: 'algorithm_not_allowed',
};

function reasonOf(err: unknown): string {
  const e = err as { code?: string; claim?: string };
  if (e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `claim_${e.claim ?? 'invalid'}`;
  if (e.code !== undefined && REASONS[e.code]) return REASONS[e.code] as string;
  if (e.code === undefined || e.code === 'ERR_JOSE_GENERIC') return 'jwks_unavailable';
  return 'invalid_token';
}

export function createJwtVerifier(cfg: BearerConfig, clock: Clock, jwks: JwksOptions = {}): JwtVerifier {
  const algorithms = pinnedAlgorithms(cfg);
  const key = keyResolver(cfg, clock, jwks);
  const leewaySeconds = Math.ceil(cfg.leeway / 1000);
  const base = {
    algorithms,
    requiredClaims: ['exp'],
    ...(cfg.issuer !== undefined ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience !== undefined ? { audience: cfg.audience } : {}),
    clockTolerance: leewaySeconds,
  };
  return async (token) => {
    if (token.length > MAX_BEARER_LENGTH) return { ok: false, reason: 'token_too_long' };
    try {
      const options = { ...base, currentDate: new Date(clock.now()) };
      const { payload } = key instanceof Uint8Array ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      return { ok: true, payload };
    } catch (err) {
      return { ok: false, reason: reasonOf(err) };
    }
  };
}
