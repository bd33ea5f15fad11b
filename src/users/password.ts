import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { PortcullisError } from '../errors/index.js';
import { sha256Hex } from '../util/compare.js';
import { BoundedQueue } from '../util/limits.js';

/**
 * Password hashes as they appear in the users file (SPEC §2), all self-describing strings:
 *
 * - argon2 (PHC): `$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>` — also `$argon2i$` and `$argon2d$`.
 *   Verified by @node-rs/argon2 on libuv's thread pool.
 * - scrypt (PHC, the format passlib writes): `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` with salt
 *   and derived key in standard base64 (padding optional). The key length is that of the stored key
 *   (16–64 bytes). Verified with node:crypto's asynchronous scrypt.
 * - bcrypt (modular crypt): `$2a$`, `$2b$`, `$2y$` + two-digit cost + 53 characters. Verified by bcryptjs.
 *   bcrypt only reads the first 72 bytes of a password.
 *
 * Every comparison is constant-time (the libraries' own, or timingSafeEqual). Anything else verifies as
 * false, with one warning per distinct bad hash — never an exception and never the hash in a log line.
 * Passwords are compared as their UTF-8 bytes, without Unicode normalisation.
 */
export const HASH_ALGORITHMS = ['argon2id', 'scrypt', 'bcrypt'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** OWASP's first argon2id configuration with more lanes: 64 MiB, 3 passes, 4 lanes (~0.15 s here). */
export const ARGON2ID_PARAMS = { memoryCost: 65_536, timeCost: 3, parallelism: 4 } as const;
/**
 * scrypt N=2^16, r=8, p=2: OWASP's equivalent of N=2^17,p=1 at half the memory (64 MiB per
 * verification), about 0.3 s on this project's 2-core reference machine.
 */
export const SCRYPT_PARAMS = { ln: 16, r: 8, p: 2, saltBytes: 16, keyBytes: 32 } as const;
/** bcrypt cost 12 (~0.25 s with bcryptjs). */
export const BCRYPT_COST = 12;

/** Upper bounds on what a stored argon2 hash may ask for (1 GiB, 64 passes, 64 lanes). */
const ARGON2_LIMITS = { maxMemoryKiB: 1024 * 1024, maxTime: 64, maxLanes: 64 } as const;
/** Upper bounds on what a stored scrypt hash may ask for, so one bad line cannot eat the machine. */
const SCRYPT_LIMITS = { maxLn: 22, maxR: 32, maxP: 16, maxMem: 1024 * 1024 * 1024 } as const;

const ARGON2_RE = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+(?:,[a-z]+=[A-Za-z0-9+/]+)*\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;
const SCRYPT_RE = /^\$scrypt\$([a-z]+=\d+(?:,[a-z]+=\d+)*)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const BCRYPT_RE = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

export type HashKind = 'argon2' | 'scrypt' | 'bcrypt';

/** The kind of a well-formed hash, or undefined for anything this module cannot verify. */
export function hashKind(hash: string): HashKind | undefined {
  if (ARGON2_RE.test(hash)) {
    const m = /\$m=(\d+),t=(\d+),p=(\d+)/.exec(hash)!;
    const [mem, time, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ok = mem >= 8 && mem <= ARGON2_LIMITS.maxMemoryKiB && time >= 1 && time <= ARGON2_LIMITS.maxTime && lanes >= 1 && lanes <= ARGON2_LIMITS.maxLanes;
    return ok ? 'argon2' : undefined;
  }
  if (parseScrypt(hash)) return 'scrypt';
  const bc = BCRYPT_RE.exec(hash);
  if (bc) {
    const cost = Number(bc[1]);
    return cost >= 4 && cost <= 31 ? 'bcrypt' : undefined;
  }
  return undefined;
}

export function isSupportedHash(hash: string): boolean {
  return hashKind(hash) !== undefined;
}

export type HashWarning = (message: string) => void;

const warned = new Set<string>();
const defaultWarn: HashWarning = (message) => process.emitWarning(message, { code: 'PORTCULLIS_BAD_PASSWORD_HASH' });

/** Warns once per distinct hash; the message names the hash only by a short fingerprint. */
function warnOnce(hash: string, reason: string, warn: HashWarning): void {
  const fingerprint = sha256Hex(hash).slice(0, 12);
  if (warned.has(fingerprint)) return;
  if (warned.size > 10_000) warned.clear();
  warned.add(fingerprint);
  warn(`password hash ${fingerprint} cannot be verified (${reason}); the sign-in is refused`);
}

/** True when `password` matches `hash`. Unknown or malformed hashes answer false (and warn once). */
export async function verifyPassword(hash: string, password: string, warn: HashWarning = defaultWarn): Promise<boolean> {
  if (typeof hash !== 'string' || typeof password !== 'string') return false;
  const kind = hashKind(hash);
  if (!kind) {
    warnOnce(hash, 'unknown or malformed format', warn);
    return false;
  }
  try {
    switch (kind) {
      case 'argon2':
        return await argon2Verify(hash, password);
      case 'scrypt':
        return await verifyScrypt(hash, password);
      case 'bcrypt':
        return await bcrypt.compare(password, hash);
    }
  } catch (err) {
    warnOnce(hash, `${kind}: ${err instanceof Error ? err.message : String(err)}`, warn);
    return false;
  }
}

/** A new hash of `password` with this module's defaults (see the constants above). */
export async function hashPassword(password: string, algorithm: HashAlgorithm = 'argon2id'): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) throw new TypeError('the password must be a non-empty string');
  switch (algorithm) {
    case 'argon2id':
      // Algorithm.Argon2id is a const enum (2) in @node-rs/argon2's typings.
      return argon2Hash(password, { ...ARGON2ID_PARAMS, algorithm: 2 });
    case 'scrypt': {
      const { ln, r, p, saltBytes, keyBytes } = SCRYPT_PARAMS;
      const salt = randomBytes(saltBytes);
      const key = await scryptAsync(password, salt, keyBytes, { N: 2 ** ln, r, p });
      return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
    }
    case 'bcrypt':
      return bcrypt.hash(password, BCRYPT_COST);
    default:
      throw new TypeError(`unknown hash algorithm '${String(algorithm)}' (use ${HASH_ALGORITHMS.join(', ')})`);
  }
}

interface ScryptHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseScrypt(hash: string): ScryptHash | undefined {
  const m = SCRYPT_RE.exec(hash);
  if (!m) return undefined;
  const params = new Map<string, number>();
  for (const pair of m[1]!.split(',')) {
    const [name, value] = pair.split('=') as [string, string];
    if (params.has(name)) return undefined;
    params.set(name, Number(value));
  }
  const ln = params.get('ln');
  const r = params.get('r');
  const p = params.get('p');
  if (params.size !== 3 || ln === undefined || r === undefined || p === undefined) return undefined;
  if (ln < 1 || ln > SCRYPT_LIMITS.maxLn || r < 1 || r > SCRYPT_LIMITS.maxR || p < 1 || p > SCRYPT_LIMITS.maxP) return undefined;
  if (128 * 2 ** ln * r > SCRYPT_LIMITS.maxMem) return undefined;
  const salt = Buffer.from(m[2]!, 'base64');
  const key = Buffer.from(m[3]!, 'base64');
  if (salt.length < 4 || key.length < 16 || key.length > 64) return undefined;
  return { ln, r, p, salt, key };
}

async function verifyScrypt(hash: string, password: string): Promise<boolean> {
  const parsed = parseScrypt(hash);
  if (!parsed) return false;
  const derived = await scryptAsync(password, parsed.salt, parsed.key.length, { N: 2 ** parsed.ln, r: parsed.r, p: parsed.p });
  return timingSafeEqual(derived, parsed.key);
}

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions & { N: number; r: number }): Promise<Buffer> {
  // Node refuses when 128*N*r exceeds maxmem (default 32 MiB); allow what the parameters need.
  const maxmem = 128 * options.N * options.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyLength, { ...options, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** Passwords longer than this are refused without hashing them (after the same dummy work). */
export const MAX_PASSWORD_LENGTH = 4096;

export interface PasswordVerifierOptions {
  /** Verifications running at once (each argon2id one holds 64 MiB). */
  concurrency: number;
  /** Verifications allowed to wait; beyond that `verify` rejects with PORTCULLIS_ERR_OVERLOADED. */
  queue: number;
  /** Where warnings about unusable hashes go (default: process warnings). */
  warn?: HashWarning;
}

/**
 * Runs password verifications through a bounded queue, so a flood of sign-ins waits its turn (or is
 * refused with OVERLOADED) instead of stalling proxied traffic. For an unknown or disabled user the
 * caller passes `undefined`: the same work is done against a dummy argon2id hash of the default cost,
 * and the answer is false — the timing does not tell the two cases apart.
 */
export class PasswordVerifier {
  private readonly queue: BoundedQueue;
  private readonly warn: HashWarning;
  private dummyHash: Promise<string> | undefined;
  /** Counters for tests and metrics: every verification, and those against the dummy hash. */
  readonly stats = { verifications: 0, dummy: 0, rejectedOverloaded: 0 };

  constructor(options: PasswordVerifierOptions) {
    this.queue = new BoundedQueue(options.concurrency, options.queue);
    this.warn = options.warn ?? defaultWarn;
  }

  /** Verifications waiting for a slot. */
  get pending(): number {
    return this.queue.pending;
  }

  /** The dummy hash is made once, on first need (or ahead of time with `prepare`). */
  prepare(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(32).toString('base64'), 'argon2id');
    return this.dummyHash;
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const usable = typeof hash === 'string' && typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH;
    let started = false;
    try {
      return await this.queue.run(async () => {
        started = true;
        this.stats.verifications++;
        if (!usable) {
          this.stats.dummy++;
          const dummy = await this.prepare();
          await verifyPassword(dummy, typeof password === 'string' ? password.slice(0, MAX_PASSWORD_LENGTH) : '', this.warn);
          return false;
        }
        return verifyPassword(hash, password, this.warn);
      });
    } catch (err) {
      if (!started && err instanceof RangeError) {
        this.stats.rejectedOverloaded++;
        throw new PortcullisError('PORTCULLIS_ERR_OVERLOADED', undefined, { cause: err });
      }
      throw err;
    }
  }
}
