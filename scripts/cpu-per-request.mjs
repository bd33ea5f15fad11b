// Usage: node scripts/cpu-per-request.mjs <checkout with dist/ built> <gateway|undici|portcullis-proxy> [cookie|bearer] [perf.data]
//
// One target alone in front of a 1 KiB origin: a 2 s warm-up, then wrk (1 thread, 64 connections, 10 s).
// Prints requests/s, p50/p99 and the target's CPU per request from /proc, split into the JavaScript
// thread and the rest (V8's GC helpers, libuv's pool): a steadier figure than requests/s on a shared
// machine. `gateway` runs `portcullis serve` with the bench's configuration (trusted_proxies, the four
// identity fields, bypass and one_factor rules) and signs in first; the others are bench/servers.ts roles.
// With a fourth argument, `perf record -g` samples the target into that file during the measured run
// (start the target with --perf-basic-prof in NODE_OPTIONS to see JavaScript names). docs/performance.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, startSignedInGateway } from './signed-in-gateway.mjs';

const [repo, role, mode = 'cookie', perfOut] = process.argv.slice(2);
if (!repo || !['gateway', 'undici', 'portcullis-proxy'].includes(role ?? '')) {
  console.error('usage: node scripts/cpu-per-request.mjs <checkout> <gateway|undici|portcullis-proxy> [cookie|bearer] [perf.data]');
  process.exit(2);
}
const origin = await startOrigin();
let target;
let base;
let header = 'X-Bench: 1';
if (role === 'gateway') {
  const gw = await startSignedInGateway(repo, mkdtempSync(join(tmpdir(), 'portcullis-cpu-')), origin.url);
  target = gw.child;
  base = gw.url;
  header = gw.header(mode);
} else {
  target = spawn(process.execPath, [join(repo, 'dist/bench/run.js'), '--role', role, '--target', origin.url], { stdio: ['pipe', 'pipe', 'inherit'] });
  base = await new Promise((resolve) => target.stdout.on('data', (d) => { const m = /LISTENING (\d+)/.exec(String(d)); if (m) resolve(`http://127.0.0.1:${m[1]}`); }));
}
const url = `${base}/bench/session`;
execFileSync('wrk', ['-t1', '-c64', '-d2s', '-H', header, url]);
/** CPU microseconds of each thread of the target so far. */
const threads = () => Object.fromEntries(readdirSync(`/proc/${target.pid}/task`).map((tid) => {
  const stat = readFileSync(`/proc/${target.pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [tid, ((Number(f[11]) + Number(f[12])) * 1e6) / 100];
}));
const perf = perfOut ? spawn('perf', ['record', '-F', '1999', '-g', '-p', String(target.pid), '-o', perfOut], { stdio: 'ignore' }) : undefined;
if (perf) await new Promise((r) => setTimeout(r, 300));
const before = threads();
const out = execFileSync('wrk', ['-t1', '--latency', '-c64', '-d10s', '-H', header, url], { encoding: 'utf8' });
const after = threads();
if (perf) {
  perf.kill('SIGINT');
  await new Promise((r) => perf.on('exit', r));
}
const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
const main = String(target.pid);
let rest = 0;
for (const tid of Object.keys(after)) if (tid !== main) rest += after[tid] - (before[tid] ?? 0);
const js = after[main] - before[main];
const pick = (re) => re.exec(out)?.[1] ?? '?';
console.log(`${role}${role === 'gateway' ? ` (${mode})` : ''}: ${pick(/Requests\/sec:\s+([\d.]+)/)} req/s, p50 ${pick(/\s50%\s+(\S+)/)}, p99 ${pick(/\s99%\s+(\S+)/)}, ${requests} requests`);
console.log(`CPU µs/request: ${((js + rest) / requests).toFixed(1)} (JavaScript thread ${(js / requests).toFixed(1)}, other threads ${(rest / requests).toFixed(1)})`);
target.kill('SIGTERM');
origin.child.kill();
