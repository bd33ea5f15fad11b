/**
 * The operator commands as child processes against a real redis-server shared with a running gateway:
 * what `portcullis sessions ...` and `portcullis users ...` do is seen by the gateway at once.
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { stringify } from 'yaml';
import { runCli, type CliIo } from '../../src/cli/bin.js';
import { Browser } from '../fixtures/browser.js';
import { SECRET, startStack, type Stack } from '../fixtures/gateway.js';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../fixtures/redis.js';
import { extractLink, startSmtp } from '../fixtures/smtp.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const PUBLIC = 'http://portal.test';

type Run = { code: number; stdout: string; stderr: string };

function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000, ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The same command line run inside this process. */
async function inProcess(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk: Buffer, _enc, cb) { append(chunk.toString()); cb(); } });
  const io: CliIo = { stdin: process.stdin, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), isTTY: false };
  const code = await runCli(argv, io, {});
  return { code: code ?? -1, stdout, stderr };
}

/** Lines of stderr that are not audit JSON. */
function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

function audits(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.audit === true);
}

async function until(check: () => Promise<boolean>, ms = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

interface Env {
  redis: RedisServer;
  stack: Stack;
  /** Writes a config file for the CLI (the stack's store, secret and users file) and answers its path. */
  config(name: string, extra?: Record<string, unknown>): Promise<string>;
}

async function setUp(t: Test): Promise<Env> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const stack = await startStack({ config: { session: { store: 'redis', redis: { url: redis.url } } } });
  t.teardown(() => stack.close());
  return {
    redis,
    stack,
    async config(name, extra = {}) {
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

async function signIn(stack: Stack, username: string, password: string): Promise<{ b: Browser; status: number; location: string | undefined }> {
  const b = new Browser(stack.url);
  await b.get('/_gateway/login');
  const r = await b.post('/_gateway/login', { username, password, csrf: b.csrf(), rd: '/' });
  return { b, status: r.status, location: r.location };
}

async function reachesApp(b: Browser): Promise<boolean> {
  const r = await b.get('/app');
  return r.status === 200;
}

async function sentToLogin(b: Browser): Promise<boolean> {
  const r = await b.get('/app');
  return r.status === 302 && (r.location ?? '').startsWith('/_gateway/login');
}

if (!redisAvailable()) {
  t.plan(0, 'redis-server is not installed');
} else {
  t.test('sessions list and revoke --id, --user, --all: the running gateway drops the sessions', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const one = await signIn(stack, 'svc', 'svc-password-1');
    const two = await signIn(stack, 'svc', 'svc-password-1');
    const alice = await signIn(stack, 'alice', 'alice-password-1');
    t.equal(one.status, 303);
    t.equal(one.location, '/');
    t.equal(alice.location?.startsWith('/_gateway/verify'), true, 'alice is half-way: one factor');
    t.ok(await reachesApp(one.b));
    t.ok(await reachesApp(two.b));

    const listed = await run(['sessions', 'list', '--config', cfg]);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^REF\s+USER\s+LEVEL\s+IP\s+CREATED\s+EXPIRES$/);
    t.equal(lines.length, 4, 'a header and three sessions');
    t.equal(lines.filter((l) => /^[0-9a-f]{12}\s+svc\s+two_factor\s+127\.0\.0\.1\s/.test(l)).length, 2);
    t.equal(lines.filter((l) => /^[0-9a-f]{12}\s+alice\s+one_factor\s/.test(l)).length, 1);

    const json = await run(['sessions', 'list', '--user', 'svc', '--json'], { PORTCULLIS_CONFIG: cfg });
    t.equal(json.code, 0, json.stderr);
    const svc = JSON.parse(json.stdout) as Array<{ ref: string; user: string; level: string; ip: string; factors: string[] }>;
    t.equal(svc.length, 2);
    t.ok(svc.every((s) => s.user === 'svc' && s.level === 'two_factor' && s.ip === '127.0.0.1' && /^[0-9a-f]{64}$/.test(s.ref)));
    t.notMatch(json.stdout, /csrf|deviceId/, 'no secrets in the listing');

    // End the first browser's session by a short reference.
    const firstRef = (await stack.gateway.gateway.services.sessions.get(one.b.cookies.get('portcullis_session')))!.ref;
    t.ok(svc.some((s) => s.ref === firstRef), 'listed by its reference');
    const byId = await run(['sessions', 'revoke', '--id', firstRef.slice(0, 12), '--config', cfg]);
    t.equal(byId.code, 0, byId.stderr);
    t.match(byId.stdout, /^ended 1 session \([0-9a-f]{12} of svc\)\n$/);
    t.match(audits(byId.stderr)[0], { event: 'sessions_revoked', user: 'svc', result: 'success', reason: 'id', client_ip: 'cli' });
    t.ok(await until(() => sentToLogin(one.b)), 'the revoked browser is sent to the login page');
    t.ok(await reachesApp(two.b), 'the other session of the same user still works');

    const byUser = await run(['sessions', '--config', cfg, 'revoke', '--user', 'svc']);
    t.equal(byUser.code, 0, byUser.stderr);
    t.equal(byUser.stdout, 'ended 1 session of svc\n');
    t.ok(await until(() => sentToLogin(two.b)));

    const again = await run(['sessions', 'revoke', '--id', firstRef, '--config', cfg]);
    t.equal(again.code, 1, 'an ended session cannot be ended twice');
    t.match(again.stderr, /no session with reference/);

    const all = await run(['sessions', 'revoke', '--all', '--config', cfg]);
    t.equal(all.code, 0, all.stderr);
    t.equal(all.stdout, 'ended 1 session\n');
    const empty = await run(['sessions', 'list', '--config', cfg]);
    t.equal(empty.stdout, 'no sessions\n');
    const verify = await alice.b.get('/_gateway/verify');
    t.match(verify.location, /^\/_gateway\/login/, 'the half-signed-in browser starts again');
  });

  t.test('users unlock: a locked user and a blocked password can sign in again', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const services = stack.gateway.gateway.services;
    await services.regulator.lock('svc', 'code_failures');
    const refused = await signIn(stack, 'svc', 'svc-password-1');
    t.equal(refused.status, 401, 'locked: the right password is refused');

    const unlocked = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(unlocked.code, 0, unlocked.stderr);
    t.match(unlocked.stdout, /^unlocked svc \(locked \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: code_failures\)\n$/);
    t.match(audits(unlocked.stderr)[0], { event: 'account_unlocked', user: 'svc', reason: 'code_failures' });
    const ok = await signIn(stack, 'svc', 'svc-password-1');
    t.equal(ok.status, 303);
    t.ok(await reachesApp(ok.b));

    for (let i = 0; i < 5; i++) await services.regulator.passwordFailed('svc', `10.0.0.${i + 1}`);
    t.equal((await signIn(stack, 'svc', 'svc-password-1')).status, 429, 'wrong passwords block the user');
    const lifted = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(lifted.stdout, 'lifted the wrong-password block of svc\n');
    t.equal((await signIn(stack, 'svc', 'svc-password-1')).status, 303);

    const nothing = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(nothing.code, 0);
    t.equal(nothing.stdout, 'svc was not locked\n');
  });

  t.test('users reset-2fa removes TOTP, recovery codes and trusted devices', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const s = stack.gateway.gateway.services;
    const { secretBase32 } = await s.totp.beginEnrolment('alice', 'alice');
    const code = new TOTP({ secret: Secret.fromBase32(secretBase32), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: stack.clock.now() });
    t.ok(await s.totp.confirmEnrolment('alice', code));
    await s.recovery.generate('alice');
    await s.devices.trust('alice', 'device-one', { name: 'Firefox on Linux', ip: '10.0.0.1', userAgent: 'Mozilla/5.0' });
    await s.factorState.setPhone('alice', '+4915100000000', true);

    const r = await run(['users', 'reset-2fa', 'alice', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'reset two-step verification of alice: authenticator app removed, 10 recovery codes removed, 1 trusted device forgotten\n');
    t.equal(await s.totp.isEnrolled('alice'), false);
    t.equal(await s.recovery.remaining('alice'), 0);
    t.same(await s.devices.list('alice'), []);
    t.same((await s.factorState.get('alice')).phone, undefined, 'the entered phone number is forgotten');
    t.match(audits(r.stderr)[0], { event: 'second_factor_reset', user: 'alice', method: 'operator' });

    const again = await run(['users', 'reset-2fa', 'alice', '--config', cfg]);
    t.equal(again.stdout, 'reset two-step verification of alice: no authenticator app, 0 recovery codes removed, 0 trusted devices forgotten\n');
  });

  t.test('users devices lists, revokes one and revokes all', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const devices = stack.gateway.gateway.services.devices;
    await devices.trust('bob', 'device-a', { name: 'Firefox on Linux', ip: '10.0.0.1', userAgent: 'ua-a' });
    await devices.trust('bob', 'device-b', { name: 'Safari on iOS', ip: '10.0.0.2', userAgent: 'ua-b' });
    const listedIds = await devices.list('bob');
    const firefox = listedIds.find((d) => d.name === 'Firefox on Linux')!.id;
    const safari = listedIds.find((d) => d.name === 'Safari on iOS')!.id;
    const ids = [firefox, safari];

    const listed = await run(['users', 'devices', 'bob', '--config', cfg]);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^ID\s+NAME\s+IP\s+CREATED\s+LAST USED\s+EXPIRES$/);
    t.equal(lines.length, 3);
    t.match(listed.stdout, /Firefox on Linux\s+10\.0\.0\.1/);
    t.match(listed.stdout, /Safari on iOS\s+10\.0\.0\.2/);
    for (const id of ids) t.match(listed.stdout, id);

    const one = await run(['users', 'devices', 'bob', '--revoke', ids[0]!, '--config', cfg]);
    t.equal(one.code, 0, one.stderr);
    t.equal(one.stdout, `forgot trusted device ${ids[0]} of bob\n`);
    t.same((await devices.list('bob')).map((d) => d.id), [ids[1]]);
    t.equal(await devices.isTrusted('bob', 'device-a'), false, 'the gateway no longer trusts it');

    const unknown = await run(['users', 'devices', 'bob', '--revoke', '000000000000', '--config', cfg]);
    t.equal(unknown.code, 1);
    t.same(messages(unknown.stderr), ['portcullis users devices: bob has no trusted device 000000000000']);

    const all = await run(['users', 'devices', 'bob', '--all', '--config', cfg]);
    t.equal(all.stdout, 'forgot 1 trusted device of bob\n');
    t.equal(await devices.isTrusted('bob', 'device-b'), false);
    const none = await run(['users', 'devices', 'bob', '--config', cfg]);
    t.equal(none.stdout, 'bob has no trusted devices\n');
  });

  t.test('users invite: the printed link sets the password and signs in without a code, once', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const r = await run(['users', 'invite', 'bob', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^http:\/\/portal\.test\/_gateway\/invite\/[A-Za-z0-9_-]{43}\n$/, 'one line: the link');
    t.match(messages(r.stderr), [/^one-time set-password link for bob, valid until /]);
    t.match(audits(r.stderr)[0], { event: 'invite_created', user: 'bob' });
    const path = new URL(r.stdout.trim()).pathname;

    const b = new Browser(stack.url);
    const page = await b.get(path);
    t.equal(page.status, 200);
    t.match(page.text, /value="bob"/);
    const done = await b.post(path, { password: 'a-new-bob-password', password_confirm: 'a-new-bob-password', csrf: b.csrf() });
    t.equal(done.status, 303);
    t.equal(done.location, '/');
    const app = await b.get('/cameras');
    t.equal(app.status, 200, 'signed in without a code');
    t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'bob');

    const other = new Browser(stack.url);
    t.equal((await other.get(path)).status, 410, 'the link works once');
    t.equal((await other.post(path, { password: 'another-password', password_confirm: 'another-password', csrf: 'x' })).status, 410);

    const next = await signIn(stack, 'bob', 'a-new-bob-password');
    t.equal(next.status, 303);
    t.match(next.location, /^\/_gateway\/verify/, 'the next sign-in asks for a code again');
    t.equal((await signIn(stack, 'bob', 'bob-password-1')).status, 401, 'the old password no longer works');
  });

  t.test('users invite with SMTP mails the same link; no public_url prints a relative link', async (t) => {
    const { stack, config } = await setUp(t);
    const smtp = await startSmtp();
    t.teardown(() => smtp.stop());
    const cfg = await config('smtp.yaml', {
      delivery: { email: { transport: 'smtp', smtp: { host: '127.0.0.1', port: smtp.port, pool: false, timeout: '3s' }, from: 'Portcullis <no-reply@example.com>' } },
    });
    const r = await run(['users', 'invite', 'alice', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    const link = r.stdout.trim();
    const mail = await smtp.waitFor((m) => /Set your .* password/.test(m.subject ?? ''), 5000);
    t.equal(smtp.envelopes[0]!.to[0], 'alice@example.com');
    t.equal(extractLink(mail), link, 'the mail carries the printed link');
    t.match(messages(r.stderr), [/valid until/, 'emailed to a***@example.com']);
    const page = await new Browser(stack.url).get(new URL(link).pathname);
    t.equal(page.status, 200);

    const relative = await config('relative.yaml', { server: { listen: '127.0.0.1:0' } });
    const rel = await run(['users', 'invite', 'alice', '--config', relative]);
    t.equal(rel.code, 0, rel.stderr);
    t.match(rel.stdout, /^\/_gateway\/invite\/[A-Za-z0-9_-]{43}\n$/);
    t.match(rel.stderr, /warning: server\.public_url is not set/);
    t.equal((await new Browser(stack.url).get(new URL(link).pathname)).status, 404, 'a new invite replaces the previous one');
    t.equal((await new Browser(stack.url).get(rel.stdout.trim())).status, 200);
  });

  t.test('users invite refuses unknown and disabled users', async (t) => {
    const { config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const [unknown, disabled] = await Promise.all([run(['users', 'invite', 'mallory', '--config', cfg]), run(['users', 'invite', 'carol', '--config', cfg])]);
    t.equal(unknown.code, 1);
    t.equal(unknown.stdout, '');
    t.same(messages(unknown.stderr), ["portcullis users invite: no user 'mallory' in the users file or directory"]);
    t.equal(disabled.code, 1);
    t.same(messages(disabled.stderr), ["portcullis users invite: 'carol' is disabled in the users file"]);
  });

  t.test('usage and config errors exit 2, an unreachable store exits 1', async (t) => {
    const { config, stack } = await setUp(t);
    const cfg = await config('gateway.yaml');
    // Two as child processes for the exit code; the rest in-process (the same runCli the binary runs).
    const children = await Promise.all([run(['sessions', 'revoke', '--config', cfg]), run(['users', 'frobnicate', 'alice', '--config', cfg])]);
    for (const u of children) {
      t.equal(u.code, 2, u.stderr);
      t.equal(u.stdout, '');
      t.match(u.stderr, /^portcullis (sessions|users): .+\n\nUsage:\n/);
    }
    const lines: string[][] = [
      ['sessions'],
      ['sessions', 'kill'],
      ['sessions', 'revoke', '--all', '--user', 'x'],
      ['sessions', 'revoke', '--id', 'nothex'],
      ['sessions', 'list', '--bogus'],
      ['sessions', 'list', 'extra'],
      ['users'],
      ['users', 'unlock'],
      ['users', 'unlock', 'alice', 'bob'],
      ['users', 'devices', 'alice', '--revoke', 'abc', '--all'],
      ['users', 'invite', 'alice', '--all'],
    ];
    for (const line of lines) {
      const r = await inProcess([...line, '--config', cfg]);
      t.equal(r.code, 2, line.join(' '));
      t.equal(r.stdout, '');
      t.match(r.stderr, /^portcullis (sessions|users): .+\n\nUsage:\n/);
    }

    const badFile = join(stack.dir, 'bad.yaml');
    await writeFile(badFile, 'session:\n  secret: short\n');
    const bad = await run(['users', 'unlock', 'alice', '--config', badFile]);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /bad\.yaml:2:11 session\.secret: must be at least 32 bytes/);

    const memory = await config('memory.yaml', { session: { store: 'memory', secret: SECRET } });
    const mem = await inProcess(['sessions', 'list', '--config', memory]);
    t.equal(mem.code, 2);
    t.match(mem.stderr, /session\.store is 'memory'/);

    const closed = await freePort();
    const down = await config('down.yaml', { session: { store: 'redis', secret: SECRET, redis: { url: `redis://127.0.0.1:${closed}/0`, connect_timeout: '1s' } } });
    const results = [await run(['sessions', 'list', '--config', down]), await inProcess(['users', 'unlock', 'alice', '--config', down]), await inProcess(['sessions', 'revoke', '--all', '--config', down])];
    for (const r of results) {
      t.equal(r.code, 1);
      t.equal(r.stdout, '');
      const out = r.stderr.trimEnd().split('\n');
      t.equal(out.length, 1, 'one line');
      t.match(out[0], new RegExp(`^portcullis (sessions list|users unlock|sessions revoke): cannot reach the session store at redis://127\\.0\\.0\\.1:${closed}/0: `));
    }
  });
}
