import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const SECRET = 'abcdefghijklmnopqrstuvwxyz0123456789';
// Real delivery, so check-config has nothing to warn about (console delivery warns).
const DELIVERY = `delivery:\n  email: {transport: smtp, smtp: {host: smtp.example.com}}\n  sms: {provider: twilio, twilio: {account_sid: AC1, auth_token: t, from: "+15550000000"}}\n`;
const GOOD = `session:\n  secret: "${SECRET}"\nupstreams:\n  - {name: vms, url: "http://127.0.0.1:8081"}\n${DELIVERY}`;
const BAD = `server:\n  listn: 0.0.0.0:8080\n  workers: many\nsession:\n  secret: short\nupstreams:\n  - name: vms\n    ulr: http://x\n${DELIVERY}`;

type Run = { code: number; stdout: string; stderr: string };

function run(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Run> {
  const env = { PATH: process.env.PATH, ...opts.env };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => {}); // the command may exit before reading its input
    child.stdin?.end(opts.stdin ?? '');
  });
}

void t.test('check-config on a good file prints OK and exits 0', async (t) => {
  const dir = t.testdir({ 'x.yaml': GOOD });
  const file = join(dir, 'x.yaml');
  const r = await run(['check-config', '--config', file]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `config OK: ${file}\n`);
  t.equal(r.stderr, '');
});

void t.test('check-config on a bad file prints every problem as FILE:LINE:COL and exits 2', async (t) => {
  const dir = t.testdir({ 'x.yaml': BAD });
  const r = await run(['check-config', '--config', 'x.yaml'], { cwd: dir });
  t.equal(r.code, 2);
  t.equal(r.stdout, '');
  t.same(r.stderr.trimEnd().split('\n'), [
    "x.yaml:2:3 server.listn: unknown key; did you mean 'listen'?",
    "x.yaml:3:12 server.workers: must be 'auto' or a number but it's configured as 'many'",
    'x.yaml:5:11 session.secret: must be at least 32 bytes long (generate one with `openssl rand -base64 48`)',
    'x.yaml:7:5 upstreams[0].url: is required',
    "x.yaml:8:5 upstreams[0].ulr: unknown key; did you mean 'url'?",
  ]);
});

void t.test('check-config prints warnings with OK', async (t) => {
  const dir = t.testdir({ 'x.yaml': GOOD.replace('session:\n', 'session:\n  store: memory\n') });
  const r = await run(['check-config', '--config', 'x.yaml'], { cwd: dir });
  t.equal(r.code, 0);
  t.equal(r.stdout, 'config OK: x.yaml\nx.yaml:2:10 session.store: warning: the memory store keeps sessions in this process only: they are lost on restart and not shared between instances\n');
});

void t.test('--config before the command, --config=, $PORTCULLIS_CONFIG and ./gateway.yaml', async (t) => {
  const dir = t.testdir({ 'good.yaml': GOOD, 'bad.yaml': BAD, 'gateway.yaml': GOOD });
  const [before, equals, fromEnv, flagWins, fallback] = await Promise.all([
    run(['--config', 'bad.yaml', 'check-config'], { cwd: dir }),
    run(['check-config', '--config=good.yaml'], { cwd: dir }),
    run(['check-config'], { cwd: dir, env: { PORTCULLIS_CONFIG: 'bad.yaml' } }),
    run(['check-config', '--config', 'good.yaml'], { cwd: dir, env: { PORTCULLIS_CONFIG: 'bad.yaml' } }),
    run(['check-config'], { cwd: dir }),
  ]);
  t.equal(before.code, 2);
  t.match(before.stderr, /^bad\.yaml:2:3 server\.listn: /);
  t.equal(equals.code, 0);
  t.equal(equals.stdout, 'config OK: good.yaml\n');
  t.equal(fromEnv.code, 2);
  t.match(fromEnv.stderr, /^bad\.yaml:/);
  t.equal(flagWins.code, 0);
  t.equal(fallback.code, 0);
  t.equal(fallback.stdout, 'config OK: ./gateway.yaml\n');
});

void t.test('a missing config file exits 2', async (t) => {
  const dir = t.testdir({});
  const r = await run(['check-config', '--config', 'nope.yaml'], { cwd: dir });
  t.equal(r.code, 2);
  t.equal(r.stderr, 'nope.yaml:1:1 cannot read the config file: no such file\n');
});

void t.test('help, no command, unknown command, unknown option', async (t) => {
  const [help, helpWord, cmdHelp, none, unknown, option, extra, noFile] = await Promise.all([
    run(['--help']),
    run(['help']),
    run(['check-config', '--help']),
    run([]),
    run(['frobnicate']),
    run(['check-config', '--verbose']),
    run(['serve', 'now']),
    run(['check-config', '--config']),
  ]);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: portcullis <command>/);
  t.equal(helpWord.code, 0);
  t.match(helpWord.stdout, /check-config/);
  t.equal(cmdHelp.code, 0);
  t.match(cmdHelp.stdout, /^Usage:/);

  t.equal(none.code, 2);
  t.match(none.stdout, /^Usage: portcullis <command>/);
  t.equal(none.stderr, '');

  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^portcullis: unknown command 'frobnicate'\n\nUsage:/);

  t.equal(option.code, 2);
  t.match(option.stderr, /^portcullis: check-config: unknown option '--verbose'/);

  t.equal(extra.code, 2);
  t.match(extra.stderr, /^portcullis: serve: unexpected argument 'now'/);

  t.equal(noFile.code, 2);
  t.match(noFile.stderr, /^portcullis: --config needs a file name/);
});

void t.test('hash-password is dispatched with its own options, --config removed', async (t) => {
  const r = await run(['--config', 'unused.yaml', 'hash-password', '--algorithm', 'scrypt'], { stdin: 'correct horse\n' });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\$scrypt\$/);
  const bad = await run(['hash-password', '--algorithm', 'md5'], { stdin: 'x\n' });
  t.equal(bad.code, 2);
});
