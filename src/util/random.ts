import { randomBytes, randomInt } from 'node:crypto';

/** Injected randomness (CSPRNG by default). */
export interface Random {
  bytes(n: number): Buffer;
  /** Uniform integer in [0, max) without modulo bias. */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};

/** base64url token of `bytes` random bytes (32 bytes = 256 bits). */
export function randomToken(bytes = 32, random: Random = cryptoRandom): string {
  return random.bytes(bytes).toString('base64url');
}
