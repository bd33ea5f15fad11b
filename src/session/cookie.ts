import { createHmac, timingSafeEqual } from 'node:crypto';
import { cryptoRandom, randomToken, type Random } from '../util/random.js';

/** Longest cookie (or bearer token) value looked at; anything longer is rejected before any crypto. */
export const MAX_SIGNED_VALUE_LENGTH = 256;
/** 256-bit ids: 32 random bytes, base64url without padding. */
export const ID_BYTES = 32;
const SIGNATURE_BYTES = 32; // full HMAC-SHA256
const ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE_LENGTH = Math.ceil((SIGNATURE_BYTES * 4) / 3); // 43 base64url characters

export interface CookieSigner {
  /** `<id>.<signature>` signed with the first (newest) secret. */
  sign(id: string): string;
  /** The id when the value carries a valid signature under any configured secret; undefined otherwise. */
  verify(value: string | undefined | null): string | undefined;
}

/** A fresh 256-bit id from the CSPRNG (base64url). */
export function newId(random: Random = cryptoRandom): string {
  return randomToken(ID_BYTES, random);
}

function mac(key: Buffer, id: string): Buffer {
  return createHmac('sha256', key).update(id, 'utf8').digest().subarray(0, SIGNATURE_BYTES);
}

/**
 * HMAC-SHA256 cookie signer over the keyring's keys for one purpose (`Keyring.cookie`): `keys[0]` signs,
 * every key verifies (rotation: `secrets: [new, old]`). Verification is bounded in length, touches no
 * store, and compares against every key in constant time.
 */
export function signer(keys: readonly Buffer[]): CookieSigner {
  if (keys.length === 0) throw new Error('signer needs at least one key');
  return {
    sign(id) {
      if (!ID_PATTERN.test(id)) throw new Error('id must be 16-128 base64url characters');
      return `${id}.${mac(keys[0]!, id).toString('base64url')}`;
    },
    verify(value) {
      if (typeof value !== 'string' || value.length > MAX_SIGNED_VALUE_LENGTH) return undefined;
      const dot = value.indexOf('.');
      if (dot < 0 || value.indexOf('.', dot + 1) >= 0) return undefined;
      const id = value.slice(0, dot);
      const sig = value.slice(dot + 1);
      if (!ID_PATTERN.test(id) || sig.length !== SIGNATURE_LENGTH) return undefined;
      const given = Buffer.from(sig, 'base64url');
      // Only canonical encodings: re-encoding must give back the exact string.
      if (given.length !== SIGNATURE_BYTES || given.toString('base64url') !== sig) return undefined;
      let ok = false;
      for (const key of keys) ok = timingSafeEqual(mac(key, id), given) || ok; // no short-circuit: every key is tried
      return ok ? id : undefined;
    },
  };
}
