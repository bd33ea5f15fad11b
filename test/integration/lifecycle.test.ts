import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

const BIN = join(process.cwd(), 'dist/src/cli/bin.js');
const SECRET = 'lifecycle-secret-0123456789abcdefghijklmnop';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An upstream that names itself, and streams `/stream` slowly for about a second. */
async function upstream(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${n}\n`);
        if (++n === 20) {
          clearInterval(timer);
          res.end('done\n');
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function config(port: number, upstreamUrl: string): string {
  return [
    'server:',
    `  listen: 127.0.0.1:${port}`,
    '  shutdown_timeout: 10s',
    'admin:',
    '  listen: ""',
    'session:',
    '  store: memory',
    `  secret: ${SECRET}`,
    'second_factor:',
    '  policy: off',
    'upstreams:',
    `  - {name: app, url: "${upstreamUrl}"}`,
    'access:',
    '  default_policy: bypass',
    '',
  ].join('\n');
}

function serve(file: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const body = async (url: string) => {
  const res = await request(url);
  return res.body.text();
};

void t.test('serve with an invalid config exits 2 before listening and names the problem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-life-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = join(dir, 'gateway.yaml');
  await writeFile(file, config(port, 'http://127.0.0.1:1').replace('  store: memory', '  store: memroy'));
  const p = serve(file);
  t.equal(await p.exited, 2);
  t.match(p.output(), new RegExp(`${file.replace(/[.]/g, '\\.')}:7:10 session\\.store: `));
  await t.rejects(request(`http://127.0.0.1:${port}/`), 'nothing listens');
});

void t.test('SIGHUP swaps a valid config in, keeps the old one on a bad config, SIGTERM drains an in-flight stream', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-life-'));
  const a = await upstream('A');
  const b = await upstream('B');
  t.teardown(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  const file = join(dir, 'gateway.yaml');
  const base = `http://127.0.0.1:${port}`;
  await writeFile(file, config(port, a.url));
  const p = serve(file);
  t.teardown(() => void p.child.kill('SIGKILL'));

  t.equal(await until(async () => ((await body(`${base}/`)) === 'A' ? 'A' : undefined), 'upstream A'), 'A');

  await writeFile(file, config(port, b.url));
  p.child.kill('SIGHUP');
  t.equal(await until(async () => ((await body(`${base}/`)) === 'B' ? 'B' : undefined), 'upstream B after reload'), 'B', 'valid config swapped in');

  await writeFile(file, config(port, a.url).replace('upstreams:', 'upstreams:\n  - {name: broken, ulr: x}'));
  p.child.kill('SIGHUP');
  await until(() => (p.output().includes('config reload refused') ? true : undefined), 'the refusal in the log');
  t.equal(await body(`${base}/`), 'B', 'the old config stays');

  // A stream in flight when SIGTERM arrives finishes; new connections are refused afterwards.
  const res = await request(`${base}/stream`);
  t.equal(res.statusCode, 200);
  const text = res.body.text();
  p.child.kill('SIGTERM');
  const received = await text;
  t.match(received, /chunk 19\ndone\n$/, 'the whole stream arrived');
  t.equal(await p.exited, 0, 'exits 0 after draining');
  await t.rejects(request(`${base}/`), 'stopped listening');
  t.match(p.output(), /"msg":"draining"/);
});
