/**
 * Lost second factor (seed 004): `/_gateway/recover` mails a one-time link; the link plus the password
 * removes the second factors and ends the sessions. Mail over a real SMTP server.
 */
import type { ManualClock } from '../../src/util/clock.js';
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { typedUserKey } from '../../src/regulation/keys.js';
import { Browser, type Response } from '../fixtures/browser.js';
import { startStack } from '../fixtures/gateway.js';
import { extractLink, type ParsedMail } from '../fixtures/smtp.js';
import { ALICE, BOB, startMailStack, type MailStack } from '../fixtures/second-factor.js';

const PUBLIC = 'http://portal.test';

async function stackFor(t: Test): Promise<MailStack> {
  const stack = await startMailStack({ config: { server: { listen: '127.0.0.1:0', public_url: PUBLIC }, second_factor: { assignments: [{ user: 'alice', method: 'totp' }] } } });
  t.teardown(() => stack.close());
  return stack;
}

function recipients(mail: ParsedMail): string {
  const to = mail.to;
  return (Array.isArray(to) ? to : to ? [to] : []).map((a) => a.text).join(',');
}

const isResetMail = (to: string) => (m: ParsedMail) => recipients(m).includes(to) && /Reset your .* second factor/.test(m.subject ?? '');

async function requestLink(stack: MailStack, username: string): Promise<Response> {
  const b = new Browser(stack.url);
  await b.get('/_gateway/recover');
  return b.post('/_gateway/recover', { username, csrf: b.csrf() });
}

/** Waits (bounded) for an audit line of the background send. */
async function auditFor(stack: MailStack, user: string, reason: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (stack.logs.audits('recovery_link').some((a) => a.user === user && a.reason === reason)) return true;
    await sleep(20);
  }
  return false;
}

/** The page body without what changes per render. */
function normalised(text: string): string {
  return text.replace(/value="[^"]*"/g, 'value=""');
}

void t.test('the emailed link and the password reset TOTP, devices and sessions; the link works once', async (t) => {
  const stack = await stackFor(t);
  const s = stack.gateway.gateway.core;
  const { secretBase32 } = await s.totp.beginEnrolment('alice', 'alice');
  const code = new TOTP({ secret: Secret.fromBase32(secretBase32), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: stack.clock.now() });
  t.ok(await s.totp.confirmEnrolment('alice', code));
  await s.recoveryCodes.generate('alice');
  await s.devices.trust('alice', 'old-phone', { name: 'Safari on iOS', ip: '10.0.0.7', userAgent: 'ua' });
  const open = new Browser(stack.url);
  await open.get('/_gateway/login');
  await open.post('/_gateway/login', { username: ALICE.user, password: ALICE.password, csrf: open.csrf(), rd: '/' });
  t.equal((await s.sessions.list('alice')).length, 1, 'a session to be ended');

  const form = await new Browser(stack.url).get('/_gateway/recover');
  t.equal(form.status, 200);
  t.match(form.text, /name="username"/);
  const sent = await requestLink(stack, ALICE.user);
  t.equal(sent.status, 200);
  t.match(sent.text, /If the account exists and has an email address, a link is on its way/);
  const mail = await stack.smtp.waitFor(isResetMail(ALICE.email), 5000);
  const link = extractLink(mail);
  t.match(link, /^http:\/\/portal\.test\/_gateway\/recover\/[A-Za-z0-9_-]{43}$/, 'the link points at public_url');
  const path = new URL(link).pathname;

  const b = new Browser(stack.url);
  const page = await b.get(path);
  t.equal(page.status, 200);
  t.equal(page.headers['referrer-policy'], 'no-referrer');
  t.match(page.text, /name="password"/);
  const wrong = await b.post(path, { password: 'not-her-password', csrf: b.csrf() });
  t.equal(wrong.status, 401);
  t.match(wrong.text, /class="alert alert--error"/);
  t.equal(await s.store.get(`reg:pw:u:${typedUserKey('alice')}`), '1', 'the wrong password counts like a failed sign-in');
  t.equal(await s.totp.isEnrolled('alice'), true, 'nothing changed');
  const noCsrf = await b.post(path, { password: ALICE.password });
  t.equal(noCsrf.status, 403);

  const done = await b.post(path, { password: ALICE.password, csrf: b.csrf() });
  t.equal(done.status, 200);
  t.match(done.text, /Two-step verification was reset\. Sign in again to set it up\./);
  t.equal(await s.totp.isEnrolled('alice'), false);
  t.equal(await s.recoveryCodes.remaining('alice'), 0);
  t.same(await s.devices.list('alice'), []);
  t.same(await s.sessions.list('alice'), [], 'every session of the user ended');
  t.match((await open.get('/app')).location, /^\/_gateway\/login/);
  const notice = await stack.smtp.waitFor((m) => recipients(m).includes(ALICE.email) && /second factor was changed/.test(m.subject ?? ''), 5000);
  t.ok(notice, 'the user is told');
  t.match(stack.logs.audits('second_factor_reset'), [
    { user: 'alice', result: 'failure', reason: 'invalid_password' },
    { user: 'alice', result: 'success' },
  ]);
  t.notMatch(stack.logs.raw, new RegExp(path.split('/').pop()!), 'the token is never logged');

  const next = new Browser(stack.url);
  await next.get('/_gateway/login');
  const signIn = await next.post('/_gateway/login', { username: ALICE.user, password: ALICE.password, csrf: next.csrf(), rd: '/' });
  t.match(signIn.location, /^\/_gateway\/enroll/, 'policy required: the next sign-in sets up a new authenticator');

  const again = await new Browser(stack.url).get(path);
  t.equal(again.status, 410);
  t.match(again.text, /expired or has already been used/);
  const b2 = new Browser(stack.url);
  await b2.get('/_gateway/recover');
  const reused = await b2.post(path, { password: ALICE.password, csrf: b2.csrf() });
  t.equal(reused.status, 410);
});

void t.test('an unknown user gets the same answer and no mail; rate limits', async (t) => {
  const stack = await stackFor(t);
  const known = await requestLink(stack, BOB.user);
  const unknown = await requestLink(stack, 'nobody-here');
  t.equal(unknown.status, known.status);
  t.equal(normalised(unknown.text), normalised(known.text), 'the same page');
  await stack.smtp.waitFor(isResetMail(BOB.email), 5000);
  t.ok(await auditFor(stack, 'nobody-here', 'unknown_user'));
  const disabled = await requestLink(stack, 'carol');
  t.equal(normalised(disabled.text), normalised(known.text));
  t.ok(await auditFor(stack, 'carol', 'disabled'));
  const noMail = await requestLink(stack, 'svc');
  t.equal(normalised(noMail.text), normalised(known.text));
  t.ok(await auditFor(stack, 'svc', 'no_email'));
  t.equal(stack.smtp.messages.length, 1, 'only the known user got a mail');

  // One link per typed name per resend_after (issue 17: three links in 150 ms were possible), known or not.
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await requestLink(stack, 'zed')).status);
  t.same(statuses, [200, 429, 429, 429], 'per user name, known or not');
  const limited = await requestLink(stack, 'zed');
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 30, 'Retry-After within resend_after');
  (stack.clock as ManualClock).advance(31_000);
  t.equal((await requestLink(stack, 'zed')).status, 200, 'again after resend_after');
  // And per client: past regulation.max_failures_per_client requests in the window, every name is refused.
  const perClient: number[] = [];
  for (let i = 0; i < 25; i++) perClient.push((await requestLink(stack, `name-${i}`)).status);
  t.ok(perClient.slice(0, 10).every((s) => s === 200), 'distinct names are served first');
  t.equal(perClient.at(-1), 429, 'then the client is limited');
  t.ok(stack.smtp.messages.length <= 2, 'and nothing but the two real users got mail');

  const b = new Browser(stack.url);
  await b.get('/_gateway/recover');
  t.equal((await b.post('/_gateway/recover', { username: 'bob' })).status, 403, 'csrf');
  t.equal((await new Browser(stack.url).get(`/_gateway/recover/${'A'.repeat(43)}`)).status, 404);
  t.equal((await new Browser(stack.url).get('/_gateway/recovery')).status, 404);
});

void t.test('wrong passwords use a link up', async (t) => {
  const stack = await stackFor(t);
  await requestLink(stack, BOB.user);
  const path = new URL(extractLink(await stack.smtp.waitFor(isResetMail(BOB.email), 5000))).pathname;
  const b = new Browser(stack.url);
  await b.get(path);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await b.post(path, { password: `wrong-${i}`, csrf: b.csrf() })).status);
  t.same(statuses, [401, 401, 401, 401, 410]);
  t.equal((await b.get(path)).status, 410);
});

void t.test('email_reset: false — not available', async (t) => {
  const stack = await startStack({ config: { second_factor: { recovery: { email_reset: false } } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  const page = await b.get('/_gateway/recover');
  t.equal(page.status, 404);
  t.match(page.text, /Resetting by email is not available\. Please contact your administrator\./);
  t.notMatch(page.text, /name="username"/);
  t.equal((await b.post('/_gateway/recover', { username: 'alice' })).status, 404);
  t.equal((await b.get(`/_gateway/recover/${'A'.repeat(43)}`)).status, 404);
});

void t.test('without public_url and for a host this gateway does not serve, no link is mailed', async (t) => {
  const stack = await startMailStack();
  t.teardown(() => stack.close());
  const sent = await requestLink(stack, BOB.user);
  t.equal(sent.status, 200, 'the same answer');
  t.ok(await auditFor(stack, 'bob', 'no_public_url'));
  t.equal(stack.smtp.messages.length, 0, 'a forged Host header cannot point the link elsewhere');
  t.ok(stack.logs.lines.some((l) => /set server\.public_url/.test(String(l.msg))), 'the operator is told what to set');
});

void t.test('the link uses the public_url of the host asked, else the first one', async (t) => {
  const stack = await startMailStack({ config: { server: { listen: '127.0.0.1:0', public_url: ['http://a.test', 'http://b.test'] } } });
  t.teardown(() => stack.close());
  const ask = async (host: string) => {
    const b = new Browser(stack.url, { host });
    await b.get('/_gateway/recover');
    t.equal((await b.post('/_gateway/recover', { username: BOB.user, csrf: b.csrf() })).status, 200);
    return extractLink(await stack.smtp.waitFor(isResetMail(BOB.email), 5000));
  };
  t.match(await ask('b.test'), /^http:\/\/b\.test\/_gateway\/recover\//);
  (stack.clock as ManualClock).advance(31_000); // one link per name per resend_after
  t.match(await ask('evil.test'), /^http:\/\/a\.test\/_gateway\/recover\//, 'never the forged host');
});
