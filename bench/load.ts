/** One load generator for every target: wrk where installed, else autocannon. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';

const WRK = '/usr/bin/wrk';
const run = promisify(execFile);

export interface LoadResult {
  tool: string;
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  errors: number;
  /** Requests completed in the run. */
  requests: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

export function parseWrk(out: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`cannot read wrk output:\n${out}`);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    tool: 'wrk',
    rps: Number(rps[1]),
    p50: toMs(p50[1] as string, p50[2] as string),
    p99: toMs(p99[1] as string, p99[2] as string),
    errors: Number(errs?.[1] ?? 0) + sockErrors,
    requests: Number(total?.[1] ?? 0),
  };
}

export async function loadOnce(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadResult> {
  if (existsSync(WRK)) {
    const threads = Math.max(1, Math.min(2, os.cpus().length));
    const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    args.push(url);
    const { stdout } = await run(WRK, args, { timeout: (seconds + 30) * 1000 });
    return parseWrk(stdout);
  }
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, duration: seconds, headers });
  return { tool: 'autocannon', rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, requests: r.requests.total };
}
