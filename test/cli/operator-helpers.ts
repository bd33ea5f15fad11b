/** Shared by the operator command tests: run the CLI (child process or in-process), a gateway on Redis. */
import type { Test } from 'tap';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runCli, type CliIo } from '../../src/cli/bin.js';
import { Browser } from '../fixtures/browser.js';
import { SECRET, startStack, type Stack } from '../fixtures/gateway.js';
import { startRedis, type RedisServer } from '../fixtures/redis.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
export const PUBLIC = 'http://portal.test';

export type Run = { code: number; stdout: string; stderr: string };

export function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000, ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The same command line run inside this process. */
export async function inProcess(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk: Buffer, _enc, cb) { append(chunk.toString()); cb(); } });
  const io: CliIo = { stdin: process.stdin, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), isTTY: false };
  const code = await runCli(argv, io, {});
  return { code: code ?? -1, stdout, stderr };
}

/** Lines of stderr that are not audit JSON. */
export function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

export function audits(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.audit === true);
}

export async function until(check: () => Promise<boolean>, ms = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

export interface Env {
  redis: RedisServer;
  stack: Stack;
  /** Writes a config file for the CLI (the stack's store, secret and users file) and answers its path. */
  config: (name: string, extra?: Record<string, unknown>) => Promise<string>;
}

export async function setUp(t: Test): Promise<Env> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const stack = await startStack({ config: { session: { store: 'redis', redis: { url: redis.url } } } });
  t.teardown(() => stack.close());
  return {
    redis,
    stack,
    config: async (name, extra = {}) => {
      const doc = {
        server: { listen: '127.0.0.1:0', public_url: PUBLIC },
        session: { store: 'redis', secret: SECRET, redis: { url: redis.url } },
        users: { file: stack.usersFile },
        upstreams: [{ name: 'app', url: stack.upstream.url }],
        ...extra,
      };
      const file = join(stack.dir, name);
      await writeFile(file, stringify(doc));
      return file;
    },
  };
}

export async function signIn(stack: Stack, username: string, password: string): Promise<{ b: Browser; status: number; location: string | undefined }> {
  const b = new Browser(stack.url);
  await b.get('/_gateway/login');
  const r = await b.post('/_gateway/login', { username, password, csrf: b.csrf(), rd: '/' });
  return { b, status: r.status, location: r.location };
}

export async function reachesApp(b: Browser): Promise<boolean> {
  const r = await b.get('/app');
  return r.status === 200;
}

export async function sentToLogin(b: Browser): Promise<boolean> {
  const r = await b.get('/app');
  return r.status === 302 && (r.location ?? '').startsWith('/_gateway/login');
}

