import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { DEMO_DEFAULT_ADMIN, DEMO_DEFAULT_LISTEN } from '../../src/demo/run.js';
import { DEMO_PASSWORDS } from '../../src/users/demo-users.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
/** A bound, not a timing assertion: a demo that keeps running on a busy port is killed here and fails. */
const KILL_AFTER_MS = 15_000;

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exit: Promise<Exit>; ready: Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, PORTCULLIS_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveReady: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (resolveReady = resolve));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
    const m = /Portcullis demo: open (http:\/\/\S+)\//.exec(stdout);
    if (m) resolveReady(m[1]!);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  const exit = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveReady('');
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exit, ready };
}

async function holdPort(t: Test): Promise<number> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  return (holder.address() as AddressInfo).port;
}

void t.test('a busy --listen port: exit 1 at once, naming the address and how to choose another', async (t) => {
  const port = await holdPort(t);
  const exit = await start(['demo', '--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0']).exit;
  t.equal(exit.signal, null, 'it exited by itself (not killed after waiting)');
  t.equal(exit.code, 1);
  t.match(exit.stderr, new RegExp(`^portcullis demo: 127\\.0\\.0\\.1:${port} is already in use`));
  t.match(exit.stderr, /Choose another address with --listen HOST:PORT \(or \$PORTCULLIS_DEMO_LISTEN\), for example: portcullis demo --listen 127\.0\.0\.1:\d+/);
  t.notMatch(exit.stderr, /EADDRINUSE|at .*\.js:\d+/, 'a sentence, not a stack trace');
  t.notMatch(exit.stdout, /Portcullis demo: open/, 'nothing started');
});

void t.test('a busy admin port (also through $PORTCULLIS_DEMO_ADMIN): exit 1, naming --admin', async (t) => {
  const port = await holdPort(t);
  const byFlag = await start(['demo', '--listen', '127.0.0.1:0', '--admin', `127.0.0.1:${port}`]).exit;
  t.equal(byFlag.code, 1);
  t.match(byFlag.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--admin HOST:PORT`));
  const byEnv = await start(['demo', '--listen', '127.0.0.1:0'], { PORTCULLIS_DEMO_ADMIN: `127.0.0.1:${port}` }).exit;
  t.equal(byEnv.code, 1);
  t.match(byEnv.stderr, /\$PORTCULLIS_DEMO_ADMIN/);
});

void t.test('a malformed address is a usage error (exit 2)', async (t) => {
  const exit = await start(['demo', '--listen', 'localhost']).exit;
  t.equal(exit.code, 2);
  t.match(exit.stderr, /--listen must be 'host:port'/);
  const missing = await start(['demo', '--listen']).exit;
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--listen needs a value/);
});

void t.test('--listen and --admin choose the addresses; the demo serves the portal, HTTP Basic for svc-export, and stops on SIGTERM', async (t) => {
  const run = start(['demo', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  const url = await run.ready;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the chosen address (port 0: a free one) is printed');
  const login = await request(`${url}/`, { headers: { accept: 'text/html' } });
  await login.body.text();
  t.equal(login.statusCode, 302);
  t.match(String(login.headers.location), /\/_gateway\/login\?rd=/);
  const basic = Buffer.from(`svc-export:${DEMO_PASSWORDS['svc-export']}`).toString('base64');
  const exported = await request(`${url}/export`, { headers: { authorization: `Basic ${basic}` } });
  t.equal(exported.statusCode, 200, 'curl -u svc-export:... /export works as the README says');
  t.match(await exported.body.text(), /^# exported for svc-export\nid,name,status\ncamera1,Entrance,online/);
  const cams = await request(`${url}/api/cameras`, { headers: { authorization: `Basic ${basic}` } });
  const list = (await cams.body.json()) as { cameras: Array<{ stream: string }> };
  t.same(list.cameras.map((c) => c.stream), ['/stream/camera1', '/stream/camera2', '/stream/camera3'], 'three cameras, three streams');
  run.child.kill('SIGTERM');
  const exit = await run.exit;
  t.equal(exit.code, 0);
  for (const user of Object.keys(DEMO_PASSWORDS)) t.match(exit.stdout, new RegExp(`\\n  ${user}\\s+\\S+\\s+\\S`), `${user} is listed with the method it shows`);
  t.match(exit.stdout, /dave\s+dave-keeps-time\s+authenticator app/);
  t.notMatch(exit.stdout + exit.stderr, /SESSION STORE IS IN MEMORY/, 'no production warning about the memory store');
  t.match(exit.stdout, /the in-memory store is expected here/);
});

void t.test('every command has its own --help', async (t) => {
  const helps: Array<[string, RegExp]> = [
    ['demo', /^Usage: portcullis demo \[--listen HOST:PORT\] \[--admin HOST:PORT\][\s\S]*--listen HOST:PORT[\s\S]*--admin HOST:PORT/],
    ['serve', /^Usage: portcullis serve/],
    ['check-config', /^Usage: portcullis check-config/],
    ['hash-password', /^Usage: portcullis hash-password/],
    ['demo-app', /^Usage: portcullis demo-app/],
    ['nginx-config', /^Usage: portcullis nginx-config/],
    ['caddy-config', /^Usage: portcullis caddy-config/],
    ['sessions', /^Usage:\n {2}portcullis sessions list/],
    ['users', /^Usage:\n {2}portcullis users unlock/],
  ];
  for (const [command, usage] of helps) {
    const exit = await start([command, '--help']).exit;
    t.equal(exit.code, 0, `${command} --help: exit 0`);
    t.match(exit.stdout, usage, `${command} --help prints its own help`);
    const word = await start(['help', command]).exit;
    t.equal(word.stdout, exit.stdout, `portcullis help ${command} prints the same`);
  }
  const demo = await start(['demo', '--help']).exit;
  t.ok(demo.stdout.includes(DEMO_DEFAULT_LISTEN) && demo.stdout.includes(DEMO_DEFAULT_ADMIN), 'the demo help names its defaults');
  t.match(demo.stdout, /\$PORTCULLIS_DEMO_LISTEN[\s\S]*\$PORTCULLIS_DEMO_ADMIN/, 'and the environment variables');
});
