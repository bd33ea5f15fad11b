/**
 * CPU time of a process and its children from /proc (Linux): a per-request cost that stays
 * meaningful when the machine is shared, unlike requests/s.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond = 0;

function hz(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** User + system CPU milliseconds of `pid` and its direct children; undefined off Linux. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  const own = stat(pid);
  if (!own) return undefined;
  let ticks = own.ticks;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s && s.ppid === pid) ticks += s.ticks;
  }
  return (ticks * 1000) / hz();
}

/** The CPU milliseconds of several processes (each with its direct children); undefined when any is unreadable. */
export function cpuMsAll(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return pids.length ? total : undefined;
}
