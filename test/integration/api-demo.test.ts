/**
 * scripts/curl-demo.sh against the real demo (`portcullis demo` as a child process on free loopback
 * ports): curl signs in through the JSON API with the emailed code from the dev outbox, then reads
 * the demo app's /api/cameras with the token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const SCRIPT = `${ROOT}scripts/curl-demo.sh`;

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function startDemo(listen: string, admin: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'demo'], {
    cwd: ROOT,
    env: { ...process.env, PORTCULLIS_DEMO_LISTEN: listen, PORTCULLIS_DEMO_ADMIN: admin, PORTCULLIS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start: ${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('Portcullis demo: open')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${String(code)}): ${out}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

void t.test('scripts/curl-demo.sh signs in with curl and prints the cameras JSON', async (t) => {
  const listen = `127.0.0.1:${await freePort()}`;
  const admin = `127.0.0.1:${await freePort()}`;
  const demo = await startDemo(listen, admin);
  t.teardown(async () => {
    if (demo.exitCode === null) {
      demo.kill('SIGTERM');
      await once(demo, 'exit');
    }
  });

  const res = await run('bash', [SCRIPT], { PORTCULLIS_URL: `http://${listen}` });
  if (res.code !== 0) t.comment(res.stderr);
  t.equal(res.code, 0, 'the script succeeds');
  const lines = res.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'stdout is the cameras JSON alone');
  const body = JSON.parse(lines[0]!) as { cameras: Array<{ id: string }> };
  t.ok(Array.isArray(body.cameras) && body.cameras.length > 0, 'the demo app answered /api/cameras');
  t.match(res.stderr, /second factor required: email/);
  t.match(res.stderr, /"user":"alice"/, '/session names the user');
  t.match(res.stderr, /after logout: HTTP 401/);

  const wrong = await run('bash', [SCRIPT], { PORTCULLIS_URL: `http://${listen}`, DEMO_PASSWORD: 'not-the-password' });
  t.not(wrong.code, 0, 'a wrong password fails the script');
  t.match(wrong.stderr, /invalid_credentials/);
  t.equal(wrong.stdout, '');
});
