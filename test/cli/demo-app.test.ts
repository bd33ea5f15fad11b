import t from 'tap';
import { wsText } from '../fixtures/ws-text.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import WebSocket from 'ws';
import { parseArgs, USAGE } from '../../src/cli/args.js';



const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function start(args: string[]): { child: ChildProcess; exit: Promise<Exit>; firstLine: Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => (resolveLine = resolve));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
    if (stdout.includes('\n')) resolveLine(stdout.split('\n')[0] as string);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exit = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      resolveLine('');
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exit, firstLine };
}

void t.test('demo-app serves the camera app alone on --listen and stops on SIGTERM with exit 0', async (t) => {
  const run = start(['demo-app', '--listen', '127.0.0.1:0']);
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  const line = await run.firstLine;
  const m = /^demo app listening on (http:\/\/127\.0\.0\.1:\d+) \(no authentication: reach it only through the gateway\)$/.exec(line);
  t.ok(m, `the address is printed: ${line}`);
  const url = m?.[1] as string;

  const health = await request(`${url}/health`);
  t.equal(health.statusCode, 200);
  t.equal(await health.body.text(), 'ok');
  const page = await request(`${url}/`, { headers: { 'remote-user': 'alice' } });
  t.match(await page.body.text(), /Camera wall[\s\S]*<dd id="remote-user">alice<\/dd>/, 'the camera wall, with the identity it was given');
  const ws = new WebSocket(`${url.replace('http', 'ws')}/events`);
  t.teardown(() => ws.terminate());
  const welcome = await new Promise<string>((resolve, reject) => {
    ws.once('message', (m) => resolve(wsText(m)));
    ws.once('error', reject);
  });
  t.match(JSON.parse(welcome), { type: 'welcome' }, 'the WebSocket works');

  run.child.kill('SIGTERM');
  const exit = await run.exit;
  t.equal(exit.code, 0, 'SIGTERM: exit 0');
  t.match(exit.stdout, /demo app stopping \(SIGTERM\)/);
  t.equal(exit.stderr, '');
});

void t.test('demo-app refuses bad command lines with exit 2 and the usage', async (t) => {
  for (const [args, message] of [
    [['demo-app', '--listen', 'nonsense'], /--listen must be 'host:port'/],
    [['demo-app', '--listen', '127.0.0.1:70000'], /--listen must be 'host:port'/],
    [['demo-app', '--listen'], /--listen needs a value/],
    [['demo-app', '--port', '8081'], /unknown option '--port'/],
    [['demo-app', 'extra'], /unexpected argument 'extra'/],
  ] as const) {
    const run = start([...args]);
    const exit = await run.exit;
    t.equal(exit.code, 2, `${args.join(' ')}: exit 2`);
    t.match(exit.stderr, message);
    t.match(exit.stderr, /Usage: portcullis demo-app \[--listen HOST:PORT\]/);
    t.equal(exit.stdout, '', 'nothing on stdout');
  }
});

void t.test('demo-app exits 1 when its address is taken', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const port = (holder.address() as AddressInfo).port;
  const exit = await start(['demo-app', '--listen', `127.0.0.1:${port}`]).exit;
  t.equal(exit.code, 1);
  t.match(exit.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
});

void t.test('demo-app is in the usage text and is a command of its own', (t) => {
  t.match(USAGE, /demo-app \[--listen HOST:PORT\]/);
  const parsed = parseArgs(['demo-app', '--listen', '0.0.0.0:8081'], {});
  t.match(parsed, { ok: true, command: 'demo-app', args: ['--listen', '0.0.0.0:8081'] });
  t.end();
});
