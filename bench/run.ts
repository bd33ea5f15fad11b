/**
 * `npm run bench`: races the gateway against nginx `proxy_pass`, a bare undici proxy, a bare
 * http-proxy, the proxy engine alone (src/proxy) and the origin itself, with one load generator
 * (wrk where installed, else autocannon). Prints a table and the ratios; exits by itself and stops
 * every child process it started.
 *
 * Also: the same targets one process per core (gateway `server.workers: 2` on the redis store, nginx
 * `worker_processes 2`), nginx `auth_request` against the gateway's forward-auth endpoint, latency at a
 * fixed offered rate, sign-ins per second, a wrong-password flood beside authenticated traffic, and the
 * gateway's RSS with idle WebSockets held through it.
 *
 * Environment: BENCH_DURATION (seconds per run, default 5), BENCH_CONNECTIONS (default 64),
 * BENCH_STREAM_MIB (default 256), BENCH_ROUNDS (default 3: targets run round-robin, best round kept),
 * BENCH_RATE (fixed offered rate, default 2000), BENCH_WS (idle WebSockets, default 10000; 0 = skip).
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
import { fixedRate, openIdleSockets, rssMiB, signInLoad, waitIdle, type FixedRateResult } from './extra.js';
import { hashPassword } from '../src/users/password.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const STREAM_MIB = Number(process.env.BENCH_STREAM_MIB ?? 256);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const WS_COUNT = Number(process.env.BENCH_WS ?? 10_000);
const NGINX = '/usr/sbin/nginx';
const CORES = os.availableParallelism();

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

interface Target {
  name: string;
  url: string;
  /** The serving process (CPU per request is measured on it and its children). */
  pid?: number;
  /** Where a signed-in scenario signs in (a gateway's own URL); default: the single-process gateway. */
  loginAt?: string;
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

const SINGLE = ['direct', 'nginx', 'undici', 'http-proxy', 'src/proxy engine', 'gateway'];
const PER_CORE = ['nginx ×cores', 'gateway ×cores'];
const cookies = new Map<string, Promise<string | { skip: string }>>();

/** Signs in once per gateway through the JSON API; the token is the session cookie's value. */
function sessionCookie(gatewayUrl: string): Promise<string | { skip: string }> {
  let p = cookies.get(gatewayUrl);
  if (!p) {
    p = (async () => {
      const res = await request(`${gatewayUrl}/_gateway/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }),
      }).catch((e: Error) => e);
      if (res instanceof Error) return { skip: `login failed: ${res.message}` };
      const body = (await res.body.json().catch(() => ({}))) as { status?: string; token?: string };
      if (res.statusCode !== 200 || body.status !== 'authenticated' || !body.token) return { skip: `login answered ${res.statusCode} ${JSON.stringify(body).slice(0, 120)}` };
      return `portcullis_session=${body.token}`;
    })();
    cookies.set(gatewayUrl, p);
  }
  return p;
}

let gatewayUrl = '';

const SCENARIOS: readonly Scenario[] = [
  { name: '1 KiB GET', path: '/bench/bypass', only: [...SINGLE, ...PER_CORE] },
  {
    // The same request everywhere (with the cookie); only the gateways (and nginx + forward-auth) check it.
    name: '1 KiB GET, signed-in session cookie',
    path: '/bench/session',
    only: ['direct', 'nginx', 'undici', 'gateway', ...PER_CORE, 'nginx + forward-auth'],
    prepare: async (target): Promise<{ headers: Record<string, string> } | { skip: string }> => {
      const cookie = await sessionCookie(target.loginAt ?? gatewayUrl);
      return typeof cookie === 'string' ? { headers: { cookie } } : cookie;
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

/** nginx `proxy_pass` to the origin; `authz`: every request first asks the gateway (auth_request, documented cache). */
async function startNginx(name: string, upstream: string, o: { workers?: number; authz?: string } = {}): Promise<Target | string> {
  if (!existsSync(NGINX)) return `${NGINX} not installed`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-nginx-'));
  tempDirs.push(dir);
  const port = await freePort();
  const up = new URL(upstream);
  const authz = o.authz ? new URL(o.authz) : undefined;
  // Mirrors deploy/nginx-forward-auth.conf: auth subrequest, positive answers cached 2 s per cookie.
  const authBlock = authz
    ? `
  proxy_cache_path ${dir}/authcache keys_zone=portcullis_auth:10m max_size=64m inactive=10s;
  upstream portcullis { server ${authz.host}; keepalive 64; }`
    : '';
  const authLocation = authz
    ? `
    location = /_portcullis_authz {
      internal;
      proxy_pass http://portcullis/_gateway/authz;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_cache portcullis_auth;
      proxy_cache_key "$http_cookie$http_authorization$http_x_api_key$request_method$host$request_uri";
      proxy_cache_valid 200 2s;
      proxy_ignore_headers Cache-Control Expires Set-Cookie;
    }`
    : '';
  const authUse = authz
    ? `
      auth_request /_portcullis_authz;
      auth_request_set $auth_user $upstream_http_remote_user;
      proxy_set_header Remote-User $auth_user;`
    : '';
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${o.workers ?? 1};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server ${up.host}; keepalive 128; }${authBlock}
  server {
    listen 127.0.0.1:${port};${authLocation}
    location / {${authUse}
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
  const child = track(spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: 'ignore' }), name);
  const url = `http://127.0.0.1:${port}`;
  return (await waitForHttp(`${url}/health`, child, 5000)) ? { name, url, pid: child.pid } : `${name} did not start`;
}

/** A redis-server for the multi-process gateway (workers need a shared store). */
async function startRedisServer(): Promise<string | { skip: string }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-redis-'));
  tempDirs.push(dir);
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }), 'redis');
  const ok = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    const deadline = Date.now() + 5000;
    const poll = (): void => {
      const sock = http.get(`http://127.0.0.1:${port}/`, () => undefined);
      sock.on('error', (e: NodeJS.ErrnoException) => {
        // redis answers an HTTP request by closing: anything but ECONNREFUSED means it is up.
        if (e.code !== 'ECONNREFUSED') resolve(true);
        else if (Date.now() > deadline) resolve(false);
        else setTimeout(poll, 100);
      });
      sock.on('response', () => resolve(true));
    };
    poll();
  });
  return ok ? `redis://127.0.0.1:${port}/0` : { skip: 'redis-server did not start (not installed?)' };
}

let usersFile: string | undefined;

async function benchUsers(): Promise<string> {
  if (usersFile) return usersFile;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-users-'));
  tempDirs.push(dir);
  let hash = '';
  try {
    hash = await hashPassword(BENCH_PASSWORD, 'argon2id'); // the product's default cost
  } catch (e) {
    note(`cannot hash the bench password: ${(e as Error).message}`);
  }
  usersFile = path.join(dir, 'users.yaml');
  writeFileSync(usersFile, `users:\n  ${BENCH_USER}:\n    display_name: Bench\n    email: bench@example.com\n    groups: [bench]\n    password: "${hash}"\n    second_factor: {enabled: false}\n`);
  return usersFile;
}

/** `portcullis serve` in front of the origin: 1 process on the memory store, or `workers` on redis. */
async function startGateway(name: string, upstream: string, o: { workers?: number; redis?: string; hashing?: number } = {}): Promise<Target | string> {
  const bin = path.join(ROOT, 'dist', 'src', 'cli', 'bin.js');
  if (!existsSync(bin)) return `${bin} not built`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-gw-'));
  tempDirs.push(dir);
  const port = await freePort();
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `server:
  listen: 127.0.0.1:${port}
  workers: ${o.workers ?? 1}
  trusted_proxies: [127.0.0.1/32]
admin:
  listen: ""
session:
  store: ${o.redis ? 'redis' : 'memory'}
  secret: ${'b'.repeat(48)}${o.redis ? `\n  redis: {url: "${o.redis}"}` : ''}
users:
  file: ${await benchUsers()}${o.hashing ? `\n  hashing: {concurrency: ${o.hashing}}` : ''}
regulation:
  max_failures: 1000000000
  max_failures_per_client: 1000000000
upstreams:
  - name: bench
    url: ${upstream}
access:
  default_policy: two_factor
  rules:
    - {paths: [/bench/bypass, /health, /stream], policy: bypass}
    - {paths: [/bench/session, /ws], policy: one_factor}
logging: {level: error}
`,
  );
  let stderr = '';
  // 10k idle WebSockets are 20k sockets in the gateway: raise its descriptor limit when allowed.
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const child = track(spawn('/bin/sh', ['-c', cmd, process.execPath, bin, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir }), name);
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  if (await waitForHttp(`${url}/health`, child, 20_000)) return { name, url, pid: child.pid, loginAt: url };
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

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b ? (a / b).toFixed(2) : '–';
}

async function main(): Promise<void> {
  note(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, ${DURATION}s per run`);
  const origin = await startRole('upstream');
  const targets: Target[] = [{ ...origin, name: 'direct' }];
  const skipped: string[] = [];
  const add = (t: Target | string, label: string): Target | undefined => {
    if (typeof t === 'string') {
      skipped.push(`${label}: ${t}`);
      return undefined;
    }
    targets.push(t);
    return t;
  };
  add(await startNginx('nginx', origin.url), 'nginx');
  targets.push(await startRole('undici', origin.url));
  targets.push(await startRole('http-proxy', origin.url));
  const engine = await startRole('portcullis-proxy', origin.url);
  targets.push({ ...engine, name: 'src/proxy engine' });
  const gateway = add(await startGateway('gateway', origin.url), 'gateway');
  gatewayUrl = gateway?.url ?? '';
  add(await startNginx('nginx ×cores', origin.url, { workers: CORES }), 'nginx ×cores');
  const redis = await startRedisServer();
  if (typeof redis === 'string') add(await startGateway('gateway ×cores', origin.url, { workers: CORES, redis }), 'gateway ×cores');
  else skipped.push(`gateway ×cores: ${redis.skip}`);
  if (gateway) add(await startNginx('nginx + forward-auth', origin.url, { authz: gateway.url }), 'nginx + forward-auth');

  // Prepare every (scenario, target) pair once, then run them round-robin ROUNDS times and keep each
  // pair's best round: on a shared machine that is the figure least disturbed by other work.
  const jobs: Array<{ scenario: Scenario; target: Target; headers: Record<string, string>; best?: LoadResult; cpuUs?: number; all: number[] }> = [];
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
      jobs.push({ scenario, target, headers, all: [] });
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
      job.all.push(r.rps);
      if (cpuBefore !== undefined && cpuAfter !== undefined && r.requests > 0) {
        const us = ((cpuAfter - cpuBefore) * 1000) / r.requests;
        job.cpuUs = job.cpuUs === undefined ? us : Math.min(job.cpuUs, us);
      }
      if (!job.best || r.rps > job.best.rps) job.best = r;
    }
  }
  const rows = jobs.flatMap((j) => (j.best ? [{ scenario: j.scenario.name, target: j.target.name, r: j.best, cpuUs: j.cpuUs, all: j.all }] : []));
  const row = (scenario: number, target: string) => rows.find((x) => x.scenario === SCENARIOS[scenario]?.name && x.target === target);

  // Latency at a fixed offered rate (open loop): the gateway's p99 against the origin's own.
  const fixed: Array<{ target: string; r: FixedRateResult }> = [];
  const signedIn = jobs.filter((j) => j.scenario === SCENARIOS[1]);
  for (const name of ['direct', 'nginx', 'gateway']) {
    const job = signedIn.find((j) => j.target.name === name);
    if (!job) continue;
    note(`fixed rate ${RATE}/s → ${name}`);
    let best: FixedRateResult | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const r = await fixedRate(`${job.target.url}${job.scenario.path}`, job.headers, RATE, DURATION);
      if (!best || r.p99 < best.p99) best = r;
    }
    if (best) fixed.push({ target: name, r: best });
  }

  // Idle WebSockets held through the single-process gateway to the origin's echo (before any sign-in
  // work, whose argon2 memory would blur the RSS figure).
  let wsLine: string | undefined;
  const gwJob0 = signedIn.find((j) => j.target.name === 'gateway');
  if (gateway && gwJob0 && WS_COUNT > 0) {
    note(`${WS_COUNT} idle WebSockets → gateway`);
    const before = rssMiB(gateway.pid);
    const held = await openIdleSockets(`${gateway.url.replace('http:', 'ws:')}/ws`, gwJob0.headers, WS_COUNT);
    await new Promise((r) => setTimeout(r, 2000));
    const during = rssMiB(gateway.pid);
    wsLine = `${held.opened} idle WebSockets through the gateway: gateway RSS ${before?.toFixed(0)} MiB before, ${during?.toFixed(0)} MiB holding them (${before !== undefined && during !== undefined && held.opened ? (((during - before) * 1024) / held.opened).toFixed(1) : '?'} KiB each)${held.failed ? `; stopped early: ${held.failed}` : ''}`;
    await held.close();
  }

  // Sign-ins per second (argon2id at the default cost), then a wrong-password flood beside signed-in traffic.
  let signins: Awaited<ReturnType<typeof signInLoad>> | undefined;
  const flood: Array<{ gateway: string; label: string; r: LoadResult }> = [];
  const drains: Array<{ gateway: string; ms: number }> = [];
  const gwJob = signedIn.find((j) => j.target.name === 'gateway');
  if (gateway && gwJob) {
    note('sign-ins per second');
    signins = await signInLoad(`${gateway.url}/_gateway/api/v1/login`, { username: BENCH_USER, password: BENCH_PASSWORD }, 8, DURATION);
    // The same flood against the default hashing concurrency (4) and against concurrency 1.
    const one = await startGateway('gateway, hashing.concurrency 1', origin.url, { hashing: 1 });
    const subjects: Target[] = [gateway, ...(typeof one === 'string' ? [] : [one])];
    if (typeof one === 'string') skipped.push(`hashing.concurrency 1: ${one}`);
    for (const gw of subjects) {
      const cookie = await sessionCookie(gw.url);
      if (typeof cookie !== 'string') continue;
      for (let round = 0; round < Math.max(1, ROUNDS - 1); round++) {
        note(`flood round ${round + 1} on ${gw.name}: quiet`);
        flood.push({ gateway: gw.name, label: 'quiet', r: await loadOnce(`${gw.url}${gwJob.scenario.path}`, { cookie }, CONNECTIONS, DURATION) });
        note(`flood round ${round + 1} on ${gw.name}: under a wrong-password flood`);
        const attack = signInLoad(`${gw.url}/_gateway/api/v1/login`, { username: BENCH_USER, password: 'wrong-password-000000' }, 64, DURATION + 1);
        flood.push({ gateway: gw.name, label: 'flood', r: await loadOnce(`${gw.url}${gwJob.scenario.path}`, { cookie }, CONNECTIONS, DURATION) });
        await attack;
        // Hashes already queued (users.hashing.queue) still run after the attackers hang up.
        const ms = await waitIdle(gw.pid);
        note(`${gw.name} busy for ${(ms / 1000).toFixed(0)} s after the flood ended`);
        drains.push({ gateway: gw.name, ms });
      }
    }
  }

  const streams: Array<{ target: string; mbps: number }> = [];
  for (const target of targets) {
    if (target.name === 'nginx + forward-auth') continue;
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
  lines.push('| scenario | target | requests/s (best) | every round | p50 | p99 | CPU µs/request (server processes) | errors |');
  lines.push('|---|---|---:|---|---:|---:|---:|---:|');
  for (const { scenario, target, r, cpuUs, all } of rows) {
    lines.push(`| ${scenario} | ${target} | ${Math.round(r.rps)} | ${all.map((x) => Math.round(x)).join(' / ')} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${cpuUs === undefined ? '–' : cpuUs.toFixed(0)} | ${r.errors} |`);
  }
  lines.push('');
  const rps = (i: number, t: string): number | undefined => row(i, t)?.r.rps;
  const p99 = (i: number, t: string): number | undefined => row(i, t)?.r.p99;
  lines.push('Issue 5 ratios (same run):');
  lines.push(`- 1. signed-in gateway / bare undici (same cookie request): ${ratio(rps(1, 'gateway'), rps(1, 'undici'))} throughput, p99 ${ratio(p99(1, 'gateway'), p99(1, 'undici'))}×`);
  lines.push(`- 2. gateway ×${CORES} / nginx ×${CORES} (bypass): ${ratio(rps(0, 'gateway ×cores'), rps(0, 'nginx ×cores'))} throughput, p99 ${ratio(p99(0, 'gateway ×cores'), p99(0, 'nginx ×cores'))}×; signed-in: ${ratio(rps(1, 'gateway ×cores'), rps(1, 'nginx ×cores'))}, p99 ${ratio(p99(1, 'gateway ×cores'), p99(1, 'nginx ×cores'))}×`);
  lines.push(`  1 process against 1: ${ratio(rps(0, 'gateway'), rps(0, 'nginx'))} (bypass), ${ratio(rps(1, 'gateway'), rps(1, 'nginx'))} (signed-in)`);
  lines.push(`- 6. nginx + forward-auth / plain nginx (signed-in cookie): ${ratio(rps(1, 'nginx + forward-auth'), rps(1, 'nginx'))}`);
  lines.push(`- gateway / direct (bypass): ${ratio(rps(0, 'gateway'), rps(0, 'direct'))}; src/proxy engine / undici: ${ratio(rps(0, 'src/proxy engine'), rps(0, 'undici'))}`);
  lines.push('');
  if (fixed.length) {
    lines.push(`| fixed offered rate ${RATE}/s (open loop, latency from the scheduled time, best p99 of ${ROUNDS}) | achieved/s | p50 | p99 | errors |`);
    lines.push('|---|---:|---:|---:|---:|');
    for (const f of fixed) lines.push(`| ${f.target} | ${Math.round(f.r.rate)} | ${fmtMs(f.r.p50)} | ${fmtMs(f.r.p99)} | ${f.r.errors} |`);
    const d = fixed.find((f) => f.target === 'direct');
    const g = fixed.find((f) => f.target === 'gateway');
    if (d && g) lines.push(`\n- 3. gateway p99 − direct p99 at ${RATE}/s: ${fmtMs(g.r.p99 - d.r.p99)}`);
    lines.push('');
  }
  if (signins) {
    lines.push(`- 5. sign-ins (argon2id, default cost, 8 connections): ${signins.rps.toFixed(1)}/s on ${CORES} cores = ${(signins.rps / CORES).toFixed(1)}/s per core (non-2xx ${signins.non2xx}, p99 ${fmtMs(signins.p99)})`);
    for (const name of [...new Set(flood.map((f) => f.gateway))]) {
      const mine = flood.filter((f) => f.gateway === name);
      for (const f of mine) lines.push(`  - ${name}, signed-in traffic ${f.label}: ${Math.round(f.r.rps)} req/s, p99 ${fmtMs(f.r.p99)}`);
      const quiet = Math.min(...mine.filter((f) => f.label === 'quiet').map((f) => f.r.p99));
      const loud = Math.min(...mine.filter((f) => f.label === 'flood').map((f) => f.r.p99));
      const qr = Math.max(...mine.filter((f) => f.label === 'quiet').map((f) => f.r.rps));
      const lr = Math.max(...mine.filter((f) => f.label === 'flood').map((f) => f.r.rps));
      lines.push(`  - ${name}: best p99 under flood / quiet ${(loud / quiet).toFixed(2)}, best throughput under flood / quiet ${(lr / qr).toFixed(2)}; still hashing ${drains.filter((d) => d.gateway === name).map((d) => `${(d.ms / 1000).toFixed(0)} s`).join(', ')} after the flood stopped`);
    }
    lines.push('');
  }
  lines.push(`| streaming ${STREAM_MIB} MiB (one response) | MB/s |`);
  lines.push('|---|---:|');
  for (const st of streams) lines.push(`| ${pad(st.target, 16)} | ${Math.round(st.mbps)} |`);
  const mb = (t: string): number | undefined => streams.find((x) => x.target === t)?.mbps;
  lines.push(`\n- 4. gateway / nginx MB/s: ${ratio(mb('gateway'), mb('nginx'))}`);
  if (wsLine) lines.push(`- 4. ${wsLine}`);
  if (skipped.length) {
    lines.push('');
    for (const sk of skipped) lines.push(`- skipped: ${sk}`);
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
