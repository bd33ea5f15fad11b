import t from 'tap';
import { csrfToken } from '../../src/portal/csrf.js';
import { ALICE, BOB, advance, api, browser, mailedCode, postCode, postPassword, signInByMail, toVerifyPage, type MailStack, stackFor } from '../fixtures/second-factor.js';

const codeMails = (stack: MailStack) => stack.smtp.messages.filter((m) => /sign-in code/.test(m.subject ?? '')).length;

void t.test('reverify grace: the same device within the grace gets no new code', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { trusted_devices: { enabled: false } } } });
  const b = browser(stack);
  t.equal((await signInByMail(stack, b, BOB.user, BOB.password, BOB.email, '/cams')).status, 303);
  t.ok(b.cookies.has('portcullis_device'), 'the browser got a device cookie');
  const device = b.cookies.get('portcullis_device');

  // Signed out (the JSON logout with the cookie), the device cookie stays.
  const out = await b.fetch('/_gateway/api/v1/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(out.status, 204);
  t.equal((await b.get('/cams')).status, 302, 'signed out');
  advance(stack, 2 * 60_000);
  const back = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.equal(back.status, 303);
  t.equal(back.location, '/cams', 'within the grace: straight to rd');
  t.equal((await b.get('/cams')).status, 200);
  t.equal(codeMails(stack), 1, 'no second code was sent');
  t.equal(b.cookies.get('portcullis_device'), device, 'the same device');
  t.ok(stack.logs.audits('second_factor').some((l) => l.reason === 'reverify_grace' && l.user === 'bob'), 'the grace is audited');

  // Only the session cookie lost (a dropped connection, a closed tab): still the same device.
  b.cookies.delete('portcullis_session');
  const dropped = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.equal(dropped.location, '/cams');

  // Another user on the same device is asked.
  b.cookies.delete('portcullis_session');
  const alice = await postPassword(b, ALICE.user, ALICE.password, '/cams');
  t.match(alice.location, /^\/_gateway\/verify/, 'the grace is per user');
  await mailedCode(stack, ALICE.email);

  // A different browser (no device cookie) is asked.
  const fresh = browser(stack);
  const other = await postPassword(fresh, BOB.user, BOB.password, '/cams');
  t.match(other.location, /^\/_gateway\/verify/, 'another device is asked for a code');
  await mailedCode(stack, BOB.email);

  // Past the grace (3m after the code), the same device is asked again.
  advance(stack, 61_000 + 1000);
  b.cookies.delete('portcullis_session');
  const late = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.match(late.location, /^\/_gateway\/verify/, 'past the grace a code is asked');
  await b.get(late.location!);
  t.equal((await postCode(b, await mailedCode(stack, BOB.email), '/cams')).status, 303);
});

void t.test('reverify_grace 0: a code every time', async (t) => {
  const stack = await stackFor(t, { config: { session: { reverify_grace: 0 }, second_factor: { trusted_devices: { enabled: false } } } });
  const b = browser(stack);
  t.equal((await signInByMail(stack, b, BOB.user, BOB.password, BOB.email, '/cams')).status, 303);
  b.cookies.delete('portcullis_session');
  const again = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.match(again.location, /^\/_gateway\/verify/, 'asked again at once');
  await mailedCode(stack, BOB.email);
});

void t.test('step-up: max_auth_age asks a signed-in user for a new code, without the password', async (t) => {
  const stack = await stackFor(t, {
    config: { access: { default_policy: 'two_factor', rules: [{ paths: ['/admin'], policy: 'two_factor', max_auth_age: '15m' }] } },
  });
  const b = browser(stack);
  t.equal((await signInByMail(stack, b, BOB.user, BOB.password, BOB.email, '/admin')).status, 303);
  t.equal((await b.get('/admin')).status, 200, 'fresh: /admin is open');
  advance(stack, 16 * 60_000);

  const page = await b.get('/admin/users?x=1');
  t.equal(page.status, 302);
  t.match(page.location, /^\/_gateway\/verify\?step_up=1&rd=/, 'the browser is sent to a step-up');
  const json = await b.fetch('/admin/users', { headers: { accept: 'application/json' } });
  t.equal(json.status, 401);
  t.match(json.json(), { error: 'reauthentication_required' });
  t.equal((await b.get('/cams')).status, 200, 'other paths never need it');
  t.equal((await b.get('/administrator')).status, 200, 'a prefix on a segment boundary only');

  const before = stack.upstream.seen.length;
  const oldCookie = b.cookies.get('portcullis_session')!;
  const verify = await b.get(page.location!);
  t.equal(verify.status, 200, 'the step-up page');
  t.notMatch(verify.text, /name="password"/, 'no password asked');
  const code = await mailedCode(stack, BOB.email);
  const rd = decodeURIComponent(/rd=([^&]+)/.exec(page.location!)![1]!);
  const done = await postCode(b, code, rd);
  t.equal(done.status, 303);
  t.equal(done.location, rd);
  const admin = await b.get('/admin/users?x=1');
  t.equal(admin.status, 200, '/admin is reachable again');
  t.not(b.cookies.get('portcullis_session'), oldCookie, 'the session id rotated at the step-up');
  const stale = await browser(stack).get('/cams', { cookie: `portcullis_session=${oldCookie}` });
  t.equal(stale.status, 302, 'the pre-step-up session id is dead');
  t.equal(stack.upstream.seen.length, before + 1);
  t.equal(stack.logs.audits('login').filter((l) => l.user === 'bob').length, 1, 'one password sign-in in all');
});

void t.test('JSON API: remember_device returns a device token that skips the code for that user only', async (t) => {
  const stack = await stackFor(t, { config: { session: { reverify_grace: 0 } } });
  const first = await api(stack, 'login', { username: BOB.user, password: BOB.password });
  const flow = first.json<{ flow: string }>().flow;
  const done = await api(stack, 'verify', { flow, code: await mailedCode(stack, BOB.email), remember_device: true });
  t.equal(done.status, 200);
  const deviceToken = done.json<{ device_token?: string }>().device_token;
  t.type(deviceToken, 'string', 'a device token');
  const notice = await stack.smtp.waitFor((m) => /new|device/i.test(m.subject ?? ''), 5000);
  t.ok(notice, 'the user is told about the new device');

  const again = await api(stack, 'login', { username: BOB.user, password: BOB.password, device_token: deviceToken });
  t.match(again.json(), { status: 'authenticated' }, 'no code on the trusted device');
  const forged = await api(stack, 'login', { username: BOB.user, password: BOB.password, device_token: `${deviceToken!.slice(0, -2)}xx` });
  t.match(forged.json(), { status: 'second_factor_required' }, 'a tampered token is ignored');
  await mailedCode(stack, BOB.email);
  const otherUser = await api(stack, 'login', { username: ALICE.user, password: ALICE.password, device_token: deviceToken });
  t.match(otherUser.json(), { status: 'second_factor_required' }, 'the device is trusted for bob only');
});

void t.test('browser: "trust this device" skips the code after the grace, until logout everywhere', async (t) => {
  const stack = await stackFor(t);
  const b = browser(stack);
  await toVerifyPage(b, BOB.user, BOB.password, '/cams');
  const done = await postCode(b, await mailedCode(stack, BOB.email), '/cams', { remember_device: '1' });
  t.equal(done.status, 303);
  b.cookies.delete('portcullis_session');
  advance(stack, 60 * 60_000);
  const back = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.equal(back.location, '/cams', 'a trusted device is not asked, long after the grace');
  t.ok(stack.logs.audits('second_factor').some((l) => l.reason === 'trusted_device'));
  const fresh = await postPassword(browser(stack), BOB.user, BOB.password, '/cams');
  t.match(fresh.location, /^\/_gateway\/verify/, 'another browser is asked');

  // Logging out everywhere forgets the device, and the grace of this device: the next sign-in asks.
  const page = await b.get(`/_gateway/verify?rd=%2Fcams`);
  t.equal(page.status, 303, 'signed in: no verify page');
  const signedIn = await stack.gateway.gateway.core.sessions.get(b.cookies.get('portcullis_session'));
  const out = await b.post('/_gateway/logout', { csrf: csrfToken(signedIn!.session.csrf), everywhere: '1' });
  t.equal(out.status, 303);
  const asked = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.match(asked.location, /^\/_gateway\/verify/, 'after logout everywhere the device is asked again');
});

void t.test('logout everywhere ends the reverify grace of this device', async (t) => {
  const stack = await stackFor(t);
  const b = browser(stack);
  t.equal((await signInByMail(stack, b, BOB.user, BOB.password, BOB.email, '/cams')).status, 303);
  const found = await stack.gateway.gateway.core.sessions.get(b.cookies.get('portcullis_session'));
  const out = await b.post('/_gateway/logout', { csrf: csrfToken(found!.session.csrf), everywhere: '1' });
  t.equal(out.status, 303);
  t.equal((await b.get('/cams')).status, 302);
  const asked = await postPassword(b, BOB.user, BOB.password, '/cams');
  t.match(asked.location, /^\/_gateway\/verify/, 'a complete logout means a code next time, even within the grace');
});
