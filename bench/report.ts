/**
 * The tables `npm run bench` prints: every (scenario, target) with its rounds, and the side-by-side
 * view of issue 15 — each target as × plain nginx and × the fastest Node peer of the same scenario,
 * with p99 and CPU µs per request.
 */
import type { LoadResult } from './load.js';

export interface Row {
  scenario: string;
  target: string;
  r: LoadResult;
  cpuUs: number | undefined;
  all: number[];
}

/** The unauthenticated Node reverse proxies Portcullis is compared with. */
export const NODE_PEERS = ['undici', 'http-proxy', 'fastify', 'express'] as const;

export function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

export function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b ? (a / b).toFixed(2) : '–';
}

export function roundsTable(rows: readonly Row[]): string[] {
  const lines = ['| scenario | target | requests/s (best) | every round | p50 | p99 | CPU µs/request (server processes) | errors |', '|---|---|---:|---|---:|---:|---:|---:|'];
  for (const { scenario, target, r, cpuUs, all } of rows) {
    lines.push(`| ${scenario} | ${target} | ${Math.round(r.rps)} | ${all.map((x) => Math.round(x)).join(' / ')} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${cpuUs === undefined ? '–' : cpuUs.toFixed(0)} | ${r.errors} |`);
  }
  return lines;
}

/** The fastest Node peer of a scenario (by requests/s), or undefined when none ran. */
export function fastestPeer(rows: readonly Row[], scenario: string): Row | undefined {
  let best: Row | undefined;
  for (const row of rows) if (row.scenario === scenario && (NODE_PEERS as readonly string[]).includes(row.target) && (!best || row.r.rps > best.r.rps)) best = row;
  return best;
}

/** Per scenario: every target × nginx and × the fastest Node peer, p99 against that peer's, CPU per request. */
export function peersTable(rows: readonly Row[], scenarios: readonly string[]): string[] {
  const lines = [
    '| scenario | target | requests/s | × nginx | × fastest Node peer | p99 | p99 × that peer | CPU µs/request |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const scenario of scenarios) {
    const nginx = rows.find((r) => r.scenario === scenario && r.target === 'nginx');
    const peer = fastestPeer(rows, scenario);
    for (const row of rows.filter((r) => r.scenario === scenario)) {
      const peerCell = peer ? `${ratio(row.r.rps, peer.r.rps)} (${peer.target})` : '–';
      lines.push(`| ${scenario} | ${row.target} | ${Math.round(row.r.rps)} | ${ratio(row.r.rps, nginx?.r.rps)} | ${peerCell} | ${fmtMs(row.r.p99)} | ${ratio(row.r.p99, peer?.r.p99)} | ${row.cpuUs === undefined ? '–' : row.cpuUs.toFixed(0)} |`);
    }
  }
  return lines;
}
