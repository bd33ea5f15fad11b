import { request } from 'undici';
import t from 'tap';
import { freePort } from '../fixtures/redis.js';
import { ALICE, BOB, advance, api, browser, mailedCode, postCode, postPassword, smsCode, type MailStack, stackFor } from '../fixtures/second-factor.js';

const SMS_FOR_ALICE = { second_factor: { assignments: [{ user: 'alice', method: 'sms' as const }] } };

async function metrics(stack: MailStack): Promise<string> {
  const res = await request(`${stack.gateway.adminUrl!}/metrics`);
  return res.body.text();
}

void t.test('Twilio failing: the code arrives by email, the page says so, failure recorded', async (t) => {
  const stack = await stackFor(t, { config: SMS_FOR_ALICE });
  stack.twilio.failAll(500);
  const b = browser(stack);
  const posted = await postPassword(b, ALICE.user, ALICE.password, '/cams');
  t.equal(posted.status, 303);
  const page = await b.get(posted.location!);
  t.equal(page.status, 200);
  t.match(page.text, /could not send a text message/, 'the verify page tells the user the code went by email');
  t.match(page.text, /a\*\*\*@example\.com/);
  t.equal(stack.twilio.requests, 1, 'Twilio was tried');
  const code = await mailedCode(stack, ALICE.email);
  const done = await postCode(b, code, '/cams');
  t.equal(done.status, 303);
  t.equal(done.location, '/cams');
  t.equal((await b.get('/cams')).status, 200);

  t.notOk(stack.logs.lines.some((l) => JSON.stringify(l).includes(code)), 'the failure and fallback lines do not carry the code');
  t.notOk(stack.logs.lines.some((l) => JSON.stringify(l).includes(ALICE.phone)), 'nor the full phone number');
  const failure = stack.logs.audits('code_delivery').find((l) => l.channel === 'sms');
  t.match(failure, { result: 'failure', reason: 'api_error', user: 'alice', fallback: 'email' }, 'the SMS failure is audited');
  t.match(stack.logs.audits('code_sent').at(-1), { result: 'success', reason: 'fell_back_to_email', method: 'email', user: 'alice' });
  const m = await metrics(stack);
  t.match(m, /portcullis_delivery_failures_total\{channel="sms",reason="fell_back_to_email"\} 1/);
  t.match(m, /portcullis_codes_sent_total\{channel="email"\} 1/);

  // The JSON API says the same: an invalid number (Twilio 21211) falls back too.
  stack.twilio.recover();
  stack.twilio.failNext(400, 21211);
  const viaApi = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.match(viaApi.json(), { status: 'second_factor_required', method: 'sms', sent: { channel: 'email', destination: 'a***@example.com', fell_back: true } });
  await mailedCode(stack, ALICE.email);
  t.ok(stack.logs.audits('code_delivery').some((l) => l.reason === 'invalid_number'), 'the invalid number is named in the audit');
});

void t.test('Twilio failing without fallback: a clear error page, no session upgrade, an audit event', async (t) => {
  const stack = await stackFor(t, { config: SMS_FOR_ALICE, fallbackToEmail: false });
  stack.twilio.failAll(503);
  const b = browser(stack);
  const page = await b.follow(await postPassword(b, ALICE.user, ALICE.password, '/cams'));
  t.equal(page.status, 502, 'the code page reports the delivery failure');
  t.match(page.text, /could not send the code/);
  t.match(page.text, /verify\/resend/, 'with a way to try again');
  t.equal(stack.smtp.messages.length, 0, 'no email fallback');
  const reload = await b.get('/_gateway/verify?rd=%2Fcams');
  t.equal(reload.status, 200);
  t.match(reload.text, /We will send a code by text message/, 'a reload does not claim a code was sent');
  const upstream = await b.get('/cams');
  t.equal(upstream.status, 302);
  t.match(upstream.location, /^\/_gateway\/(verify|login)/, 'no two-factor session');
  t.equal(stack.upstream.seen.length, 0);
  t.match(stack.logs.audits('code_sent').at(-1), { result: 'failure', user: 'alice', method: 'sms', reason: 'api_error' });
  t.match(await metrics(stack), /portcullis_delivery_failures_total\{channel="sms",reason="api_error"\} [1-9]/);

  const viaApi = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.match(viaApi.json(), { status: 'second_factor_required', delivery_error: 'delivery_failed' });
  t.notOk(viaApi.json().sent, 'nothing was sent');

  // Twilio is back: nothing reached the user, so a new code may be asked for at once (issue 17).
  stack.twilio.recover();
  const resent = await b.postFollow('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/cams' });
  t.equal(resent.status, 200, 'no resend cooldown after a send that failed');
  t.notMatch(resent.text, /could not send/, 'one clear message: the code was sent');
  t.match(resent.text, /A new code was sent to/);
  const done = await postCode(b, smsCode(stack, ALICE.phone), '/cams');
  t.equal(done.status, 303);
  t.equal((await b.get('/cams')).status, 200, 'signed in after the provider recovered');
});

void t.test('SMTP down: a clear error page, code_sent failure audited, no two-factor session', async (t) => {
  const closed = await freePort();
  const stack = await stackFor(t, { smtpPort: closed });
  t.ok(stack.logs.lines.some((l) => l.check === 'delivery' && /email/.test(String(l.message))), 'the start-up check warned about SMTP');
  const b = browser(stack);
  const page = await b.follow(await postPassword(b, BOB.user, BOB.password, '/cams'));
  t.equal(page.status, 502, 'the page reports the failure');
  t.match(page.text, /could not send the code/);
  t.match(stack.logs.audits('code_sent').at(-1), { result: 'failure', user: 'bob', method: 'email', reason: 'network' });
  t.ok(stack.logs.audits('code_delivery').some((l) => l.channel === 'email' && l.result === 'failure'));

  const upstream = await b.get('/cams');
  t.equal(upstream.status, 302, 'the protected route still redirects');
  t.match(upstream.location, /^\/_gateway\/(verify|login)/);
  const session = await b.fetch('/_gateway/api/v1/session');
  t.not(session.json<{ level?: string }>().level, 'two_factor');
  const guess = await postCode(b, '123456', '/cams');
  t.not(guess.status, 303, 'a guess does not upgrade the session');
  t.equal(stack.upstream.seen.length, 0);

  const viaApi = await api(stack, 'login', { username: BOB.user, password: BOB.password });
  t.equal(viaApi.status, 200);
  t.match(viaApi.json(), { status: 'second_factor_required', delivery_error: 'delivery_failed' });
});

void t.test('Twilio hanging: the bounded SMS call gives up and the code goes by email', async (t) => {
  const stack = await stackFor(t, { config: SMS_FOR_ALICE, twilioTimeout: '300ms' });
  stack.twilio.setDelay(5000);
  const login = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.match(login.json(), { status: 'second_factor_required', sent: { channel: 'email', fell_back: true } });
  t.ok(stack.logs.audits('code_delivery').some((l) => l.channel === 'sms' && l.reason === 'timeout'), 'the timeout is named');
  const ok = await api(stack, 'verify', { flow: login.json<{ flow: string }>().flow, code: await mailedCode(stack, ALICE.email) });
  t.equal(ok.status, 200);
  stack.twilio.setDelay(0);
});

void t.test('SMTP rejecting the recipient: 502 page; once it accepts again a resend works', async (t) => {
  const stack = await stackFor(t);
  stack.smtp.setFailing(550);
  const b = browser(stack);
  const page = await b.follow(await postPassword(b, BOB.user, BOB.password, '/cams'));
  t.equal(page.status, 502);
  t.match(stack.logs.audits('code_sent').at(-1), { result: 'failure', user: 'bob', reason: 'rejected' });
  stack.smtp.setFailing();
  advance(stack, 31_000);
  const resent = await b.postFollow('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/cams' });
  t.equal(resent.status, 200);
  t.equal((await postCode(b, await mailedCode(stack, BOB.email), '/cams')).status, 303);
  t.equal((await b.get('/cams')).status, 200);
});
