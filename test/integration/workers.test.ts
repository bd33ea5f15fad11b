/**
 * `server.workers: 2` with the redis store: `portcullis serve` becomes a cluster primary with two
 * gateway workers on one listener. A session signed in on one is valid on both (metrics in the
 * primary show requests served by each worker), SIGHUP reloads every worker, a killed worker is
 * replaced, SIGTERM stops everything cleanly. With the memory store it runs one process.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { freePort, redisAvailable, startRedis } from '../fixtures/redis.js';
import { startEchoUpstream } from '../fixtures/upstream.js';

const BIN = join(process.cwd(), 'dist/src/cli/bin.js');
const SECRET = 'workers-secret-0123456789abcdefghijklmnopq';
const PASSWORD = 'workers-password-0123456789';

interface Serving {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function serve(file: string): Serving {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** One request on a connection of its own (so the primary hands each to the next worker). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, log?: () => string, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${log ? `\n${log().slice(-3000)}` : ''}`);
}

function count(text: string, msg: string): number {
  return text.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
}

/** `portcullis_http_requests_total` per worker label, from the primary's aggregated /metrics. */
function requestsByWorker(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('portcullis_http_requests_total{')) continue;
    const worker = /worker="(\d+)"/.exec(line)?.[1] ?? '?';
    out.set(worker, (out.get(worker) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (!redisAvailable()) {
  void t.test('workers with the redis store', { skip: 'redis-server is not on PATH' }, async () => {});
} else {
  void t.test('two workers share the listener, sessions, reloads and shutdown', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-workers-'));
    const redis = await startRedis();
    const app = await startEchoUpstream();
    t.teardown(async () => {
      await app.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await writeFile(join(dir, 'users.yaml'), `users:\n  alice:\n    display_name: Alice\n    email: alice@example.com\n    groups: [staff]\n    password: "${await hash(PASSWORD)}"\n`);
    const port = await freePort();
    const adminPort = await freePort();
    const file = join(dir, 'gateway.yaml');
    const config = (laterPolicy: string): string =>
      [
        'server:',
        `  listen: 127.0.0.1:${port}`,
        '  workers: 2',
        '  shutdown_timeout: 5s',
        'admin:',
        `  listen: 127.0.0.1:${adminPort}`,
        'session:',
        '  store: redis',
        `  secret: ${SECRET}`,
        `  redis: {url: "${redis.url}"}`,
        'second_factor:',
        '  policy: off',
        'users:',
        `  file: ${join(dir, 'users.yaml')}`,
        'upstreams:',
        `  - {name: app, url: "${app.url}"}`,
        'access:',
        '  default_policy: one_factor',
        '  rules:',
        `    - {paths: [/later], policy: ${laterPolicy}}`,
        'logging: {level: info}',
        '',
      ].join('\n');
    await writeFile(file, config('one_factor'));
    const gw = serve(file);
    t.teardown(() => {
      if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    });
    const base = `http://127.0.0.1:${port}`;
    const admin = `http://127.0.0.1:${adminPort}`;
    await until(async () => ((await get(`${admin}/readyz`)).status === 200 ? true : undefined), 'both workers listening', gw.output);
    t.equal(count(gw.output(), 'worker listening'), 2, 'two workers');
    t.equal((await get(`${admin}/healthz`)).status, 200, 'the primary runs the admin listener');

    // Sign in once, on whichever worker takes that connection.
    const login = await get(`${base}/_gateway/api/v1/login`, { 'content-type': 'application/json' }, 'POST', JSON.stringify({ username: 'alice', password: PASSWORD }));
    t.equal(login.status, 200, login.body);
    const token = (JSON.parse(login.body) as { token: string }).token;
    t.ok(token, 'a session token');
    const cookie = { cookie: `portcullis_session=${token}` };

    // Use it on many connections: every one is let through with the identity headers.
    const N = 30;
    const answers = await Promise.all(Array.from({ length: N }, () => get(`${base}/app`, cookie)));
    t.same(answers.map((a) => a.status), Array(N).fill(200), 'the session is valid on every worker');
    t.ok(answers.every((a) => (JSON.parse(a.body) as { headers: Record<string, string> }).headers['remote-user'] === 'alice'), 'Remote-User on every request');
    t.equal((await get(`${base}/app`)).status, 401, 'no session: refused');

    const byWorker = requestsByWorker((await get(`${admin}/metrics`)).body);
    const served = [...byWorker.values()].filter((n) => n > 0).length;
    t.equal(served, 2, `requests served by both workers (${JSON.stringify([...byWorker])})`);
    t.ok([...byWorker.values()].reduce((a, b) => a + b, 0) >= N, 'metrics of every worker are aggregated');

    // SIGHUP reaches every worker: the new rule holds on every connection afterwards.
    t.equal((await get(`${base}/later`)).status, 401, 'before the reload: /later needs a session');
    await writeFile(file, config('bypass'));
    gw.child.kill('SIGHUP');
    await until(() => (count(gw.output(), 'config reloaded') >= 2 ? true : undefined), 'both workers reloaded', gw.output);
    const later = await Promise.all(Array.from({ length: 10 }, () => get(`${base}/later`)));
    t.same(later.map((a) => a.status), Array(10).fill(200), 'after the reload: bypass on every worker');

    // A worker that dies is replaced.
    const pids = [...gw.output().matchAll(/"worker_pid":(\d+)[^\n]*"msg":"worker listening"/g)].map((m) => Number(m[1]));
    t.equal(pids.length, 2);
    process.kill(pids[0]!, 'SIGKILL');
    await until(() => (count(gw.output(), 'worker listening') >= 3 ? true : undefined), 'a replacement worker', gw.output);
    t.match(gw.output(), /worker died; starting another/);
    await until(async () => ((await get(`${admin}/readyz`)).status === 200 ? true : undefined), 'ready again');
    const again = await Promise.all(Array.from({ length: 6 }, () => get(`${base}/app`, cookie)));
    t.same(again.map((a) => a.status), Array(6).fill(200), 'sessions still valid after the restart');

    // SIGTERM drains every worker, then the primary exits 0.
    const allPids = [...gw.output().matchAll(/"worker_pid":(\d+)[^\n]*"msg":"worker listening"/g)].map((m) => Number(m[1]));
    gw.child.kill('SIGTERM');
    t.equal(await gw.exited, 0, 'clean exit');
    t.ok(allPids.every((p) => !alive(p)), 'no worker left behind');
    t.ok(count(gw.output(), 'stopped') >= 3, 'every worker and the primary stopped');
  });
}

void t.test('the memory store runs one process whatever server.workers says', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-workers-mem-'));
  const app = await startEchoUpstream();
  t.teardown(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  const file = join(dir, 'gateway.yaml');
  await writeFile(
    file,
    ['server:', `  listen: 127.0.0.1:${port}`, '  workers: auto', 'admin:', '  listen: ""', 'session:', '  store: memory', `  secret: ${SECRET}`, 'second_factor:', '  policy: off', 'upstreams:', `  - {name: app, url: "${app.url}"}`, 'access:', '  default_policy: bypass', 'logging: {level: info}', ''].join('\n'),
  );
  const gw = serve(file);
  t.teardown(() => {
    if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
  });
  await until(async () => ((await get(`http://127.0.0.1:${port}/x`)).status === 200 ? true : undefined), 'the gateway');
  t.match(gw.output(), /one worker will be used/, 'the config warning says so');
  t.equal(count(gw.output(), 'starting workers'), 0, 'no cluster primary');
  t.equal(count(gw.output(), 'portcullis listening'), 1);
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});

void t.test('workers that cannot listen (port taken) stop the primary with exit 1 instead of restarting forever', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-workers-busy-'));
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  t.teardown(async () => {
    await new Promise<void>((r) => taken.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'gateway.yaml');
  const unused = await freePort();
  await writeFile(
    file,
    ['server:', `  listen: 127.0.0.1:${port}`, '  workers: 2', 'admin:', '  listen: ""', 'session:', '  store: redis', `  secret: ${SECRET}`, `  redis: {url: "redis://127.0.0.1:${unused}/0"}`, 'second_factor:', '  policy: off', 'upstreams:', '  - {name: app, url: "http://127.0.0.1:9"}', 'access:', '  default_policy: bypass', 'logging: {level: info}', ''].join('\n'),
  );
  const gw = serve(file);
  t.teardown(() => {
    if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
  });
  t.equal(await gw.exited, 1, 'exit 1');
  t.match(gw.output(), /workers keep failing before they listen; stopping/);
  t.equal(count(gw.output(), 'worker listening'), 0);
});
