import type { Random } from '../util/random.js';

/** Code alphabets. Letters that are easily confused (I/L/O, l/o, 0/1 next to letters) are left out. */
export const CHARSETS = {
  digits: '0123456789',
  letters: 'ABCDEFGHJKMNPQRSTUVWXYZ',
  alphanumeric: 'ABCDEFGHJKMNPQRSTUVWXYZ23456789',
  alphanumeric_mixed_case: 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789',
} as const;

export type Charset = keyof typeof CHARSETS;

/** `length` characters drawn uniformly (Random.int has no modulo bias) from the charset. */
export function randomCode(length: number, charset: Charset, random: Random): string {
  const alphabet = CHARSETS[charset];
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.int(alphabet.length)];
  return out;
}

/** What the user typed, as stored: trimmed, without spaces and dashes, upper case unless the charset has both cases. */
export function normalizeCode(candidate: string, charset: Charset): string {
  const stripped = candidate.replace(/[\s\-\u2010-\u2015]/g, '');
  return charset === 'alphanumeric_mixed_case' ? stripped : stripped.toUpperCase();
}
