/**
 * `npm run bench`: races the gateway against nginx `proxy_pass`, the unauthenticated Node peers (bare
 * undici, http-proxy, fastify + @fastify/http-proxy, express + http-proxy-middleware), the proxy engine
 * alone (src/proxy) and the origin itself, with one load generator (wrk where installed, else
 * autocannon). Prints the rounds, a side-by-side table (× nginx, × the fastest Node peer, p99, CPU µs
 * per request) and the ratios; exits by itself and stops every child process it started.
 *
 * Also: the same targets one process per core (gateway `server.workers: auto` on the redis store, nginx
 * one worker per core), nginx with the configuration `portcullis nginx-config` generates in front of
 * the gateway (one nginx worker and one gateway process, and one per core each), latency at a fixed
 * offered rate, sign-ins per second, a wrong-password flood beside authenticated traffic, the gateway's
 * RSS with idle WebSockets held through it, and one large response streamed through each target.
 *
 * Environment: BENCH_DURATION (seconds per run, default 5), BENCH_CONNECTIONS (default 64),
 * BENCH_STREAM_MIB (default 256), BENCH_ROUNDS (default 3: targets run round-robin, best round kept),
 * BENCH_RATE (fixed offered rate, default 2000), BENCH_WS (idle WebSockets, default 10000; 0 = skip).
 * BENCH_QUICK=1: a smoke run of every part (2 s per run, 1 round, 16 MiB, 200 WebSockets, 500/s) —
 * its figures mean nothing. NODE_BIN: the Node binary that runs the servers (default this one).
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { request } from 'undici';
import { runRole } from './servers.js';
import { cpuMsAll } from './cpu.js';
import { loadOnce, type LoadResult } from './load.js';
import { fixedRate, openIdleSockets, rssMiB, signInLoad, waitIdle, type FixedRateResult } from './extra.js';
import { BENCH_PASSWORD, BENCH_USER, cleanup, note, serverNodeVersion, startGateway, startGeneratedNginx, startNginx, startRedisServer, startRole, type Target } from './processes.js';
import { fastestPeer, fmtMs, NODE_PEERS, peersTable, ratio, roundsTable, type Row } from './report.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 2 : 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const STREAM_MIB = Number(process.env.BENCH_STREAM_MIB ?? (QUICK ? 16 : 256));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3)));
const RATE = Number(process.env.BENCH_RATE ?? (QUICK ? 500 : 2000));
const WS_COUNT = Number(process.env.BENCH_WS ?? (QUICK ? 200 : 10_000));
const CORES = os.availableParallelism();

/** One measured request shape; `prepare` may log in and return the headers to send (or a reason to skip). */
interface Scenario {
  name: string;
  path: string;
  /** Which targets run it (default all). */
  only?: readonly string[];
  prepare?: (target: Target) => Promise<{ headers: Record<string, string> } | { skip: string }>;
}

const GENERATED = 'nginx + generated config';
const GENERATED_CORES = 'nginx ×cores + generated config';
const SINGLE = ['direct', 'nginx', ...NODE_PEERS, 'src/proxy engine', 'gateway'];
const PER_CORE = ['nginx ×cores', 'gateway ×cores'];
const cookies = new Map<string, Promise<string | { skip: string }>>();

/** Signs in once per gateway through the JSON API; the token is the session cookie's value and the bearer token. */
function sessionToken(gatewayUrl: string): Promise<string | { skip: string }> {
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
      return body.token;
    })();
    cookies.set(gatewayUrl, p);
  }
  return p;
}

let gatewayUrl = '';

const withToken = (header: (token: string) => Record<string, string>) => async (target: Target): Promise<{ headers: Record<string, string> } | { skip: string }> => {
  const token = await sessionToken(target.loginAt ?? gatewayUrl);
  return typeof token === 'string' ? { headers: header(token) } : token;
};

// The same request everywhere (with the credential); only the gateways (and nginx in front of one) check it.
const SCENARIOS: readonly Scenario[] = [
  { name: '1 KiB GET', path: '/bench/bypass', only: [...SINGLE, ...PER_CORE] },
  {
    name: '1 KiB GET, signed-in session cookie',
    path: '/bench/session',
    only: ['direct', 'nginx', ...NODE_PEERS, 'gateway', ...PER_CORE, GENERATED, GENERATED_CORES],
    prepare: withToken((token) => ({ cookie: `portcullis_session=${token}` })),
  },
  {
    name: '1 KiB GET, signed-in bearer token',
    path: '/bench/session',
    only: ['nginx', ...NODE_PEERS, 'gateway', GENERATED],
    prepare: withToken((token) => ({ authorization: `Bearer ${token}` })),
  },
];

async function streamOnce(target: Target): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await request(`${target.url}/stream/${STREAM_MIB}`);
  let bytes = 0;
  for await (const c of res.body) bytes += (c as Buffer).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== STREAM_MIB * 1024 * 1024) throw new Error(`short stream: ${bytes}`);
  return bytes / 1e6 / seconds;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  const serverNode = serverNodeVersion();
  note(`servers on node ${serverNode}${process.env.NODE_BIN ? ` (NODE_BIN=${process.env.NODE_BIN})` : ''}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, ${DURATION}s per run${QUICK ? ' (BENCH_QUICK: a smoke run, not a measurement)' : ''}`);
  const origin = await startRole(SELF, 'upstream');
  const targets: Target[] = [{ ...origin, name: 'direct' }];
  const skipped: string[] = [];
  const add = <T extends Target>(t: T | string, label: string): T | undefined => {
    if (typeof t === 'string') {
      skipped.push(`${label}: ${t}`);
      return undefined;
    }
    targets.push(t);
    return t;
  };
  add(await startNginx('nginx', origin.url), 'nginx');
  for (const peer of NODE_PEERS) targets.push(await startRole(SELF, peer, origin.url));
  const engine = await startRole(SELF, 'portcullis-proxy', origin.url);
  targets.push({ ...engine, name: 'src/proxy engine' });
  const gateway = add(await startGateway(ROOT, 'gateway', origin.url), 'gateway');
  gatewayUrl = gateway?.url ?? '';
  add(await startNginx('nginx ×cores', origin.url, CORES), 'nginx ×cores');
  const redis = await startRedisServer();
  let gatewayCores: Awaited<ReturnType<typeof startGateway>> | undefined;
  if (typeof redis === 'string') gatewayCores = add(await startGateway(ROOT, 'gateway ×cores', origin.url, { workers: 'auto', redis }), 'gateway ×cores');
  else skipped.push(`gateway ×cores: ${redis.skip}`);
  // nginx with the generated configuration in front of a gateway: one nginx worker and the single
  // process, then one nginx worker per core and `server.workers: auto`. CPU counts nginx and the gateway.
  if (gateway) add(await startGeneratedNginx(GENERATED, gateway, 1), GENERATED);
  if (gatewayCores && typeof gatewayCores !== 'string') {
    const t = add(await startGeneratedNginx(GENERATED_CORES, gatewayCores, CORES), GENERATED_CORES);
    if (t) t.loginAt = gatewayCores.url;
  }

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
      const cpuBefore = cpuMsAll(job.target.pids);
      const r = await loadOnce(`${job.target.url}${job.scenario.path}`, job.headers, CONNECTIONS, DURATION);
      const cpuAfter = cpuMsAll(job.target.pids);
      tool = r.tool;
      job.all.push(r.rps);
      if (cpuBefore !== undefined && cpuAfter !== undefined && r.requests > 0) {
        const us = ((cpuAfter - cpuBefore) * 1000) / r.requests;
        job.cpuUs = job.cpuUs === undefined ? us : Math.min(job.cpuUs, us);
      }
      if (!job.best || r.rps > job.best.rps) job.best = r;
    }
  }
  const rows: Row[] = jobs.flatMap((j) => (j.best ? [{ scenario: j.scenario.name, target: j.target.name, r: j.best, cpuUs: j.cpuUs, all: j.all }] : []));
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
    const before = rssMiB(gateway.pids[0]);
    const held = await openIdleSockets(`${gateway.url.replace('http:', 'ws:')}/ws`, gwJob0.headers, WS_COUNT);
    await new Promise((r) => setTimeout(r, 2000));
    const during = rssMiB(gateway.pids[0]);
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
    const one = await startGateway(ROOT, 'gateway, hashing.concurrency 1', origin.url, { hashing: 1 });
    const subjects: Target[] = [gateway, ...(typeof one === 'string' ? [] : [one])];
    if (typeof one === 'string') skipped.push(`hashing.concurrency 1: ${one}`);
    for (const gw of subjects) {
      const token = await sessionToken(gw.url);
      if (typeof token !== 'string') continue;
      const cookie = `portcullis_session=${token}`;
      for (let round = 0; round < Math.max(1, ROUNDS - 1); round++) {
        note(`flood round ${round + 1} on ${gw.name}: quiet`);
        flood.push({ gateway: gw.name, label: 'quiet', r: await loadOnce(`${gw.url}${gwJob.scenario.path}`, { cookie }, CONNECTIONS, DURATION) });
        note(`flood round ${round + 1} on ${gw.name}: under a wrong-password flood`);
        const attack = signInLoad(`${gw.url}/_gateway/api/v1/login`, { username: BENCH_USER, password: 'wrong-password-000000' }, 64, DURATION + 1);
        flood.push({ gateway: gw.name, label: 'flood', r: await loadOnce(`${gw.url}${gwJob.scenario.path}`, { cookie }, CONNECTIONS, DURATION) });
        await attack;
        // Hashes already queued (users.hashing.queue) still run after the attackers hang up.
        const ms = await waitIdle(gw.pids[0]);
        note(`${gw.name} busy for ${(ms / 1000).toFixed(0)} s after the flood ended`);
        drains.push({ gateway: gw.name, ms });
      }
    }
  }

  const streams: Array<{ target: string; mbps: number }> = [];
  for (const target of targets) {
    if (target.name === GENERATED_CORES) continue;
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
  lines.push(`Load: ${tool}, ${CONNECTIONS} connections, ${DURATION}s per run, best of ${ROUNDS} rounds, 1 KiB responses; servers on node ${serverNode}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1)}${QUICK ? ' — BENCH_QUICK smoke run: figures mean nothing' : ''}`);
  lines.push('');
  lines.push(...roundsTable(rows));
  lines.push('');
  lines.push('Side by side (same run): each target × plain nginx and × the fastest unauthenticated Node peer of its scenario');
  lines.push('');
  lines.push(...peersTable(rows, SCENARIOS.map((x) => x.name)));
  lines.push('');
  const rps = (i: number, t: string): number | undefined => row(i, t)?.r.rps;
  const p99 = (i: number, t: string): number | undefined => row(i, t)?.r.p99;
  lines.push('Issue 15 (same run):');
  for (const i of [1, 2]) {
    const peer = fastestPeer(rows, SCENARIOS[i]!.name);
    lines.push(`- Portcullis signed-in (${i === 1 ? 'cookie' : 'bearer token'}) / fastest Node peer (${peer?.target ?? '–'}): ${ratio(rps(i, 'gateway'), peer?.r.rps)} throughput, p99 ${ratio(p99(i, 'gateway'), peer?.r.p99)}×`);
  }
  lines.push(`- ${GENERATED} / plain nginx (signed-in cookie, one nginx worker, one gateway process): ${ratio(rps(1, GENERATED), rps(1, 'nginx'))}; bearer: ${ratio(rps(2, GENERATED), rps(2, 'nginx'))}`);
  lines.push(`- ${GENERATED_CORES} / nginx ×cores (signed-in cookie, ${CORES} nginx workers, server.workers: auto): ${ratio(rps(1, GENERATED_CORES), rps(1, 'nginx ×cores'))}`);
  lines.push('');
  lines.push('Issue 5 ratios (same run):');
  lines.push(`- 1. signed-in gateway / bare undici (same cookie request): ${ratio(rps(1, 'gateway'), rps(1, 'undici'))} throughput, p99 ${ratio(p99(1, 'gateway'), p99(1, 'undici'))}×`);
  lines.push(`- 2. gateway ×${CORES} / nginx ×${CORES} (bypass): ${ratio(rps(0, 'gateway ×cores'), rps(0, 'nginx ×cores'))} throughput, p99 ${ratio(p99(0, 'gateway ×cores'), p99(0, 'nginx ×cores'))}×; signed-in: ${ratio(rps(1, 'gateway ×cores'), rps(1, 'nginx ×cores'))}, p99 ${ratio(p99(1, 'gateway ×cores'), p99(1, 'nginx ×cores'))}×`);
  lines.push(`  1 process against 1: ${ratio(rps(0, 'gateway'), rps(0, 'nginx'))} (bypass), ${ratio(rps(1, 'gateway'), rps(1, 'nginx'))} (signed-in)`);
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
  for (const st of streams) lines.push(`| ${pad(st.target, 24)} | ${Math.round(st.mbps)} |`);
  const mb = (t: string): number | undefined => streams.find((x) => x.target === t)?.mbps;
  lines.push(`\n- 4. gateway / nginx MB/s: ${ratio(mb('gateway'), mb('nginx'))}`);
  if (wsLine) lines.push(`- 4. ${wsLine}`);
  if (skipped.length) {
    lines.push('');
    for (const sk of skipped) lines.push(`- skipped: ${sk}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
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
