import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { hashPasswordCommand } from '../../src/cli/hash-password.js';
import { verifyPassword } from '../../src/users/password.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

async function run(argv: string[], input: string | Buffer, isTTY = false) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin.end(input);
  const code = await hashPasswordCommand(argv, { stdin, stdout, stderr, isTTY });
  return { code, out, err };
}

for (const [algorithm, prefix] of [
  ['argon2id', '$argon2id$v=19$m=65536,t=3,p=4$'],
  ['scrypt', '$scrypt$ln=16,r=8,p=2$'],
  ['bcrypt', '$2b$12$'],
] as const) {
  void t.test(`--algorithm ${algorithm}: hashes the first stdin line without its newline`, async (t) => {
    const r = await run(['--algorithm', algorithm], 'pass word ü\nsecond line is ignored\n');
    t.equal(r.code, 0, r.err);
    t.ok(r.out.startsWith(prefix), r.out);
    t.ok(r.out.endsWith('\n') && r.out.split('\n').length === 2, 'one line');
    t.equal(await verifyPassword(r.out.trim(), 'pass word ü'), true);
    t.equal(await verifyPassword(r.out.trim(), 'pass word ü\n'), false);
    t.equal(r.err, '');
  });
}

void t.test('argon2id is the default; --algorithm=x form; CRLF and no final newline', async (t) => {
  const a = await run([], 'secret\r\n');
  t.equal(a.code, 0);
  t.match(a.out, /^\$argon2id\$/);
  t.equal(await verifyPassword(a.out.trim(), 'secret'), true, 'the carriage return is not part of the password');
  const b = await run(['--algorithm=scrypt'], 'secret');
  t.equal(b.code, 0);
  t.equal(await verifyPassword(b.out.trim(), 'secret'), true);
});

void t.test('usage errors and empty or overlong passwords exit 2', async (t) => {
  for (const [argv, input, message] of [
    [['--algorithm', 'md5'], 'x\n', /unknown algorithm 'md5'/],
    [['--algorithm'], 'x\n', /--algorithm/],
    [['--rounds', '3'], 'x\n', /unknown option '--rounds'/],
    [['extra'], 'x\n', /unexpected argument 'extra'/],
    [[], '\n', /empty password/],
    [[], '', /empty password/],
    [[], `${'x'.repeat(4097)}\n`, /longer than 4096 bytes/],
  ] as const) {
    const r = await run([...argv], input);
    t.equal(r.code, 2, `${JSON.stringify(argv)} ${JSON.stringify(input.slice(0, 10))}`);
    t.match(r.err, message);
    t.equal(r.out, '', 'nothing on stdout');
  }
  const max = await run([], `${'x'.repeat(4096)}\n`);
  t.equal(max.code, 0, 'exactly 4096 bytes is fine');
});

void t.test('on a terminal: asks twice, on stderr, and compares', async (t) => {
  const ok = await run([], 'typed\ntyped\n', true);
  t.equal(ok.code, 0);
  t.match(ok.err, /Password: [\s\S]*Password \(again\): /);
  t.notMatch(ok.err, /typed/, 'the password is not echoed');
  t.equal(await verifyPassword(ok.out.trim(), 'typed'), true);
  const mismatch = await run([], 'one\ntwo\n', true);
  t.equal(mismatch.code, 2);
  t.match(mismatch.err, /do not match/);
  t.equal(mismatch.out, '');
  const empty = await run([], '\n', true);
  t.equal(empty.code, 2);
  t.match(empty.err, /empty password/);
});

void t.test('through the portcullis binary in a child process', async (t) => {
  const child = (argv: string[], input: string) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const proc = spawn(process.execPath, [BIN, 'hash-password', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.on('error', reject);
      proc.on('close', (code) => resolve({ code, out, err }));
      proc.stdin.end(input);
    });
  const ok = await child(['--algorithm', 'bcrypt'], 'from a pipe\n');
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /^\$2b\$12\$[./A-Za-z0-9]{53}\n$/);
  t.equal(await verifyPassword(ok.out.trim(), 'from a pipe'), true);
  const dflt = await child([], 'x\n');
  t.equal(dflt.code, 0, dflt.err);
  t.match(dflt.out, /^\$argon2id\$/);
  const empty = await child([], '\n');
  t.equal(empty.code, 2);
  t.match(empty.err, /empty password/);
  const bad = await child(['--algorithm', 'sha1'], 'x\n');
  t.equal(bad.code, 2);
  t.match(bad.err, /unknown algorithm/);
});

void t.test('on a raw-mode terminal: no echo, backspace edits, Ctrl-C cancels, raw mode restored', async (t) => {
  const session = async (typed: string[]) => {
    const modes: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), { setRawMode: (on: boolean) => modes.push(on) });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Type each answer once its prompt is shown, as a person would.
    let prompts = 0;
    stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/Password( \(again\))?: $/.test(d.toString()) && prompts < typed.length) stdin.write(typed[prompts++]!);
    });
    const code = await hashPasswordCommand([], { stdin, stdout, stderr, isTTY: true });
    return { code, out, err, modes };
  };
  const ok = await session(['abx\u007fc\r', 'abc\r']);
  t.equal(ok.code, 0, ok.err);
  t.equal(await verifyPassword(ok.out.trim(), 'abc'), true, 'backspace removed the x');
  t.notMatch(ok.err, /ab/, 'nothing typed is echoed');
  t.same(ok.modes, [true, false, true, false], 'raw mode on while reading, off afterwards');
  const cancelled = await session(['ab\u0003']);
  t.equal(cancelled.code, 2);
  t.match(cancelled.err, /cancelled/);
  t.same(cancelled.modes, [true, false]);
  t.equal(cancelled.out, '');
});
