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
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [repo, role, mode = 'cookie', perfOut] = process.argv.slice(2);
if (!repo || !['gateway', 'undici', 'portcullis-proxy'].includes(role ?? '')) {
  console.error('usage: node scripts/cpu-per-request.mjs <checkout> <gateway|undici|portcullis-proxy> [cookie|bearer] [perf.data]');
  process.exit(2);
}
const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const dir = mkdtempSync(join(tmpdir(), 'portcullis-cpu-'));
const originPort = await freePort();
const origin = spawn(process.execPath, ['-e', `const b=Buffer.alloc(1024,'x');require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':b.length});s.end(b)}).listen(${originPort},'127.0.0.1')`], { stdio: 'inherit' });
const originUrl = `http://127.0.0.1:${originPort}`;
let target;
let port;
let header = 'X-Bench: 1';
if (role === 'gateway') {
  const { hashPassword } = await import(join(repo, 'dist/src/users/password.js'));
  port = await freePort();
  writeFileSync(join(dir, 'users.yaml'), `users:\n  bench:\n    password: ${JSON.stringify(await hashPassword('bench-password-1', 'argon2id'))}\n    display_name: Bench\n    email: bench@example.com\n    groups: [bench]\n    second_factor: {enabled: false}\n`);
  writeFileSync(join(dir, 'gateway.yaml'), `server: {listen: "127.0.0.1:${port}", trusted_proxies: [127.0.0.1/32]}\nadmin: {listen: ""}\nlogging: {level: error}\nsession: {store: memory, secret: "${'c'.repeat(48)}"}\nusers: {file: ${join(dir, 'users.yaml')}}\naccess:\n  default_policy: two_factor\n  rules:\n    - {paths: [/bench/bypass], policy: bypass}\n    - {paths: [/bench/session], policy: one_factor}\nupstreams: [{name: app, url: "${originUrl}"}]\n`);
  target = spawn(process.execPath, [join(repo, 'dist/src/cli/bin.js'), 'serve', '--config', join(dir, 'gateway.yaml')], { stdio: 'inherit' });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) up = await fetch(`http://127.0.0.1:${port}/health`).then(() => true, () => new Promise((r) => setTimeout(() => r(false), 100)));
  const login = await fetch(`http://127.0.0.1:${port}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }) });
  const { token } = await login.json();
  if (!token) throw new Error(`sign-in failed: ${login.status}`);
  header = mode === 'bearer' ? `Authorization: Bearer ${token}` : `Cookie: portcullis_session=${token}`;
} else {
  target = spawn(process.execPath, [join(repo, 'dist/bench/run.js'), '--role', role, '--target', originUrl], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise((resolve) => target.stdout.on('data', (d) => { const m = /LISTENING (\d+)/.exec(String(d)); if (m) resolve(m[1]); }));
}
const url = `http://127.0.0.1:${port}/bench/session`;
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
origin.kill();
