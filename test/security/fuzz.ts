/**
 * Settings shared by the property-based suites (test/security/fuzz-*.test.ts): a bounded run by default
 * (CI), a longer one with `FUZZ_RUNS=100000`, and `FUZZ_SEED=<n>` to replay the seed a failure printed.
 * See docs/security-testing.md.
 */
import type { Parameters } from 'fast-check';

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${value}'`);
  return n;
}

/** numRuns from FUZZ_RUNS, else `bounded`; the seed from FUZZ_SEED when given. */
export function fuzzParameters<T>(bounded: number): Parameters<T> {
  const runs = positiveInt(process.env.FUZZ_RUNS) ?? bounded;
  const seed = process.env.FUZZ_SEED === undefined || process.env.FUZZ_SEED === '' ? undefined : Number(process.env.FUZZ_SEED);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got '${process.env.FUZZ_SEED}'`);
  return seed === undefined ? { numRuns: runs } : { numRuns: runs, seed };
}

/** Whether a long run was asked for (suites then lift their per-test timeout). */
export const LONG_RUN = (positiveInt(process.env.FUZZ_RUNS) ?? 0) > 5000;
