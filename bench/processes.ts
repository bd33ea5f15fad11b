/**
 * Starting and stopping what `npm run bench` races: Node roles (bench/servers.ts), nginx (plain
 * `proxy_pass`, or the configuration `portcullis nginx-config` generates), redis-server and
 * `portcullis serve`. Every child is tracked and stopped by `cleanup()`; temp dirs are removed.
 *
 * NODE_BIN: the Node binary that runs the servers (roles and gateways); default this process's own.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { loadConfigFile } from '../src/config/load.js';
import { nginxConfig } from '../src/frontproxy/nginx.js';
import { hashPassword } from '../src/users/password.js';

export const NGINX = '/usr/sbin/nginx';
export const NODE = process.env.NODE_BIN || process.execPath;
export const BENCH_USER = 'bench';
export const BENCH_PASSWORD = 'bench-password-0123456789';

export interface Target {
  name: string;
  url: string;
  /** Processes whose CPU (with their direct children) is this target's cost per request. */
  pids: number[];
  /** Where a signed-in scenario signs in (a gateway's own URL); default: the single-process gateway. */
  loginAt?: string;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

export function note(text: string): void {
  process.stderr.write(`# ${text}\n`);
}

/** The version the servers run on (`NODE_BIN -v`). */
export function serverNodeVersion(): string {
  try {
    return execFileSync(NODE, ['-v']).toString().trim();
  } catch (e) {
    throw new Error(`NODE_BIN=${NODE} does not run: ${(e as Error).message}`);
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function freePort(): Promise<number> {
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

/** Starts `NODE run.js --role ...` and waits for its port. */
export function startRole(self: string, role: string, target?: string): Promise<Target> {
  const args = [self, '--role', role, ...(target ? ['--target', target] : [])];
  // stdin is a pipe the role watches: it exits when this process goes away, however it ends.
  const child = track(spawn(NODE, args, { stdio: ['pipe', 'pipe', 'inherit'] }), role);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ name: role, url: `http://127.0.0.1:${m[1]}`, pids: child.pid ? [child.pid] : [] });
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

function nginxMain(dir: string, workers: number, http: string): string {
  // As root, nginx workers would switch to `nobody` and could not use this private temp dir.
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

async function runNginx(name: string, dir: string, port: number, pids: number[] = []): Promise<Target | string> {
  const child = track(spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: 'ignore' }), name);
  const url = `http://127.0.0.1:${port}`;
  return (await waitForHttp(`${url}/health`, child, 5000)) && child.pid ? { name, url, pids: [child.pid, ...pids] } : `${name} did not start`;
}

/** Plain nginx `proxy_pass` to the origin (upstream keepalive), `workers` worker processes. */
export async function startNginx(name: string, upstream: string, workers = 1): Promise<Target | string> {
  if (!existsSync(NGINX)) return `${NGINX} not installed`;
  const dir = tempDir('portcullis-bench-nginx-');
  const port = await freePort();
  const up = new URL(upstream);
  const server = `  upstream app { server ${up.host}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_max_temp_file_size 0;
    }
  }`;
  writeFileSync(path.join(dir, 'nginx.conf'), nginxMain(dir, workers, server));
  return runNginx(name, dir, port);
}

/** nginx with what `portcullis nginx-config` prints for `gateway`'s config file, in front of that gateway. */
export async function startGeneratedNginx(name: string, gateway: Target & { configFile: string }, workers: number): Promise<Target | string> {
  if (!existsSync(NGINX)) return `${NGINX} not installed`;
  const loaded = await loadConfigFile(gateway.configFile);
  if (!loaded.ok) return `cannot load ${gateway.configFile}: ${loaded.problems[0]?.message}`;
  const dir = tempDir('portcullis-bench-nginxgen-');
  const port = await freePort();
  const generated = nginxConfig(loaded.config, { gateway: gateway.url, listen: `127.0.0.1:${port}`, cacheDir: path.join(dir, 'authcache'), source: gateway.configFile });
  writeFileSync(path.join(dir, 'portcullis.conf'), generated.text);
  writeFileSync(path.join(dir, 'nginx.conf'), nginxMain(dir, workers, `  include ${path.join(dir, 'portcullis.conf')};`));
  return runNginx(name, dir, port, gateway.pids);
}

/** A redis-server for the multi-process gateway (workers need a shared store). */
export async function startRedisServer(): Promise<string | { skip: string }> {
  const port = await freePort();
  const dir = tempDir('portcullis-bench-redis-');
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
  const dir = tempDir('portcullis-bench-users-');
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
export async function startGateway(root: string, name: string, upstream: string, o: { workers?: number | 'auto'; redis?: string; hashing?: number } = {}): Promise<(Target & { configFile: string }) | string> {
  const bin = path.join(root, 'dist', 'src', 'cli', 'bin.js');
  if (!existsSync(bin)) return `${bin} not built`;
  const dir = tempDir('portcullis-bench-gw-');
  const port = await freePort();
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `server:
  listen: 127.0.0.1:${port}
  workers: ${o.workers ?? 1}
  trusted_proxies: [127.0.0.1/32]
  limits: {max_websockets_per_client: 20000}
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
    # 10k idle WebSockets from one client: above the per-upstream and per-client caps' defaults (256).
    max_connections: 20000
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
  const child = track(spawn('/bin/sh', ['-c', cmd, NODE, bin, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir }), name);
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  if ((await waitForHttp(`${url}/health`, child, 20_000)) && child.pid) return { name, url, pids: [child.pid], loginAt: url, configFile: config };
  child.kill('SIGKILL');
  const why = stderr.trim().split('\n').slice(-3).join(' | ') || 'no answer on its port';
  return `\`portcullis serve\` did not start (${why})`;
}

/** Stops every child (SIGTERM, then SIGKILL after 3 s), waits for each to exit, removes temp dirs. */
export async function cleanup(): Promise<void> {
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
