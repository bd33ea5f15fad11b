import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { stringify } from 'yaml';
import { SECRET } from '../fixtures/gateway.js';
import { redisAvailable, startRedis } from '../fixtures/redis.js';
import { ALICE, advance, api, browser, isLockedMail, mailedCode, postCode, postPassword, signInByMail, startMailStack, toVerifyPage, type MailStack, type MailStackOptions } from '../fixtures/second-factor.js';

async function stackFor(t: Test, o: MailStackOptions = {}): Promise<MailStack> {
  const stack = await startMailStack(o);
  t.teardown(() => stack.close());
  return stack;
}

/** A wrong code of the same shape as `code`. */
function wrong(code: string, i = 0): string {
  return String((Number.parseInt(code, 10) + 1 + i) % 10 ** code.length).padStart(code.length, '0');
}

async function apiFlow(stack: MailStack): Promise<{ flow: string; code: string }> {
  const res = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return { flow: res.json<{ flow: string }>().flow, code: await mailedCode(stack, ALICE.email) };
}

async function lockedMetric(stack: MailStack): Promise<string> {
  const res = await request(`${stack.gateway.adminUrl!}/metrics`);
  return /portcullis_lockouts_total (\d+)/.exec(await res.body.text())?.[1] ?? '';
}

const LOCKOUT = { second_factor: { code: { max_attempts: 2 }, lockout: { max_failures: 4 } } };

t.test('the 4th wrong code locks the account: 423, mail, sessions gone, password refused; unlock restores', async (t) => {
  const stack = await stackFor(t, { config: LOCKOUT });

  // Already signed in elsewhere: a browser and an API token.
  const other = browser(stack);
  t.equal((await signInByMail(stack, other, ALICE.user, ALICE.password, ALICE.email, '/cams')).status, 303);
  t.equal((await other.get('/cams')).status, 200);
  const tokenFlow = await apiFlow(stack);
  const token = (await api(stack, 'verify', { flow: tokenFlow.flow, code: tokenFlow.code })).json<{ token: string }>().token;
  const withToken = () => browser(stack).fetch('/cams', { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
  t.equal((await withToken()).status, 200);

  // A browser waiting at the code step, started before the lock.
  const waiting = browser(stack);
  await toVerifyPage(waiting, ALICE.user, ALICE.password, '/cams');
  const waitingCode = await mailedCode(stack, ALICE.email);

  const pending = await apiFlow(stack);

  // Two wrong codes kill the first code (max_attempts 2); a new code; two more wrong codes lock.
  const { flow, code } = await apiFlow(stack);
  const answers = [];
  answers.push(await api(stack, 'verify', { flow, code: wrong(code, 0) }));
  answers.push(await api(stack, 'verify', { flow, code: wrong(code, 1) }));
  advance(stack, 31_000);
  t.equal((await api(stack, 'resend', { flow })).status, 202, 'a new code');
  const second = await mailedCode(stack, ALICE.email);
  answers.push(await api(stack, 'verify', { flow, code: wrong(second, 0) }));
  t.match(answers.map((a) => a.json()), [
    { error: 'invalid_code', attempts_left: 1 },
    { error: 'invalid_code', attempts_left: 0 },
    { error: 'invalid_code', attempts_left: 1 },
  ]);
  const fourth = await api(stack, 'verify', { flow, code: wrong(second, 1) });
  t.equal(fourth.status, 423, 'the 4th wrong code locks');
  t.match(fourth.json(), { error: 'locked' });

  const notice = await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
  t.match(notice.subject, /account has been locked/);
  t.match(notice.text, /too many wrong verification codes/);
  t.equal(stack.smtp.messages.filter(isLockedMail(ALICE.email)).length, 1, 'one notification');

  const kicked = await other.get('/cams');
  t.equal(kicked.status, 302, 'the other browser lost its session');
  t.match(kicked.location, /^\/_gateway\/login/);
  t.equal((await withToken()).status, 401, 'the API token is revoked too');

  const rightSecond = await api(stack, 'verify', { flow, code: second });
  t.equal(rightSecond.status, 423, 'even the right code answers locked');
  const codeMails = stack.smtp.messages.length;
  advance(stack, 31_000);
  const resendLocked = await api(stack, 'resend', { flow });
  t.equal(resendLocked.status, 423, 'a locked account gets no new code');
  t.match(resendLocked.json(), { error: 'locked' });
  t.equal(stack.smtp.messages.length, codeMails, 'nothing was mailed');
  const waitingPost = await postCode(waiting, waitingCode, '/cams');
  t.equal(waitingPost.status, 303);
  t.match(waitingPost.location, /^\/_gateway\/login/, 'the waiting browser is sent back to the password');
  t.equal((await waiting.get('/cams')).status, 302);

  const jsonLogin = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.equal(jsonLogin.status, 401, 'the right password answers like a wrong one');
  t.same(Object.keys(jsonLogin.json()).sort(), ['error', 'request_id']);
  t.match(jsonLogin.json(), { error: 'invalid_credentials' });
  const wrongPw = await api(stack, 'login', { username: ALICE.user, password: 'not-her-password' });
  t.equal(wrongPw.text.replace(/"request_id":"[^"]*"/, ''), jsonLogin.text.replace(/"request_id":"[^"]*"/, ''), 'locked and wrong password look the same');
  const page = await postPassword(browser(stack), ALICE.user, ALICE.password, '/cams');
  t.equal(page.status, 401);
  t.match(page.text, /Incorrect username or password/);

  t.match(stack.logs.audits('account_locked'), [{ user: 'alice', result: 'failure', reason: 'too_many_wrong_codes' }]);
  t.equal(await lockedMetric(stack), '1');

  // The operator unlocks: sign-in works again.
  await stack.gateway.gateway.services.regulator.unlock('alice');
  const stale = await api(stack, 'verify', { flow: pending.flow, code: pending.code });
  t.equal(stale.status, 410, 'codes pending at the lock died with it');
  const again = browser(stack);
  const done = await signInByMail(stack, again, ALICE.user, ALICE.password, ALICE.email, '/cams');
  t.equal(done.status, 303);
  t.equal(done.location, '/cams');
  t.equal((await again.get('/cams')).status, 200, 'signed in after the unlock');
});

t.test('password and code failures are counted separately', async (t) => {
  const stack = await stackFor(t, { config: { ...LOCKOUT, regulation: { max_failures: 3, block: '5m' } } });

  // A browser at the code step, then the password limit is hit for alice.
  const waiting = browser(stack);
  await toVerifyPage(waiting, ALICE.user, ALICE.password, '/cams');
  const code = await mailedCode(stack, ALICE.email);
  for (let i = 0; i < 3; i++) t.equal((await api(stack, 'login', { username: ALICE.user, password: `wrong-${i}` })).status, 401);
  const blocked = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.equal(blocked.status, 429, 'the password limit answers 429 even for the right password');
  t.ok(Number(blocked.headers['retry-after']) > 0, 'with Retry-After');
  t.match(blocked.json(), { error: 'rate_limited' });
  const blockedPage = await postPassword(browser(stack), ALICE.user, ALICE.password, '/cams');
  t.equal(blockedPage.status, 429);
  t.ok(Number(blockedPage.headers['retry-after']) > 0);
  const otherUser = await api(stack, 'login', { username: 'bob', password: 'bob-password-1' });
  t.equal(otherUser.status, 200, 'only that user is blocked');

  t.notOk(await stack.gateway.gateway.services.regulator.isLocked('alice'), 'the password block does not lock the second factor');
  const done = await postCode(waiting, code, '/cams');
  t.equal(done.status, 303, 'the code step still works');
  t.equal((await waiting.get('/cams')).status, 200);

  // The block ends; a code lockout then does not count as password failures.
  advance(stack, 5 * 60_000 + 1000);
  const { flow, code: c1 } = await apiFlow(stack);
  await api(stack, 'verify', { flow, code: wrong(c1, 0) });
  await api(stack, 'verify', { flow, code: wrong(c1, 1) });
  advance(stack, 31_000);
  await api(stack, 'resend', { flow });
  const c2 = await mailedCode(stack, ALICE.email);
  await api(stack, 'verify', { flow, code: wrong(c2, 0) });
  t.equal((await api(stack, 'verify', { flow, code: wrong(c2, 1) })).status, 423, 'locked by codes');
  await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
  await stack.gateway.gateway.services.regulator.unlock('alice');
  const after = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.equal(after.status, 200, 'after the unlock the password works, without 429');
  t.match(after.json(), { status: 'second_factor_required' });
});

t.test('browser: the wrong code that locks shows the locked page and ends the session', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 3 } } } });
  const b = browser(stack);
  await toVerifyPage(b, ALICE.user, ALICE.password, '/cams');
  const code = await mailedCode(stack, ALICE.email);
  t.equal((await postCode(b, wrong(code, 0), '/cams')).status, 401);
  t.equal((await postCode(b, wrong(code, 1), '/cams')).status, 401);
  const locked = await postCode(b, wrong(code, 2), '/cams');
  t.equal(locked.status, 423);
  t.match(locked.text, /locked/i);
  t.notMatch(locked.text, /name="code"/, 'no code form on the locked page');
  t.notOk(b.cookies.has('portcullis_session'), 'the session cookie is cleared');
  t.equal((await b.get('/cams')).status, 302);
  await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
});

t.test('parallel wrong codes lock once: one notification, one audit line', async (t) => {
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

t.test('operator unlock by `portcullis users unlock` (a child process on the shared Redis)', { skip: !existsSync(CLI) ? 'the users command is not built' : redisAvailable() ? false : 'redis-server is not installed' }, async (t) => {
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

t.test('wrong codes outside lockout.window do not add up', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 5 }, lockout: { max_failures: 3, window: '15m' } } } });
  const first = await apiFlow(stack);
  await api(stack, 'verify', { flow: first.flow, code: wrong(first.code, 0) });
  t.equal((await api(stack, 'verify', { flow: first.flow, code: wrong(first.code, 1) })).status, 401);
  advance(stack, 16 * 60_000);
  const second = await apiFlow(stack);
  await api(stack, 'verify', { flow: second.flow, code: wrong(second.code, 0) });
  const still = await api(stack, 'verify', { flow: second.flow, code: wrong(second.code, 1) });
  t.equal(still.status, 401, 'two old and two new wrong codes: not locked');
  t.notOk(await stack.gateway.gateway.services.regulator.isLocked('alice'));
  t.equal((await api(stack, 'verify', { flow: second.flow, code: second.code })).status, 200);
});

t.test('wrong codes are counted per client address too: 429 with Retry-After across users', async (t) => {
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
  t.notOk(await stack.gateway.gateway.services.regulator.isLocked('bob'), 'no account is locked by it');
  advance(stack, 2 * 60_000 + 1000);
  t.equal((await api(stack, 'verify', { flow: bob.flow, code: bob.code })).status, 200, 'after the block the right code works');
});
