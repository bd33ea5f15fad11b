import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type TestUser } from '../fixtures/gateway.js';
import { startFakeTwilio } from '../fixtures/twilio.js';
import type { ManualClock } from '../../src/util/clock.js';
import { outboxCode, passwordStep, shownRecoveryCodes } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  dave: { password: 'dave-password-1', display_name: 'Dave Nophone' },
  erin: { password: 'erin-password-1', display_name: 'Erin Nomail' },
};

void t.test('forced SMS enrolment through Twilio: the phone is verified by a code before it counts', async (t) => {
  const twilio = await startFakeTwilio();
  t.teardown(() => twilio.stop());
  const stack = await startStack({
    users: USERS,
    config: {
      delivery: {
        email: { transport: 'console' },
        sms: { provider: 'twilio', twilio: { account_sid: twilio.accountSid, auth_token: twilio.authToken, from: '+15005550006', api_base_url: twilio.url, timeout: '5s' } },
      },
    },
  });
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const services = stack.gateway.gateway.core;
  const b = new Browser(stack.url);
  const rd = '/cameras';

  const posted = await passwordStep(b, 'dave', 'dave-password-1', rd);
  t.equal(posted.location, `/_gateway/enroll?rd=${encodeURIComponent(rd)}`);
  const choice = await b.get(posted.location!);
  t.equal(choice.status, 200);
  for (const m of ['totp', 'email', 'sms']) t.match(choice.text, `href="/_gateway/enroll/${m}?rd=%2Fcameras"`, `offers ${m}`);
  t.match(choice.text, 'href="/_gateway/enroll/webauthn?rd=%2Fcameras"', 'offers a passkey too');
  t.notMatch(choice.text, /Not now/, 'a required enrolment cannot be skipped');

  const enter = await b.get('/_gateway/enroll/sms?rd=%2Fcameras');
  t.equal(enter.status, 200);
  t.match(enter.text, /name="destination"/);

  const bad = await b.post('/_gateway/enroll/sms', { destination: '0151 12345', csrf: b.csrf(), rd });
  t.equal(bad.status, 400, 'not E.164');
  t.match(bad.text, /Please check the address or number/);
  t.equal(twilio.requests, 0);

  const forged = await b.post('/_gateway/enroll/sms', { destination: '+4915199990000', rd });
  t.equal(forged.status, 403, 'no CSRF token: refused');
  t.equal(twilio.requests, 0, 'and nothing sent');

  await b.get('/_gateway/enroll/sms?rd=%2Fcameras');
  twilio.failNext(500);
  const failed = await b.post('/_gateway/enroll/sms', { destination: '+4915188887777', csrf: b.csrf(), rd });
  t.equal(failed.status, 502, 'the SMS could not be sent');
  t.match(failed.text, /We could not send the code/);
  t.equal(services.delivery.outbox!.list().length, 0, 'no fallback to email for a number being verified');
  t.equal(twilio.messages.length, 0);
  clock.advance(31_000); // the failed attempt still started the resend cooldown

  const sent = await b.post('/_gateway/enroll/sms', { destination: '+49 151 9999-0000', csrf: b.csrf(), rd });
  t.equal(sent.status, 200);
  t.match(sent.text, /\+4915199990000/, 'the confirm step names the number');
  t.equal(twilio.messages.length, 1);
  t.equal(twilio.messages[0]!.to, '+4915199990000');
  const code = /\b(\d{6})\b/.exec(twilio.messages[0]!.body)![1]!;
  t.same(await services.factors.state.get('dave'), {}, 'nothing saved before the code');

  const again = await b.post('/_gateway/enroll/sms', { destination: '+4915199990000', csrf: b.csrf(), rd });
  t.equal(again.status, 429, 'resend cooldown from the code policy');
  t.ok(again.headers['retry-after']);
  await b.get('/_gateway/enroll/sms?rd=%2Fcameras');

  const wrong = await b.post('/_gateway/enroll/sms', { code: code === '000000' ? '111111' : '000000', csrf: b.csrf(), rd });
  t.equal(wrong.status, 401);
  t.match(wrong.text, /That code is not correct/);
  t.equal((await b.get(rd)).status, 302, 'still no access');
  t.equal(stack.upstream.seen.length, 0);
  await b.get('/_gateway/enroll/sms?rd=%2Fcameras');

  const ok = await b.post('/_gateway/enroll/sms', { code, destination: '+4915100000001', csrf: b.csrf(), rd });
  t.equal(ok.status, 200, 'recovery codes');
  t.equal(shownRecoveryCodes(ok.text).length, 10);
  t.same((await services.factors.state.get('dave')).phone, { number: '+4915199990000', verified: true }, 'the verified number, not a posted field');
  const app = await b.get(rd);
  t.equal(app.status, 200);
  t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'dave');

  void t.test('the next sign-in sends the code to the verified phone', async (t) => {
    await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
    clock.advance(300_000);
    const next = await passwordStep(b, 'dave', 'dave-password-1', rd);
    t.equal(next.location, `/_gateway/verify?rd=${encodeURIComponent(rd)}`);
    await b.get(next.location!);
    t.equal(twilio.messages.length, 2);
    t.equal(twilio.messages[1]!.to, '+4915199990000');
    const code2 = /\b(\d{6})\b/.exec(twilio.messages[1]!.body)![1]!;
    const done = await b.post('/_gateway/verify', { code: code2, csrf: b.csrf(), rd });
    t.equal(done.location, rd);
  });
});

void t.test('forced email enrolment by the console outbox; an expired code starts over', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const services = stack.gateway.gateway.core;
  const b = new Browser(stack.url);
  const rd = '/cameras';
  await passwordStep(b, 'erin', 'erin-password-1', rd);
  await b.get('/_gateway/enroll/email?rd=%2Fcameras');
  t.equal((await b.post('/_gateway/enroll/email', { destination: 'not an address', csrf: b.csrf(), rd })).status, 400);
  const sent = await b.post('/_gateway/enroll/email', { destination: 'erin@example.org', csrf: b.csrf(), rd });
  t.equal(sent.status, 200);
  t.match(sent.text, /erin@example\.org/);

  clock.advance(6 * 60_000);
  const late = await b.post('/_gateway/enroll/email', { code: outboxCode(stack, 'erin@example.org'), csrf: b.csrf(), rd });
  t.equal(late.status, 410, 'the code expired');
  t.match(late.text, /name="destination"/, 'back to entering the address');
  t.same(await services.factors.state.get('erin'), {});

  await b.post('/_gateway/enroll/email', { destination: 'erin@example.org', csrf: b.csrf(), rd });
  const ok = await b.post('/_gateway/enroll/email', { code: outboxCode(stack, 'erin@example.org'), csrf: b.csrf(), rd });
  t.equal(ok.status, 200);
  t.same((await services.factors.state.get('erin')).email, { address: 'erin@example.org', verified: true });
  t.equal((await services.factors.state.get('erin')).preferred, 'email');
  t.match(ok.text, /href="\/cameras"/);
  t.equal((await b.get(rd)).status, 200);
  t.ok(stack.logs.audits('factor_enrolled').some((l) => l.user === 'erin' && l.method === 'email'));
});
