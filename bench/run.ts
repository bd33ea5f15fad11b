/**
 * `npm run bench`: races the gateway against nginx `proxy_pass`, a bare undici proxy, a bare
 * http-proxy, the proxy engine alone (src/proxy) and the origin itself, with one load generator
 * (wrk where installed, else autocannon). Prints a table and the ratios; exits by itself and stops
 * every child process it started.
 *
 * Environment: BENCH_DURATION (seconds per run, default 5), BENCH_CONNECTIONS (default 64),
 * BENCH_STREAM_MIB (default 256), BENCH_ROUNDS (default 3: targets run round-robin, best round kept).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runRole } from './servers.js';
import { cpuMs } from './cpu.js';
import { loadOnce, type LoadResult } from './load.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const STREAM_MIB = Number(process.env.BENCH_STREAM_MIB ?? 256);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const NGINX = '/usr/sbin/nginx';

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

interface Target {
  name: string;
  url: string;
  /** The serving process (CPU per request is measured on it and its children). */
  pid?: number;
}

/** One measured request shape; `prepare` may log in and return the headers to send (or a reason to skip). */
interface Scenario {
  name: string;
  path: string;
  /** Which targets run it (default all). */
  only?: readonly string[];
  prepare?: (target: Target) => Promise<{ headers: Record<string, string> } | { skip: string }>;
}

const BENCH_USER = 'bench';
const BENCH_PASSWORD = 'bench-password-0123456789';

const SCENARIOS: readonly Scenario[] = [
  { name: '1 KiB GET', path: '/bench/bypass' },
  {
    name: '1 KiB GET, signed-in session',
    path: '/bench/session',
    only: ['gateway'],
    prepare: async (target): Promise<{ headers: Record<string, string> } | { skip: string }> => {
      const res = await request(`${target.url}/_gateway/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }),
      }).catch((e: Error) => e);
      if (res instanceof Error) return { skip: `login failed: ${res.message}` };
      const body = (await res.body.json().catch(() => ({}))) as { status?: string; token?: string };
      if (res.statusCode !== 200 || body.status !== 'authenticated' || !body.token) return { skip: `login answered ${res.statusCode} ${JSON.stringify(body).slice(0, 120)}` };
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
      const headers: Record<string, string> = cookie ? { cookie } : { authorization: `Bearer ${body.token}` };
      return { headers };
    },
  },
];

function note(text: string): void {
  process.stderr.write(`# ${text}\n`);
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function track(child: ChildProcess, name: string): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', (e) => note(`${name}: ${e.message}`));
  return child;
}

/** Starts `node run.js --role ...` and waits for its port. */
function startRole(role: string, target?: string): Promise<Target> {
  const args = [SELF, '--role', role, ...(target ? ['--target', target] : [])];
  // stdin is a pipe the role watches: it exits when this process goes away, however it ends.
  const child = track(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] }), role);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ name: role, url: `http://127.0.0.1:${m[1]}`, pid: child.pid });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await request(url).then(
      async (r) => {
        await r.body.dump();
        return true;
      },
      () => false,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function startNginx(upstream: string): Promise<Target | string> {
  if (!existsSync(NGINX)) return `${NGINX} not installed`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-nginx-'));
  tempDirs.push(dir);
  const port = await freePort();
  const up = new URL(upstream);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server ${up.host}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_max_temp_file_size 0;
    }
  }
}
`,
  );
  const child = track(spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: 'ignore' }), 'nginx');
  const url = `http://127.0.0.1:${port}`;
  return (await waitForHttp(`${url}/health`, child, 5000)) ? { name: 'nginx', url, pid: child.pid } : 'nginx did not start';
}

async function startGateway(upstream: string): Promise<Target | string> {
  const bin = path.join(ROOT, 'dist', 'src', 'cli', 'bin.js');
  if (!existsSync(bin)) return `${bin} not built`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-gw-'));
  tempDirs.push(dir);
  const port = await freePort();
  let hash = '';
  try {
    const argon2 = await import('@node-rs/argon2');
    hash = await argon2.hash(BENCH_PASSWORD);
  } catch (e) {
    note(`cannot hash the bench password: ${(e as Error).message}`);
  }
  writeFileSync(
    path.join(dir, 'users.yaml'),
    `users:\n  ${BENCH_USER}:\n    display_name: Bench\n    email: bench@example.com\n    groups: [bench]\n    password: "${hash}"\n    second_factor: {enabled: false}\n`,
  );
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `server:
  listen: 127.0.0.1:${port}
admin:
  listen: ""
session:
  store: memory
  secret: ${'b'.repeat(48)}
users:
  file: ${dir}/users.yaml
upstreams:
  - name: bench
    url: ${upstream}
access:
  default_policy: two_factor
  rules:
    - {paths: [/bench/bypass, /health, /stream], policy: bypass}
    - {paths: [/bench/session], policy: one_factor}
logging: {level: error}
`,
  );
  let stderr = '';
  const child = track(spawn(process.execPath, [bin, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir }), 'gateway');
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  if (await waitForHttp(`${url}/health`, child, 10_000)) return { name: 'gateway', url, pid: child.pid };
  child.kill('SIGKILL');
  const why = stderr.trim().split('\n').slice(-3).join(' | ') || 'no answer on its port';
  return `\`portcullis serve\` did not start (${why})`;
}

async function streamOnce(target: Target): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await request(`${target.url}/stream/${STREAM_MIB}`);
  let bytes = 0;
  for await (const c of res.body) bytes += (c as Buffer).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== STREAM_MIB * 1024 * 1024) throw new Error(`short stream: ${bytes}`);
  return bytes / 1e6 / seconds;
}

function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  note(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, ${DURATION}s per run`);
  const origin = await startRole('upstream');
  const targets: Target[] = [{ ...origin, name: 'direct' }];
  const skipped: string[] = [];
  const nginx = await startNginx(origin.url);
  if (typeof nginx === 'string') skipped.push(`nginx: ${nginx}`);
  else targets.push(nginx);
  targets.push(await startRole('undici', origin.url));
  targets.push(await startRole('http-proxy', origin.url));
  const engine = await startRole('portcullis-proxy', origin.url);
  targets.push({ ...engine, name: 'src/proxy engine' });
  const gateway = await startGateway(origin.url);
  if (typeof gateway === 'string') skipped.push(`gateway: ${gateway}`);
  else targets.push(gateway);

  // Prepare every (scenario, target) pair once, then run them round-robin ROUNDS times and keep each
  // pair's best round: on a shared machine that is the figure least disturbed by other work.
  const jobs: Array<{ scenario: Scenario; target: Target; headers: Record<string, string>; best?: LoadResult; cpuUs?: number }> = [];
  for (const scenario of SCENARIOS) {
    for (const target of targets) {
      if (scenario.only && !scenario.only.includes(target.name)) continue;
      let headers: Record<string, string> = {};
      if (scenario.prepare) {
        const prep = await scenario.prepare(target);
        if ('skip' in prep) {
          skipped.push(`${scenario.name} on ${target.name}: ${prep.skip}`);
          continue;
        }
        headers = prep.headers;
      }
      const probe = await request(`${target.url}${scenario.path}`, { headers });
      await probe.body.dump();
      if (probe.statusCode !== 200) {
        skipped.push(`${scenario.name} on ${target.name}: answered ${probe.statusCode}`);
        continue;
      }
      jobs.push({ scenario, target, headers });
    }
  }
  let tool = '';
  for (let round = 1; round <= ROUNDS; round++) {
    for (const job of jobs) {
      note(`round ${round}/${ROUNDS}: ${job.scenario.name} → ${job.target.name}`);
      const cpuBefore = cpuMs(job.target.pid);
      const r = await loadOnce(`${job.target.url}${job.scenario.path}`, job.headers, CONNECTIONS, DURATION);
      const cpuAfter = cpuMs(job.target.pid);
      tool = r.tool;
      if (cpuBefore !== undefined && cpuAfter !== undefined && r.requests > 0) {
        const us = ((cpuAfter - cpuBefore) * 1000) / r.requests;
        job.cpuUs = job.cpuUs === undefined ? us : Math.min(job.cpuUs, us);
      }
      if (!job.best || r.rps > job.best.rps) job.best = r;
    }
  }
  const rows = jobs.flatMap((j) => (j.best ? [{ scenario: j.scenario.name, target: j.target.name, r: j.best, cpuUs: j.cpuUs }] : []));

  const streams: Array<{ target: string; mbps: number }> = [];
  for (const target of targets) {
    note(`stream ${STREAM_MIB} MiB → ${target.name}`);
    try {
      let best = 0;
      for (let round = 0; round < Math.min(ROUNDS, 2); round++) best = Math.max(best, await streamOnce(target));
      streams.push({ target: target.name, mbps: best });
    } catch (e) {
      skipped.push(`stream on ${target.name}: ${(e as Error).message}`);
    }
  }

  const lines: string[] = [];
  lines.push(`Load: ${tool}, ${CONNECTIONS} connections, ${DURATION}s per run, best of ${ROUNDS} rounds, 1 KiB responses; node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1)}`);
  lines.push('');
  lines.push('| scenario | target | requests/s | p50 | p99 | CPU µs/request (server process) | errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const { scenario, target, r, cpuUs } of rows) {
    lines.push(`| ${scenario} | ${target} | ${Math.round(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${cpuUs === undefined ? '–' : cpuUs.toFixed(0)} | ${r.errors} |`);
  }
  lines.push('');
  const rps = (scenario: string, target: string): number | undefined => rows.find((x) => x.scenario === scenario && x.target === target)?.r.rps;
  const base = SCENARIOS[0]?.name ?? '';
  for (const who of ['gateway', 'src/proxy engine']) {
    const mine = rps(base, who);
    if (mine === undefined) continue;
    for (const other of ['nginx', 'direct', 'undici', 'http-proxy']) {
      const theirs = rps(base, other);
      if (theirs) lines.push(`- ${who}/${other}: ${(mine / theirs).toFixed(2)}`);
    }
  }
  lines.push('');
  lines.push(`| streaming ${STREAM_MIB} MiB (one response) | MB/s |`);
  lines.push('|---|---:|');
  for (const s of streams) lines.push(`| ${pad(s.target, 16)} | ${Math.round(s.mbps)} |`);
  if (skipped.length) {
    lines.push('');
    for (const s of skipped) lines.push(`- skipped: ${s}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Stops every child (SIGTERM, then SIGKILL after 3 s), waits for each to exit, removes temp dirs. */
async function cleanup(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

const roleAt = process.argv.indexOf('--role');
if (roleAt !== -1) {
  const targetAt = process.argv.indexOf('--target');
  // A role dies with its parent.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  runRole(process.argv[roleAt + 1] ?? '', targetAt === -1 ? undefined : process.argv[targetAt + 1]).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
} else {
  const finish = (code: number): void => {
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => finish(130));
  process.on('SIGTERM', () => finish(143));
  main().then(
    () => finish(0),
    (e: Error) => {
      console.error(e.stack ?? e.message);
      finish(1);
    },
  );
}
