import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { stringify } from 'yaml';
import { SECRET } from '../fixtures/gateway.js';
import { redisAvailable, startRedis } from '../fixtures/redis.js';
import { ALICE, advance, api, browser, isLockedMail, mailedCode, postCode, signInByMail, toVerifyPage, stackFor, wrong, apiFlow, lockedMetric } from '../fixtures/second-factor.js';


void t.test('browser: the wrong code that locks shows the locked page and ends the session', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 3 } } } });
  const b = browser(stack);
  await toVerifyPage(b, ALICE.user, ALICE.password, '/cams');
  const code = await mailedCode(stack, ALICE.email);
  t.equal((await postCode(b, wrong(code, 0), '/cams')).status, 401);
  t.equal((await postCode(b, wrong(code, 1), '/cams')).status, 401);
  const posted = await postCode(b, wrong(code, 2), '/cams');
  t.equal(posted.status, 303, 'post/redirect/get: to the sign-in page');
  t.match(posted.location, /^\/_gateway\/login\?notice=locked&rd=%2Fcams$/);
  t.notOk(b.cookies.has('portcullis_session'), 'the session cookie is cleared');
  const locked = await b.get(posted.location!);
  t.match(locked.text, /has been locked after too many wrong codes/);
  t.notMatch(locked.text, /name="code"/, 'no code form on the locked page');
  t.equal((await b.get('/cams')).status, 302);
  await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
});

void t.test('parallel wrong codes lock once: one notification, one audit line', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 10 }, lockout: { max_failures: 4 } } } });
  const { flow, code } = await apiFlow(stack);
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => api(stack, 'verify', { flow, code: wrong(code, i) })));
  const statuses = answers.map((a) => a.status);
  t.ok(statuses.every((s) => s === 401 || s === 423), 'wrong or locked');
  t.ok(statuses.filter((s) => s === 401).length <= 3, 'at most max_failures - 1 plain wrong answers');
  t.ok(statuses.includes(423));
  t.equal(stack.smtp.messages.filter(isLockedMail(ALICE.email)).length, 1, 'one notification');
  t.equal(stack.logs.audits('account_locked').length, 1, 'one account_locked event');
  t.equal(await lockedMetric(stack), '1');
  t.equal((await api(stack, 'verify', { flow, code })).status, 423);
});

const CLI = fileURLToPath(new URL('../../src/cli/users.js', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

void t.test('operator unlock by `portcullis users unlock` (a child process on the shared Redis)', { skip: !existsSync(CLI) ? 'the users command is not built' : redisAvailable() ? false : 'redis-server is not installed' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const session = { store: 'redis' as const, redis: { url: redis.url } };
  const stack = await stackFor(t, { config: { session, second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 2 } } } });
  const { flow, code } = await apiFlow(stack);
  await api(stack, 'verify', { flow, code: wrong(code, 0) });
  t.equal((await api(stack, 'verify', { flow, code: wrong(code, 1) })).status, 423, 'locked');
  await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
  t.equal((await api(stack, 'login', { username: ALICE.user, password: ALICE.password })).status, 401);

  const file = join(stack.dir, 'cli.yaml');
  await writeFile(file, stringify({ session: { ...session, secret: SECRET }, users: { file: stack.usersFile }, upstreams: [{ name: 'app', url: stack.upstream.url }] }));
  const out = await runCli(['users', 'unlock', 'alice', '--config', file]);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, /unlocked alice/);
  t.notMatch(out.stdout + out.stderr, ALICE.password);

  const b = browser(stack);
  const done = await signInByMail(stack, b, ALICE.user, ALICE.password, ALICE.email, '/cams');
  t.equal(done.status, 303, 'signed in again after the operator unlocked');
  t.equal((await b.get('/cams')).status, 200);
});

void t.test('wrong codes outside lockout.window do not add up', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 3, window: '15m' } } } });
  const first = await apiFlow(stack);
  await api(stack, 'verify', { flow: first.flow, code: wrong(first.code, 0) });
  t.equal((await api(stack, 'verify', { flow: first.flow, code: wrong(first.code, 1) })).status, 401);
  advance(stack, 16 * 60_000);
  const second = await apiFlow(stack);
  await api(stack, 'verify', { flow: second.flow, code: wrong(second.code, 0) });
  const still = await api(stack, 'verify', { flow: second.flow, code: wrong(second.code, 1) });
  t.equal(still.status, 401, 'two old and two new wrong codes: not locked');
  t.notOk(await stack.gateway.gateway.core.regulator.isLocked('alice'));
  t.equal((await api(stack, 'verify', { flow: second.flow, code: second.code })).status, 200);
});

void t.test('wrong codes are counted per client address too: 429 with Retry-After across users', async (t) => {
  const stack = await stackFor(t, { config: { regulation: { max_failures_per_client: 3, block: '2m' }, second_factor: { code: { max_attempts: 5 } } } });
  const alice = await apiFlow(stack);
  const bobRes = await api(stack, 'login', { username: 'bob', password: 'bob-password-1' });
  const bob = { flow: bobRes.json<{ flow: string }>().flow, code: await mailedCode(stack, 'bob@example.com') };
  await api(stack, 'verify', { flow: alice.flow, code: wrong(alice.code, 0) });
  await api(stack, 'verify', { flow: bob.flow, code: wrong(bob.code, 0) });
  await api(stack, 'verify', { flow: alice.flow, code: wrong(alice.code, 1) });
  const limited = await api(stack, 'verify', { flow: bob.flow, code: bob.code });
  t.equal(limited.status, 429, 'this client is blocked, even with a right code');
  t.ok(Number(limited.headers['retry-after']) > 0);
  t.match(limited.json(), { error: 'rate_limited' });
  t.notOk(await stack.gateway.gateway.core.regulator.isLocked('bob'), 'no account is locked by it');
  advance(stack, 2 * 60_000 + 1000);
  t.equal((await api(stack, 'verify', { flow: bob.flow, code: bob.code })).status, 200, 'after the block the right code works');
});

void t.test('lockout.notify false: locked and audited, but no mail', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 2, notify: false } } } });
  const { flow, code } = await apiFlow(stack);
  await api(stack, 'verify', { flow, code: wrong(code, 0) });
  t.equal((await api(stack, 'verify', { flow, code: wrong(code, 1) })).status, 423);
  t.equal(stack.logs.audits('account_locked').length, 1);
  t.equal(stack.smtp.messages.filter(isLockedMail(ALICE.email)).length, 0, 'no notification');
});
