/**
 * `node dist/bench/reliability.js [--minutes N] [--only redis|sighup|soak]`: fault and load scenarios against
 * the real gateway process (issue 12, docs/reliability.md). Each scenario prints a table; nothing is
 * asserted (the unit suite holds the behaviour, this measures it).
 *
 *  - redis: the gateway on a real redis-server; steady signed-in, bypass and sign-in traffic while Redis is
 *    hung (SIGSTOP) and then down (killed), then back: what each answers, and how long until it recovers.
 *  - sighup: a config reload every 200 ms for 20 s under steady traffic with open WebSockets: non-2xx
 *    answers and dropped WebSockets.
  *  - sentinel: a master, a replica and three sentinels (real processes); 20 sessions made, the master killed
 *    under steady traffic: the error window, and how many of the sessions still work after the failover.
 *  - upstream: origins refusing, answering late and resetting mid-body: what the client gets, and when.
 *  - flood: 300 simultaneous sign-ins beside signed-in traffic: fast refusals and proxied latency.
 *  - smtp: mail servers not listening, refusing, stalling: what a sign-in answers and whether a retry may follow.
 *  - twilio: the SMS API answering 500 or not at all: the fallback to email.
 *  - slow-redis: 0, 50, 500 and 2500 ms added to every Redis round trip.
 *  - ldap: slapd killed and started again under sign-ins of a directory user and signed-in traffic.
 *  - rolling: two instances behind a round-robin balancer, each restarted in turn (SIGTERM, drain, start).
 *  - soak: N minutes (default 2) of mixed traffic through two instances on one Redis — signed-in requests,
 *    downloads, WebSockets, sign-ins — sampled every 10 s: errors, p50/p99, RSS, file descriptors and
 *    the Redis key count.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type * as SlapdFixture from '../test/fixtures/slapd.js';
import { WebSocket } from 'ws';
import { writeFileSync } from 'node:fs';
import { BENCH_PASSWORD, BENCH_USER, cleanup, freePort, note, startGateway, startRedisServer, startRole, tempDir } from './processes.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const RUN = path.join(path.dirname(SELF), 'run.js');
const args = process.argv.slice(2);
const MINUTES = Number(args[args.indexOf('--minutes') + 1] ?? 2) || 2;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

interface Tally {
  statuses: Map<string, number>;
  latencies: number[];
}

function tally(): Tally {
  return { statuses: new Map(), latencies: [] };
}

function count(t: Tally, key: string, ms?: number): void {
  t.statuses.set(key, (t.statuses.get(key) ?? 0) + 1);
  if (ms !== undefined) t.latencies.push(ms);
}

function pct(values: number[], p: number): string {
  if (values.length === 0) return '–';
  const s = [...values].sort((a, b) => a - b);
  return `${s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1)} ms`;
}

function statuses(t: Tally): string {
  return [...t.statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ') || '–';
}

/** One GET with a 5 s bound; the answer's status, or the failure's name. */
async function hit(url: string, headers: Record<string, string>): Promise<{ key: string; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await request(url, { headers, headersTimeout: 5000, bodyTimeout: 5000 });
    await res.body.dump();
    return { key: String(res.statusCode), ms: performance.now() - t0 };
  } catch (e) {
    return { key: (e as { code?: string }).code ?? 'error', ms: performance.now() - t0 };
  }
}

/** `rate` requests per second to `url` until stop() (open loop: one every 1000/rate ms, not waiting). */
function steady(url: string, headers: Record<string, string>, rate: number, into: () => Tally): { stop(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p = hit(url, headers).then((r) => count(into(), r.key, r.ms));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

/**
 * `n` WebSockets through `base` with the bearer token, open. A WebSocket closed with 1001 ("going away":
 * a draining gateway) is opened again at once, as a real client does; `dropped()` counts the ones closed
 * otherwise (or whose reconnection failed), `movedOn()` the reconnections.
 */
async function openSockets(base: string, token: string, n: number): Promise<{ sockets: WebSocket[]; dropped: () => number; movedOn: () => number; stop: () => void }> {
  const sockets: WebSocket[] = [];
  let dropped = 0;
  let moved = 0;
  let stopping = false;
  const open = (): Promise<WebSocket> => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  };
  const watch = (ws: WebSocket, slot: number): void => {
    ws.on('error', () => undefined);
    ws.once('close', (code: number) => {
      if (stopping || sockets[slot] !== ws) return;
      if (code !== 1001) {
        dropped++;
        return;
      }
      void open().then(
        (next) => {
          moved++;
          sockets[slot] = next;
          watch(next, slot);
        },
        () => dropped++,
      );
    });
  };
  for (let i = 0; i < n; i++) {
    const ws = await open();
    sockets.push(ws);
    watch(ws, i);
  }
  return {
    sockets,
    dropped: () => dropped,
    movedOn: () => moved,
    stop: () => {
      stopping = true;
    },
  };
}

async function signIn(gateway: string): Promise<string> {
  const res = await request(`${gateway}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }) });
  const body = (await res.body.json()) as { token?: string };
  if (!body.token) throw new Error(`sign-in answered ${res.statusCode}`);
  return body.token;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidOf(url: string): number | undefined {
  // redis-server's pid by its port, from /proc (the bench starts it; no redis-cli needed).
  const port = new URL(url).port;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('redis-server') && cmd.includes(port)) return Number(p);
      if (cmd.includes('redis-server') && cmd.includes(`--port\0${port}`)) return Number(p);
    } catch {
      // gone
    }
  }
  return undefined;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

async function redisKeys(redisUrl: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    return await r.dbsize();
  } finally {
    r.disconnect();
  }
}

async function redisScenario(): Promise<void> {
  const redis = await startRedisServer();
  if (typeof redis !== 'string') return note(`redis scenario skipped: ${redis.skip}`);
  const origin = await startRole(RUN, 'upstream');
  const gw = await startGateway(ROOT, 'gateway', origin.url, { redis });
  if (typeof gw === 'string') return note(`redis scenario skipped: ${gw}`);
  const token = await signIn(gw.url);
  const phases = ['before', 'Redis hung (SIGSTOP), 10 s', 'Redis down (killed), 10 s', 'after Redis is back, 10 s'] as const;
  const byPhase = new Map<string, { signedIn: Tally; bypass: Tally; signIns: Tally }>(phases.map((p) => [p, { signedIn: tally(), bypass: tally(), signIns: tally() }]));
  let phase: (typeof phases)[number] = 'before';
  const cur = () => byPhase.get(phase)!;
  const a = steady(`${gw.url}/bench/session`, { authorization: `Bearer ${token}` }, 50, () => cur().signedIn);
  const b = steady(`${gw.url}/bench/bypass`, {}, 20, () => cur().bypass);
  const signIns = setInterval(() => {
    const t0 = performance.now();
    void request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }), headersTimeout: 5000 })
      .then(async (r) => {
        await r.body.dump();
        count(cur().signIns, String(r.statusCode), performance.now() - t0);
      })
      .catch((e: { code?: string }) => count(cur().signIns, e.code ?? 'error'));
  }, 1000);
  await sleep(5000);
  const pid = pidOf(redis);
  if (!pid) return note('redis pid not found');
  phase = 'Redis hung (SIGSTOP), 10 s';
  process.kill(pid, 'SIGSTOP');
  await sleep(10_000);
  phase = 'Redis down (killed), 10 s';
  process.kill(pid, 'SIGKILL');
  await sleep(10_000);
  // Back on the same port, empty (no persistence in this scenario): sessions are gone, so sign in again.
  const port = new URL(redis).port;
  const restarted = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  phase = 'after Redis is back, 10 s';
  const back = performance.now();
  let recovered: number | undefined;
  while (recovered === undefined && performance.now() - back < 30_000) {
    const r = await hit(`${gw.url}/_gateway/login`, {});
    const s = await request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }) }).then(
      async (x) => {
        await x.body.dump();
        return x.statusCode;
      },
      () => 0,
    );
    if (r.key === '200' && s === 200) recovered = performance.now() - back;
    else await sleep(100);
  }
  await sleep(Math.max(0, 10_000 - (performance.now() - back)));
  clearInterval(signIns);
  await Promise.all([a.stop(), b.stop()]);
  restarted.kill('SIGKILL');
  const lines = ['| phase | signed-in (bearer) answers | p99 | bypass answers | sign-ins |', '|---|---|---:|---|---|'];
  for (const p of phases) {
    const x = byPhase.get(p)!;
    lines.push(`| ${p} | ${statuses(x.signedIn)} | ${pct(x.signedIn.latencies, 99)} | ${statuses(x.bypass)} | ${statuses(x.signIns)} |`);
  }
  lines.push('', `- sign-in working again ${recovered === undefined ? 'not within 30 s' : `${(recovered / 1000).toFixed(1)} s`} after redis-server was started again (an empty Redis: the old sessions were in the killed one)`);
  console.log(`\n### Redis hung, down and back (1 gateway process, 50 signed-in req/s, 20 bypass req/s, 1 sign-in/s)\n\n${lines.join('\n')}`);
}

async function sighupScenario(): Promise<void> {
  const origin = await startRole(RUN, 'upstream');
  const gw = await startGateway(ROOT, 'gateway', origin.url);
  if (typeof gw === 'string') return note(`sighup scenario skipped: ${gw}`);
  const token = await signIn(gw.url);
  const t = tally();
  const load = steady(`${gw.url}/bench/session`, { authorization: `Bearer ${token}` }, 200, () => t);
  const { sockets, dropped, stop: stopSockets } = await openSockets(gw.url, token, 20);
  let reloads = 0;
  const pid = gw.pids.at(-1)!;
  const hup = setInterval(() => {
    try {
      // The gateway runs under /bin/sh -c exec: the pid is the node process.
      process.kill(pid, 'SIGHUP');
      reloads++;
    } catch {
      // gone
    }
  }, 200);
  await sleep(20_000);
  clearInterval(hup);
  // Every socket still answers an echo after the reloads.
  const echoing = await stillEchoing(sockets);
  await load.stop();
  stopSockets();
  for (const ws of sockets) ws.close();
  const non2xx = [...t.statuses].filter(([k]) => k !== '200').reduce((n, [, v]) => n + v, 0);
  console.log(`\n### SIGHUP every 200 ms for 20 s (1 gateway process, 200 signed-in req/s, 20 WebSockets)\n
| reloads | requests | non-2xx | answers | p50 | p99 | WebSockets dropped | still echoing |
|---:|---:|---:|---|---:|---:|---:|---:|
| ${reloads} | ${t.latencies.length} | ${non2xx} | ${statuses(t)} | ${pct(t.latencies, 50)} | ${pct(t.latencies, 99)} | ${dropped()} | ${echoing} / ${sockets.length} |`);
}

/** How many of `sockets` answer a message (the echo upstream) within 2 s. */
async function stillEchoing(sockets: readonly WebSocket[]): Promise<number> {
  let echoing = 0;
  for (const ws of sockets) {
    const ok = await new Promise<boolean>((resolve) => {
      if (ws.readyState !== WebSocket.OPEN) return resolve(false);
      ws.once('message', () => resolve(true));
      ws.send('ping');
      setTimeout(() => resolve(false), 2000);
    });
    if (ok) echoing++;
  }
  return echoing;
}

async function waitPort(port: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (up) return true;
    await sleep(100);
  }
  return false;
}

async function sentinelScenario(): Promise<void> {
  const dir = tempDir('portcullis-rel-sentinel-');
  const [mPort, rPort, s1, s2, s3] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const procs: ReturnType<typeof spawn>[] = [];
  const redis = (args: string[]) => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    procs.push(c);
    return c;
  };
  const master = redis(['--port', String(mPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  redis(['--port', String(rPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--replicaof', '127.0.0.1', String(mPort)]);
  for (const sp of [s1, s2, s3]) {
    const conf = path.join(dir, `sentinel-${sp}.conf`);
    writeFileSync(conf, `port ${sp}\nbind 127.0.0.1\nsentinel monitor portcullis 127.0.0.1 ${mPort} 2\nsentinel down-after-milliseconds portcullis 1000\nsentinel failover-timeout portcullis 10000\nsentinel parallel-syncs portcullis 1\n`);
    redis([conf, '--sentinel']);
  }
  for (const p of [mPort, rPort, s1, s2, s3]) if (!(await waitPort(p))) return note(`sentinel scenario skipped: port ${p} did not open`);
  await sleep(2000);
  const origin = await startRole(RUN, 'upstream');
  const cfgDir = tempDir('portcullis-rel-gw-');
  const gwPort = await freePort();
  const { hashPassword } = await import('../src/users/password.js');
  const users = path.join(cfgDir, 'users.yaml');
  writeFileSync(users, `users:\n  ${BENCH_USER}:\n    password: "${await hashPassword(BENCH_PASSWORD, 'argon2id')}"\n    second_factor: {enabled: false}\n`);
  const config = path.join(cfgDir, 'gateway.yaml');
  writeFileSync(config, `server: {listen: "127.0.0.1:${gwPort}"}\nadmin: {listen: ""}\nlogging: {level: error}\nsession:\n  store: redis\n  secret: "${'r'.repeat(48)}"\n  redis:\n    sentinel: {master_name: portcullis, nodes: ["127.0.0.1:${s1}", "127.0.0.1:${s2}", "127.0.0.1:${s3}"]}\nusers: {file: ${users}}\nregulation: {max_failures: 1000000, max_failures_per_client: 1000000}\nupstreams: [{name: app, url: "${origin.url}"}]\naccess: {default_policy: two_factor}\n`);
  const gw = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'bin.js'), 'serve', '--config', config], { stdio: 'ignore' });
  procs.push(gw);
  const url = `http://127.0.0.1:${gwPort}`;
  if (!(await waitPort(gwPort))) return note('sentinel scenario skipped: the gateway did not start');
  const tokens: string[] = [];
  for (let i = 0; i < 20; i++) tokens.push(await signIn(url));
  await sleep(2000); // replication is asynchronous: give the replica the sessions made just now
  const timeline: Array<{ at: number; ok: boolean; key: string }> = [];
  let t0 = performance.now();
  const load = setInterval(() => {
    const at = performance.now();
    void hit(`${url}/x`, { authorization: `Bearer ${tokens[timeline.length % tokens.length]!}` }).then((r) => timeline.push({ at: at - t0, ok: r.key === '200', key: r.key }));
  }, 20);
  await sleep(3000);
  t0 = performance.now() - 3000;
  const killedAt = performance.now() - t0;
  master.kill('SIGKILL');
  await sleep(20_000);
  clearInterval(load);
  await sleep(1000);
  const failures = timeline.filter((x) => !x.ok);
  const window = failures.length ? (Math.max(...failures.map((x) => x.at)) - killedAt) / 1000 : 0;
  let alive = 0;
  for (const tk of tokens) if ((await hit(`${url}/x`, { authorization: `Bearer ${tk}` })).key === '200') alive++;
  const after = await signIn(url).then(() => 'yes', (e: Error) => `no (${e.message})`);
  const byKey = new Map<string, number>();
  for (const f of failures) byKey.set(f.key, (byKey.get(f.key) ?? 0) + 1);
  for (const c of procs) c.kill('SIGKILL');
  console.log(`\n### Sentinel failover: master killed under 50 signed-in req/s (1 gateway process, 3 sentinels, down-after 1 s)\n
| requests | failed | failed answers | error window after the kill | sessions still valid after failover | new sign-in after failover |
|---:|---:|---|---:|---:|---|
| ${timeline.length} | ${failures.length} | ${[...byKey].map(([k, v]) => `${k}: ${v}`).join(', ') || '–'} | ${window.toFixed(1)} s | ${alive} / ${tokens.length} | ${after} |`);
}

/** A gateway process with a config of the scenario's own (memory store, the bench user without a second factor). */
async function ownGateway(body: string, usersExtra = ''): Promise<{ url: string; stop(): void } | undefined> {
  const dir = tempDir('portcullis-rel-own-');
  const port = await freePort();
  const { hashPassword } = await import('../src/users/password.js');
  const users = path.join(dir, 'users.yaml');
  const hash = await hashPassword(BENCH_PASSWORD, 'argon2id');
  writeFileSync(users, `users:\n  ${BENCH_USER}:\n    password: "${hash}"\n    second_factor: {enabled: false}\n  mailer:\n    password: "${hash}"\n    email: mailer@example.com\n  texter:\n    password: "${hash}"\n    email: texter@example.com\n    phone: "+4915112345678"\n    second_factor: {method: sms}\n`);
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(config, `server: {listen: "127.0.0.1:${port}"}\nadmin: {listen: ""}\nlogging: {level: error}\n${body.startsWith('session:') ? '' : `session: {store: memory, secret: "${'o'.repeat(48)}"}\n`}users: {file: ${users}${usersExtra}}\n${body}`);
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'bin.js'), 'serve', '--config', config], { stdio: 'ignore' });
  if (!(await waitPort(port))) {
    child.kill('SIGKILL');
    return undefined;
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

async function upstreamScenario(): Promise<void> {
  // Three misbehaving origins: nothing listening, headers after 30 s, half a body then a reset.
  const closed = await freePort();
  const slowPort = await freePort();
  const resetPort = await freePort();
  const http = await import('node:http');
  const slow = http.createServer((_req, res) => setTimeout(() => res.end('late'), 30_000).unref()).listen(slowPort, '127.0.0.1');
  const reset = http
    .createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 20) });
      res.write(Buffer.alloc(1 << 19));
      setTimeout(() => res.socket?.destroy(), 50);
    })
    .listen(resetPort, '127.0.0.1');
  const gw = await ownGateway(`access: {default_policy: bypass}\nupstreams:\n  - {name: refused, url: "http://127.0.0.1:${closed}", match: {path_prefix: /refused}}\n  - {name: slow, url: "http://127.0.0.1:${slowPort}", match: {path_prefix: /slow}, timeouts: {response_headers: 3s}}\n  - {name: reset, url: "http://127.0.0.1:${resetPort}", match: {path_prefix: /reset}}\n`);
  if (!gw) return note('upstream scenario skipped: the gateway did not start');
  const rows = ['| origin | what the client got | time |', '|---|---|---:|'];
  for (const [name, pathname, accept] of [['refusing connections', '/refused/x', 'text/html'], ['refusing connections (API client)', '/refused/x', 'application/json'], ['answering after 30 s (response_headers: 3s)', '/slow/x', 'application/json'], ['resetting mid-body (512 KiB of 1 MiB)', '/reset/x', '*/*']] as const) {
    const t0 = performance.now();
    let got: string;
    try {
      const res = await request(`${gw.url}${pathname}`, { headers: { accept }, headersTimeout: 60_000, bodyTimeout: 60_000 });
      const type = String(res.headers['content-type'] ?? '').split(';')[0];
      try {
        const text = await res.body.text();
        got = `${res.statusCode} ${type} (${text.length} bytes)`;
      } catch (e) {
        got = `${res.statusCode}, then the body was cut (${(e as { code?: string }).code ?? 'error'}): the client sees a truncated download, not a complete one`;
      }
    } catch (e) {
      got = `no answer (${(e as { code?: string }).code ?? 'error'})`;
    }
    rows.push(`| ${name} | ${got} | ${((performance.now() - t0) / 1000).toFixed(2)} s |`);
  }
  gw.stop();
  slow.close();
  slow.closeAllConnections();
  reset.close();
  console.log(`\n### Upstream faults (bypass route, one gateway process)\n\n${rows.join('\n')}`);
}

async function floodScenario(): Promise<void> {
  const origin = await startRole(RUN, 'upstream');
  const gw = await startGateway(ROOT, 'gateway', origin.url);
  if (typeof gw === 'string') return note(`flood scenario skipped: ${gw}`);
  const token = await signIn(gw.url);
  const quiet = tally();
  const q = steady(`${gw.url}/bench/session`, { authorization: `Bearer ${token}` }, 100, () => quiet);
  await sleep(5000);
  await q.stop();
  const during = tally();
  const d = steady(`${gw.url}/bench/session`, { authorization: `Bearer ${token}` }, 100, () => during);
  // 300 sign-ins at the same moment (wrong passwords for 300 names: each needs an argon2id verification).
  const flood = tally();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `flood-${i}`, password: 'wrong-password' }), headersTimeout: 60_000 }).then(
        async (r) => {
          await r.body.dump();
          count(flood, String(r.statusCode), performance.now() - t0);
        },
        (e: { code?: string }) => count(flood, e.code ?? 'error'),
      ),
    ),
  );
  await sleep(2000);
  await d.stop();
  const timed = flood.latencies.length;
  console.log(`\n### 300 simultaneous sign-ins beside signed-in traffic (1 gateway process, default users.hashing, 100 signed-in req/s)\n
| | answers | p50 | p99 | max |
|---|---|---:|---:|---:|
| the 300 sign-ins | ${statuses(flood)} | ${pct(flood.latencies, 50)} | ${pct(flood.latencies, 99)} | ${pct(flood.latencies, 100)} |
| signed-in requests, quiet (5 s before) | ${statuses(quiet)} | ${pct(quiet.latencies, 50)} | ${pct(quiet.latencies, 99)} | ${pct(quiet.latencies, 100)} |
| signed-in requests during the flood | ${statuses(during)} | ${pct(during.latencies, 50)} | ${pct(during.latencies, 99)} | ${pct(during.latencies, 100)} |

(${timed} sign-in answers timed from the moment all 300 were sent.)`);
}

async function smtpScenario(): Promise<void> {
  // Mail servers that misbehave: nothing listening, a 554 greeting, a greeting and then silence.
  const closed = await freePort();
  const refusePort = await freePort();
  const stallPort = await freePort();
  const refuse = net.createServer((c) => c.end('554 5.3.2 no service\r\n')).listen(refusePort, '127.0.0.1');
  const stall = net.createServer((c) => c.write('220 stall.example ESMTP\r\n')).listen(stallPort, '127.0.0.1');
  const rows = ['| mail server | POST /login answered | time | `sent` / `delivery_error` | POST /resend at once |', '|---|---|---:|---|---|'];
  for (const [name, port] of [['not listening', closed], ['554 on connect', refusePort], ['greets, then silence (smtp.timeout 3s)', stallPort]] as const) {
    const gw = await ownGateway(`access: {default_policy: two_factor}\nupstreams: [{name: app, url: "http://127.0.0.1:9"}]\nsecond_factor: {methods: [email]}\ndelivery:\n  email: {transport: smtp, from: "gw@example.com", smtp: {host: 127.0.0.1, port: ${port}, timeout: 3s, pool: false}}\n`);
    if (!gw) return note('smtp scenario skipped: the gateway did not start');
    // A user with an email address (the bench user has none in ownGateway's file: sign-in asks for enrolment).
    const t0 = performance.now();
    const res = await request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'mailer', password: BENCH_PASSWORD }), headersTimeout: 60_000 });
    const body = (await res.body.json()) as { flow?: string; sent?: unknown; delivery_error?: string; error?: string };
    const took = ((performance.now() - t0) / 1000).toFixed(2);
    let resend = '–';
    if (body.flow) {
      const r = await request(`${gw.url}/_gateway/api/v1/resend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: body.flow }), headersTimeout: 60_000 });
      const rb = (await r.body.json()) as { error?: string };
      resend = `${r.statusCode}${rb.error ? ` ${rb.error}` : ''}`;
    }
    rows.push(`| ${name} | ${res.statusCode}${body.error ? ` ${body.error}` : ''} | ${took} s | ${body.sent ? 'sent' : body.delivery_error ?? '–'} | ${resend} |`);
    gw.stop();
  }
  refuse.close();
  stall.close();
  console.log(`\n### SMTP refusing and stalling (one gateway process; a user whose second factor is an emailed code)\n\n${rows.join('\n')}`);
}

async function twilioScenario(): Promise<void> {
  // A Twilio-compatible API that fails: 500 to every message, or no answer at all (sms.twilio.timeout 3s).
  const failPort = await freePort();
  const hangPort = await freePort();
  const http = await import('node:http');
  const fail = http.createServer((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":20500,"message":"Internal Server Error","status":500}')).listen(failPort, '127.0.0.1');
  const hang = http.createServer(() => undefined).listen(hangPort, '127.0.0.1');
  const rows = ['| SMS API | POST /login answered | time | the code went by |', '|---|---|---:|---|'];
  for (const [name, port] of [['answering 500', failPort], ['not answering (timeout 3s)', hangPort]] as const) {
    const gw = await ownGateway(`access: {default_policy: two_factor}\nupstreams: [{name: app, url: "http://127.0.0.1:9"}]\nsecond_factor: {methods: [sms, email]}\ndelivery:\n  email: {transport: console}\n  sms: {provider: twilio, fallback_to_email: true, twilio: {account_sid: "AC${'0'.repeat(32)}", auth_token: "t", from: "+15005550006", api_base_url: "http://127.0.0.1:${port}", timeout: 3s}}\n`);
    if (!gw) return note('twilio scenario skipped: the gateway did not start');
    const t0 = performance.now();
    const res = await request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'texter', password: BENCH_PASSWORD }), headersTimeout: 60_000 });
    const body = (await res.body.json()) as { sent?: { channel: string; fell_back: boolean }; delivery_error?: string };
    rows.push(`| ${name} | ${res.statusCode} | ${((performance.now() - t0) / 1000).toFixed(2)} s | ${body.sent ? `${body.sent.channel}${body.sent.fell_back ? ' (fallback from SMS)' : ''}` : body.delivery_error ?? '–'} |`);
    gw.stop();
  }
  fail.close();
  hang.close();
  hang.closeAllConnections();
  console.log(`\n### The SMS API failing (one gateway process; a user with a phone and an email address, fallback_to_email on)\n\n${rows.join('\n')}`);
}

/** A TCP relay to `target` that holds every chunk `delayMs` in each direction (a slow network or a slow Redis). */
function slowRelay(listenPort: number, targetPort: number, delayMs: number): net.Server {
  return net
    .createServer((client) => {
      const up = net.connect(targetPort, '127.0.0.1');
      const pass = (from: net.Socket, to: net.Socket) => from.on('data', (c: Buffer) => setTimeout(() => to.writable && to.write(c), delayMs));
      pass(client, up);
      pass(up, client);
      const end = () => {
        client.destroy();
        up.destroy();
      };
      client.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    })
    .listen(listenPort, '127.0.0.1');
}

async function slowRedisScenario(): Promise<void> {
  const redis = await startRedisServer();
  if (typeof redis !== 'string') return note(`slow-redis scenario skipped: ${redis.skip}`);
  const origin = await startRole(RUN, 'upstream');
  const rows = ['| Redis round trip added | signed-in answers (50 req/s, 10 s) | p50 | p99 | sign-ins (1/s) |', '|---:|---|---:|---:|---|'];
  for (const delay of [0, 50, 500, 2500]) {
    const port = await freePort();
    const relay = slowRelay(port, Number(new URL(redis).port), delay / 2);
    const gw = await ownGateway(`session: {store: redis, secret: "${'o'.repeat(48)}", redis: {url: "redis://127.0.0.1:${port}/0", key_prefix: "slow${delay}:"}}\naccess: {default_policy: two_factor}\nupstreams: [{name: app, url: "${origin.url}"}]\n`);
    if (!gw) return note('slow-redis scenario skipped: the gateway did not start');
    let token: string | undefined;
    for (let i = 0; i < 5 && !token; i++) token = await signIn(gw.url).catch(() => undefined);
    const t = tally();
    const logins = tally();
    const load = token ? steady(`${gw.url}/x`, { authorization: `Bearer ${token}` }, 50, () => t) : undefined;
    const si = setInterval(() => {
      const t0 = performance.now();
      void request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }), headersTimeout: 10_000 }).then(
        async (r) => {
          await r.body.dump();
          count(logins, String(r.statusCode), performance.now() - t0);
        },
        (e: { code?: string }) => count(logins, e.code ?? 'error'),
      );
    }, 1000);
    await sleep(10_000);
    clearInterval(si);
    await load?.stop();
    rows.push(`| ${delay} ms | ${token ? statuses(t) : 'no session could be made'} | ${pct(t.latencies, 50)} | ${pct(t.latencies, 99)} | ${statuses(logins)} |`);
    gw.stop();
    relay.close();
  }
  console.log(`\n### A slow Redis (a relay holding each chunk half the added time each way; command_timeout 2 s; one gateway process)\n\n${rows.join('\n')}`);
}

async function ldapScenario(): Promise<void> {
  const fixtures = path.join(ROOT, 'dist', 'test', 'fixtures', 'slapd.js');
  const { slapdAvailable, startSlapd, BASE_DN, SERVICE_DN, SERVICE_PASSWORD } = (await import(fixtures)) as typeof SlapdFixture;
  if (!slapdAvailable()) return note('ldap scenario skipped: slapd is not installed');
  const slapd = await startSlapd();
  const origin = await startRole(RUN, 'upstream');
  const gw = await ownGateway(`access: {default_policy: two_factor}\nupstreams: [{name: app, url: "${origin.url}"}]\n`, `, ldap: {url: "${slapd.url}", bind_dn: "${SERVICE_DN}", bind_password: "${SERVICE_PASSWORD}", base_dn: "${BASE_DN}"}`);
  if (!gw) return note('ldap scenario skipped: the gateway did not start');
  const token = await signIn(gw.url);
  const phases = ['before', 'LDAP down (slapd killed), 10 s', 'after slapd is back, 10 s'] as const;
  const by = new Map<string, { signedIn: Tally; ldapSignIns: Tally }>(phases.map((p) => [p, { signedIn: tally(), ldapSignIns: tally() }]));
  let phase: (typeof phases)[number] = 'before';
  const load = steady(`${gw.url}/x`, { authorization: `Bearer ${token}` }, 50, () => by.get(phase)!.signedIn);
  const si = setInterval(() => {
    const t0 = performance.now();
    void request(`${gw.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'alice-ldap-pw' }), headersTimeout: 30_000 }).then(
      async (r) => {
        await r.body.dump();
        count(by.get(phase)!.ldapSignIns, String(r.statusCode), performance.now() - t0);
      },
      (e: { code?: string }) => count(by.get(phase)!.ldapSignIns, e.code ?? 'error'),
    );
  }, 500);
  await sleep(5000);
  phase = 'LDAP down (slapd killed), 10 s';
  await slapd.kill();
  await sleep(10_000);
  phase = 'after slapd is back, 10 s';
  await slapd.start();
  await sleep(10_000);
  clearInterval(si);
  await load.stop();
  gw.stop();
  await slapd.stop();
  const rows = ['| phase | signed-in requests (a file user, 50/s) | LDAP user sign-ins (2/s) | sign-in p99 |', '|---|---|---|---:|'];
  for (const p of phases) rows.push(`| ${p} | ${statuses(by.get(p)!.signedIn)} | ${statuses(by.get(p)!.ldapSignIns)} | ${pct(by.get(p)!.ldapSignIns.latencies, 99)} |`);
  console.log(`\n### LDAP down and back (one gateway process, users file and LDAP chained)\n\n${rows.join('\n')}`);
}

/** A round-robin TCP balancer that skips a backend refusing connections (what a Service with readiness does, roughly). */
function balancer(port: number, backends: number[]): net.Server {
  let next = 0;
  return net
    .createServer((client) => {
      client.pause();
      // Each backend at most once per connection, starting from the next in turn.
      const first = next++;
      const tryBackend = (left: number): void => {
        const target = backends[(first + backends.length - left) % backends.length]!;
        const up = net.connect(target, '127.0.0.1');
        const refused = (): void => {
          up.destroy();
          if (left > 1) tryBackend(left - 1);
          else client.destroy();
        };
        up.once('error', refused);
        up.once('connect', () => {
          up.off('error', refused);
          // pipe() ends each side when the other ends (after the bytes in flight are written); a reset is passed on.
          up.on('error', () => client.destroy());
          client.on('error', () => up.destroy());
          client.pipe(up).pipe(client);
          client.resume();
        });
      };
      client.on('error', () => undefined);
      tryBackend(backends.length);
    })
    .listen(port, '127.0.0.1');
}

async function rollingScenario(): Promise<void> {
  const redis = await startRedisServer();
  if (typeof redis !== 'string') return note(`rolling scenario skipped: ${redis.skip}`);
  const origin = await startRole(RUN, 'upstream');
  const a = await startGateway(ROOT, 'gateway-a', origin.url, { redis });
  const b = await startGateway(ROOT, 'gateway-b', origin.url, { redis });
  if (typeof a === 'string' || typeof b === 'string') return note('rolling scenario skipped: a gateway did not start');
  const lbPort = await freePort();
  const lb = balancer(lbPort, [Number(new URL(a.url).port), Number(new URL(b.url).port)]);
  const url = `http://127.0.0.1:${lbPort}`;
  const token = await signIn(url);
  const t = tally();
  const load = steady(`${url}/bench/session`, { authorization: `Bearer ${token}` }, 100, () => t);
  const { sockets, dropped, movedOn, stop: stopSockets } = await openSockets(url, token, 10);
  await sleep(3000);
  const restarts: string[] = [];
  // Three rounds: each instance restarted three times, one at a time.
  for (const gw of [a, b, a, b, a, b]) {
    const pid = gw.pids.at(-1)!;
    const t0 = performance.now();
    process.kill(pid, 'SIGTERM');
    while (await new Promise<boolean>((r) => r(existsPid(pid)))) await sleep(50);
    const stopped = performance.now() - t0;
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'bin.js'), 'serve', '--config', gw.configFile], { stdio: 'ignore' });
    gw.pids.push(child.pid!);
    await waitPort(Number(new URL(gw.url).port));
    restarts.push(`${gw.name}: stopped in ${(stopped / 1000).toFixed(1)} s, listening again ${((performance.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
    await sleep(3000);
  }
  const echoing = await stillEchoing(sockets);
  await load.stop();
  stopSockets();
  for (const ws of sockets) ws.close();
  lb.close();
  for (const gw of [a, b]) for (const pid of gw.pids) if (existsPid(pid)) process.kill(pid, 'SIGKILL');
  const non2xx = [...t.statuses].filter(([k]) => k !== '200').reduce((n, [, v]) => n + v, 0);
  console.log(`\n### Rolling restart of two instances behind a balancer, three rounds (redis store, 100 signed-in req/s, 10 WebSockets)\n
| requests | non-2xx or failed | answers | p99 | WebSockets dropped | moved on (1001, reconnected) | still echoing at the end |
|---:|---:|---|---:|---:|---:|---:|
| ${t.latencies.length} | ${non2xx} | ${statuses(t)} | ${pct(t.latencies, 99)} | ${dropped()} / ${sockets.length} | ${movedOn()} | ${echoing} / ${sockets.length} |

${restarts.map((r) => `- ${r}`).join('\n')}`);
}

function existsPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function soakScenario(): Promise<void> {
  const redis = await startRedisServer();
  if (typeof redis !== 'string') return note(`soak skipped: ${redis.skip}`);
  const origin = await startRole(RUN, 'upstream');
  const a = await startGateway(ROOT, 'gateway-a', origin.url, { redis });
  const b = await startGateway(ROOT, 'gateway-b', origin.url, { redis });
  if (typeof a === 'string' || typeof b === 'string') return note('soak skipped: a gateway did not start');
  const token = await signIn(a.url);
  let window = tally();
  const loads = [
    steady(`${a.url}/bench/session`, { authorization: `Bearer ${token}` }, 100, () => window),
    steady(`${b.url}/bench/session`, { authorization: `Bearer ${token}` }, 100, () => window),
    steady(`${b.url}/bench/bypass`, {}, 20, () => window),
  ];
  const onA = await openSockets(a.url, token, 10);
  const onB = await openSockets(b.url, token, 10);
  const sockets = [...onA.sockets, ...onB.sockets];
  const dropped = () => onA.dropped() + onB.dropped();
  const stopSockets = (): void => {
    onA.stop();
    onB.stop();
  };
  const ping = setInterval(() => sockets.forEach((ws) => ws.readyState === WebSocket.OPEN && ws.send('ping')), 1000);
  // Downloads of 4 MiB through A every 5 s (the origin streams as fast as it can: an endless one would
  // measure the loopback, not the gateway).
  let streamBytes = 0;
  const downloads = setInterval(() => {
    void request(`${a.url}/stream/4`, { headers: { authorization: `Bearer ${token}` } }).then(
      async (r) => {
        for await (const c of r.body) streamBytes += (c as Buffer).length;
        count(window, r.statusCode === 200 ? 'download ok' : `download ${r.statusCode}`);
      },
      () => count(window, 'download failed'),
    );
  }, 5000);
  const signIns = setInterval(() => void signIn(b.url).then(() => count(window, 'sign-in ok'), () => count(window, 'sign-in failed')), 2000);
  const pids = [a.pids.at(-1)!, b.pids.at(-1)!];
  const rows = ['| minute | requests | errors (non-2xx or failed) | p50 | p99 | RSS A / B (MiB) | fds A / B | Redis keys | WebSockets dropped | stream MiB |', '|---:|---:|---:|---:|---:|---|---|---:|---:|---:|'];
  const started = Date.now();
  for (let minute = 1; minute <= MINUTES; minute++) {
    await sleep(Math.max(0, started + minute * 60_000 - Date.now()));
    const w = window;
    window = tally();
    const errors = [...w.statuses].filter(([k]) => k !== '200' && k !== 'sign-in ok' && k !== 'download ok').reduce((n, [, v]) => n + v, 0);
    rows.push(`| ${minute} | ${w.latencies.length} | ${errors} | ${pct(w.latencies, 50)} | ${pct(w.latencies, 99)} | ${pids.map(rssMiB).join(' / ')} | ${pids.map(fds).join(' / ')} | ${await redisKeys(redis)} | ${dropped()} | ${(streamBytes / 1048576).toFixed(0)} |`);
  }
  clearInterval(downloads);
  clearInterval(ping);
  clearInterval(signIns);
  await Promise.all(loads.map((l) => l.stop()));
  stopSockets();
  for (const ws of sockets) ws.close();
  console.log(`\n### Soak, ${MINUTES} min: two gateway processes on one Redis (200 signed-in req/s, 20 bypass req/s, 20 WebSockets pinging every second, a 4 MiB download every 5 s, a sign-in every 2 s); load average at the end ${os.loadavg()[0]!.toFixed(1)}\n\n${rows.join('\n')}`);
}

async function main(): Promise<void> {
  note(`reliability scenarios, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
  try {
    if (!ONLY || ONLY === 'redis') await redisScenario();
    if (!ONLY || ONLY === 'sighup') await sighupScenario();
    if (!ONLY || ONLY === 'sentinel') await sentinelScenario();
    if (!ONLY || ONLY === 'upstream') await upstreamScenario();
    if (!ONLY || ONLY === 'flood') await floodScenario();
    if (!ONLY || ONLY === 'smtp') await smtpScenario();
    if (!ONLY || ONLY === 'twilio') await twilioScenario();
    if (!ONLY || ONLY === 'slow-redis') await slowRedisScenario();
    if (!ONLY || ONLY === 'ldap') await ldapScenario();
    if (!ONLY || ONLY === 'rolling') await rollingScenario();
    if (!ONLY || ONLY === 'soak') await soakScenario();
  } finally {
    await cleanup();
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    void cleanup().finally(() => process.exit(1));
  },
);
