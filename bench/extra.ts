/**
 * The measurements of `npm run bench` that are not a closed-loop wrk run: latency at a fixed offered
 * rate, sign-ins per second, a wrong-password flood beside authenticated traffic, idle WebSockets.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import WebSocket from 'ws';

export interface FixedRateResult {
  rate: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

/**
 * A fixed offered rate (open loop, like wrk2): request i is due at start + i/rate and its latency is
 * counted from that moment, so a stall is not hidden by the loader waiting for it (coordinated
 * omission). Keep-alive undici Pool of 64 connections; sub-millisecond resolution.
 */
export async function fixedRate(url: string, headers: Record<string, string>, rate: number, seconds: number): Promise<FixedRateResult> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 64, pipelining: 1 });
  const latencies: number[] = [];
  const inflight: Array<Promise<void>> = [];
  let errors = 0;
  let sent = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      while (sent < due) {
        const scheduled = start + (sent * 1000) / rate;
        sent++;
        inflight.push(
          pool.request({ path: `${u.pathname}${u.search}`, method: 'GET', headers }).then(
            async (r) => {
              await r.body.dump();
              if (r.statusCode !== 200) errors++;
              latencies.push(performance.now() - scheduled);
            },
            () => {
              errors++;
            },
          ),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((x, y) => x - y);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rate: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), requests: latencies.length, errors };
}

/** Waits until a process uses less than `share` of a CPU over a second (queued work finished), at most `maxMs`. */
export async function waitIdle(pid: number | undefined, share = 0.1, maxMs = 60_000): Promise<number> {
  const started = Date.now();
  if (pid === undefined) return 0;
  const ticks = (): number => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  while (Date.now() - started < maxMs) {
    const before = ticks();
    await new Promise((r) => setTimeout(r, 1000));
    if ((ticks() - before) / 100 < share) break;
  }
  return Date.now() - started;
}

/** POSTs a JSON sign-in as fast as `connections` allow; answers completed sign-ins per second and the status mix. */
export async function signInLoad(url: string, body: unknown, connections: number, seconds: number): Promise<{ rps: number; non2xx: number; total: number; p99: number }> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { rps: r.requests.average, non2xx: r.non2xx, total: r.requests.total, p99: r.latency.p99 };
}

/** Resident set size of a process in MiB (Linux /proc), undefined elsewhere. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens `count` WebSockets through `url` (ws://...), `batch` at a time, keeps them idle and returns
 * how many opened plus a closer. Stops at the first batch that fails entirely (fd limit, refusals).
 */
export async function openIdleSockets(url: string, headers: Record<string, string>, count: number, batch = 200): Promise<{ opened: number; failed: string | undefined; close(): Promise<void> }> {
  const sockets: WebSocket[] = [];
  let failed: string | undefined;
  while (sockets.length < count && failed === undefined) {
    const n = Math.min(batch, count - sockets.length);
    const results = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<WebSocket | string>((resolve) => {
            // A browser's handshake carries its page's Origin; the gateway requires it with a session cookie.
            const ws = new WebSocket(url, { headers: { origin: new URL(url.replace(/^ws/, 'http')).origin, ...headers }, perMessageDeflate: false });
            ws.once('open', () => resolve(ws));
            ws.once('error', (e: Error) => resolve(e.message));
            ws.on('message', () => undefined);
          }),
      ),
    );
    for (const r of results) {
      if (typeof r === 'string') failed ??= r;
      else sockets.push(r);
    }
  }
  return {
    opened: sockets.length,
    failed,
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.terminate();
            }),
        ),
      );
    },
  };
}
