import { sha256Hex } from '../util/compare.js';

/**
 * Store-key fragment for a user name typed at sign-in: a hash of the case-folded name, so arbitrary
 * input cannot make odd keys and `Alice`/`alice` share one counter (directories may match either).
 */
export function typedUserKey(username: string): string {
  return sha256Hex(username.trim().toLowerCase()).slice(0, 32);
}

/**
 * Store-key fragment for a known user name: readable when it is plain, hashed otherwise (`h:` cannot
 * occur in a plain name, so the two forms never collide).
 */
export function userKey(username: string): string {
  return /^[A-Za-z0-9._@+-]{1,64}$/.test(username) ? username : `h:${sha256Hex(username).slice(0, 32)}`;
}

/** Store-key fragment for a client address (bounded, no separators that could confuse the key space). */
export function ipKey(ip: string): string {
  return /^[0-9A-Fa-f.:]{1,45}$/.test(ip) ? ip : `h:${sha256Hex(ip).slice(0, 32)}`;
}
