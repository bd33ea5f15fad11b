import t from 'tap';
import { ALICE, advance, api, browser, isLockedMail, mailedCode, postCode, postPassword, signInByMail, toVerifyPage, stackFor, wrong, apiFlow, lockedMetric } from '../fixtures/second-factor.js';


const LOCKOUT = { second_factor: { code: { max_attempts: 2 }, lockout: { max_failures: 4 } } };

void t.test('the 4th wrong code locks the account: 423, mail, sessions gone, password refused; unlock restores', async (t) => {
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
  const graced = await postPassword(other, ALICE.user, ALICE.password, '/cams');
  t.equal(graced.status, 401, 'a device within the reverify grace is refused too');
  const page = await postPassword(browser(stack), ALICE.user, ALICE.password, '/cams');
  t.equal(page.status, 401);
  t.match(page.text, /Incorrect username or password/);

  t.match(stack.logs.audits('account_locked'), [{ user: 'alice', result: 'failure', reason: 'too_many_wrong_codes' }]);
  t.equal(await lockedMetric(stack), '1');

  // The operator unlocks: sign-in works again.
  await stack.gateway.gateway.core.regulator.unlock('alice');
  const stale = await api(stack, 'verify', { flow: pending.flow, code: pending.code });
  t.equal(stale.status, 410, 'codes pending at the lock died with it');
  const again = browser(stack);
  const done = await signInByMail(stack, again, ALICE.user, ALICE.password, ALICE.email, '/cams');
  t.equal(done.status, 303);
  t.equal(done.location, '/cams');
  t.equal((await again.get('/cams')).status, 200, 'signed in after the unlock');
});

void t.test('password and code failures are counted separately', async (t) => {
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

  t.notOk(await stack.gateway.gateway.core.regulator.isLocked('alice'), 'the password block does not lock the second factor');
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
  await stack.gateway.gateway.core.regulator.unlock('alice');
  const after = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.equal(after.status, 200, 'after the unlock the password works, without 429');
  t.match(after.json(), { status: 'second_factor_required' });
});
