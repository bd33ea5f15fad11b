import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type TestUser } from '../fixtures/gateway.js';
import type { ManualClock } from '../../src/util/clock.js';
import { outboxSubjects, passwordStep, shownRecoveryCodes, shownSecret, totpCode } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};

void t.test('forced TOTP enrolment: password and first code, recovery codes once, then the target', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['totp', 'recovery_code'] } } });
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const b = new Browser(stack.url);
  const rd = '/cameras?x=1';

  const posted = await passwordStep(b, 'alice', 'alice-password-1', rd);
  t.equal(posted.status, 303);
  t.equal(posted.location, `/_gateway/enroll?rd=${encodeURIComponent(rd)}`);
  const choice = await b.get(posted.location!);
  t.equal(choice.status, 303, 'a single possible method: straight to it');
  t.equal(choice.location, `/_gateway/enroll/totp?rd=${encodeURIComponent(rd)}`);

  const page = await b.get(choice.location!);
  t.equal(page.status, 200);
  t.match(page.text, /otpauth:\/\/totp\//, 'the otpauth URI as text');
  t.match(page.text, /<svg/, 'the QR code');
  const secret = shownSecret(page.text);
  t.match(secret, /^[A-Z2-7]{32}$/);
  t.match(page.text, new RegExp(`secret=${secret}`));

  const blocked = await b.get(rd);
  t.equal(blocked.status, 302, 'a one-factor session never reaches the upstream');
  t.equal(stack.upstream.seen.length, 0);
  t.equal((await b.get('/_gateway/account')).location, `/_gateway/enroll?rd=${encodeURIComponent('/_gateway/account')}`, 'the account page sends a forced enrolment back to it');

  const reload = await b.get(choice.location!);
  t.equal(shownSecret(reload.text), secret, 'a reload shows the same pending secret');

  const noCsrf = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(secret, clock.now()), rd });
  t.equal(noCsrf.status, 403, 'missing CSRF token');
  await b.get(choice.location!);
  const badCsrf = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(secret, clock.now()), rd, csrf: 'x.y' });
  t.equal(badCsrf.status, 403, 'wrong CSRF token');
  t.notOk(await stack.gateway.gateway.core.totp.isEnrolled('alice'), 'nothing enrolled by a forged form');

  await b.get(choice.location!);
  const wrongPassword = await b.post('/_gateway/enroll/totp', { password: 'nope', code: totpCode(secret, clock.now()), csrf: b.csrf(), rd });
  t.equal(wrongPassword.status, 401);
  t.match(wrongPassword.text, /The password is not correct/);
  t.equal(shownSecret(wrongPassword.text), secret, 'the same secret after an error');

  const wrongCode = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(secret, clock.now() + 600_000), csrf: b.csrf(), rd });
  t.equal(wrongCode.status, 401);
  t.match(wrongCode.text, /That code is not correct/);
  t.notOk(await stack.gateway.gateway.core.totp.isEnrolled('alice'));

  const oneFactorCookie = b.cookies.get('portcullis_session')!;
  const done = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(secret, clock.now()), csrf: b.csrf(), rd });
  t.equal(done.status, 200, 'the recovery codes page');
  const codes = shownRecoveryCodes(done.text);
  t.equal(codes.length, 10);
  t.match(done.text, /href="\/cameras\?x=1"/, 'continue leads to rd');
  t.ok(await stack.gateway.gateway.core.totp.isEnrolled('alice'));
  t.equal(stack.upstream.seen.length, 0, 'still nothing upstream before continuing');

  t.not(b.cookies.get('portcullis_session'), oneFactorCookie, 'the session id rotated');
  const stale = new Browser(stack.url);
  stale.cookies.set('portcullis_session', oneFactorCookie);
  t.equal((await stale.get(rd)).status, 302, 'the old id no longer works');

  const app = await b.get(rd);
  t.equal(app.status, 200);
  t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'alice');
  t.ok(outboxSubjects(stack, 'alice@example.com').some((s) => /second factor was changed/.test(s)), 'factor_changed notification');
  t.ok(stack.logs.audits('factor_enrolled').some((l) => l.user === 'alice' && l.method === 'totp' && l.result === 'success'));
  t.ok(stack.logs.audits('enrolment').some((l) => l.reason === 'invalid_password'));
  t.notMatch(stack.logs.raw, new RegExp(secret), 'the secret is never logged');
  t.notMatch(stack.logs.raw, /alice-password-1/, 'the password is never logged');

  void t.test('the next sign-in asks for the app code', async (t) => {
    await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
    clock.advance(300_000); // past the reverify grace
    const again = await passwordStep(b, 'alice', 'alice-password-1', rd);
    t.equal(again.location, `/_gateway/verify?rd=${encodeURIComponent(rd)}`);
    const verify = await b.get(again.location!);
    t.match(verify.text, /Authenticator app|authenticator/i);
    const ok = await b.post('/_gateway/verify', { code: totpCode(secret, clock.now()), csrf: b.csrf(), rd });
    t.equal(ok.status, 303);
    t.equal(ok.location, rd);
  });

  void t.test('a recovery code signs in once and notifies the user', async (t) => {
    await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
    clock.advance(300_000); // past the reverify grace
    const again = await passwordStep(b, 'alice', 'alice-password-1', rd);
    await b.get(again.location!);
    const ok = await b.post('/_gateway/verify', { method: 'recovery_code', code: codes[0]!, csrf: b.csrf(), rd });
    t.equal(ok.status, 303);
    t.equal(ok.location, rd);
    t.ok(outboxSubjects(stack, 'alice@example.com').some((s) => /recovery code was used/.test(s)), 'recovery_code_used notification');

    await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
    clock.advance(300_000);
    const third = await passwordStep(b, 'alice', 'alice-password-1', rd);
    await b.get(third.location!);
    const reused = await b.postFollow('/_gateway/verify', { method: 'recovery_code', code: codes[0]!, csrf: b.csrf(), rd });
    t.equal(reused.status, 401, 'a used recovery code is refused');
    t.equal(await stack.gateway.gateway.core.recoveryCodes.remaining('alice'), 9);
  });
});

void t.test('enrolment pages need a session', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  for (const path of ['/_gateway/enroll', '/_gateway/enroll/totp', '/_gateway/enroll/email', '/_gateway/enroll/sms']) {
    const res = await b.get(path);
    t.equal(res.status, 303, path);
    t.match(res.location, /^\/_gateway\/login\?rd=/);
  }
  const post = await b.post('/_gateway/enroll/totp', { password: 'x', code: '123456', csrf: 'x' });
  t.equal(post.status, 303);
  t.match(post.location, /^\/_gateway\/login/);
  t.equal((await b.get('/_gateway/enroll/nope')).status, 404);
  t.equal((await b.post('/_gateway/enroll/recovery-codes', { csrf: 'x' })).location, '/_gateway/login?rd=%2F_gateway%2Faccount');
});

void t.test('an operator-assigned method is the only one offered; wrong passwords count like sign-ins', async (t) => {
  const stack = await startStack({
    users: { tom: { password: 'tom-password-1', second_factor: { method: 'totp' } } },
    config: { regulation: { max_failures: 3 } },
  });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'tom', 'tom-password-1', '/');
  const choice = await b.get(posted.location!);
  t.equal(choice.location, '/_gateway/enroll/totp?rd=%2F', 'straight to the assigned method');
  const other = await b.get('/_gateway/enroll/email?rd=%2F');
  t.equal(other.location, '/_gateway/enroll?rd=%2F', 'another method is not offered');
  await b.get('/_gateway/enroll/totp');
  t.equal((await b.post('/_gateway/enroll/email', { destination: 'tom@example.org', csrf: b.csrf() })).status, 303, 'nor can it be posted');
  t.equal(stack.gateway.gateway.core.delivery.outbox!.list().length, 0);

  await b.get('/_gateway/enroll/totp');
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await b.post('/_gateway/enroll/totp', { password: `wrong-${i}`, code: '123456', csrf: (await b.get('/_gateway/enroll/totp'), b.csrf()) }));
  const last = answers.at(-1)!;
  t.equal(last.status, 429, 'past regulation.max_failures: rate limited');
  t.ok(last.headers['retry-after']);
  const right = await b.post('/_gateway/enroll/totp', { password: 'tom-password-1', code: '123456', csrf: (await b.get('/_gateway/enroll/totp'), b.csrf()) });
  t.equal(right.status, 429, 'even the right password waits');
});
