import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import type { ManualClock } from '../../src/util/clock.js';
import { formIds, outboxCode, outboxSubjects, passwordStep, shownRecoveryCodes, shownSecret, totpCode } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', phone: '+4915112345678', groups: ['operators'] },
  dave: { password: 'dave-password-1', display_name: 'Dave Nophone' },
};

/** Password, then the emailed code (optionally remembering the device). */
async function signInByEmail(stack: Stack, b: Browser, remember = false): Promise<void> {
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/cameras');
  if (!posted.location?.startsWith('/_gateway/verify')) throw new Error(`expected the second step, got ${posted.location}`);
  await b.get(posted.location);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/cameras', ...(remember ? { remember_device: '1' } : {}) });
  if (done.location !== '/cameras') throw new Error(`sign-in failed: ${done.status}`);
}

/** TOTP set up from a two-factor session; answers the secret and the response to the confirming POST. */
async function addTotp(stack: Stack, b: Browser, password: string) {
  const page = await b.get('/_gateway/enroll/totp');
  const secret = shownSecret(page.text);
  const res = await b.post('/_gateway/enroll/totp', { password, code: totpCode(secret, stack.clock.now()), csrf: b.csrf(), rd: '/' });
  return { secret, res };
}

void t.test('who may see the account page', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  const none = await b.get('/_gateway/account');
  t.equal(none.status, 303);
  t.equal(none.location, '/_gateway/login?rd=%2F_gateway%2Faccount');
  t.equal((await b.post('/_gateway/account/devices/remove', { id: 'x', csrf: 'x' })).location, '/_gateway/login?rd=%2F_gateway%2Faccount');
  await passwordStep(b, 'alice', 'alice-password-1');
  const half = await b.get('/_gateway/account');
  t.equal(half.location, '/_gateway/verify?rd=%2F_gateway%2Faccount', 'one factor: to the second step');
  t.equal((await b.get('/_gateway/account/nope')).status, 404);
  t.equal((await b.get('/_gateway/account/methods/remove')).status, 405);
});

void t.test('methods, devices and sessions are listed; TOTP added and removed; CSRF enforced', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const services = stack.gateway.gateway.core;
  const b = new Browser(stack.url, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' });
  await signInByEmail(stack, b, true);

  const page = await b.get('/_gateway/account');
  t.equal(page.status, 200);
  t.match(page.text, /Alice Operator/);
  t.match(page.text, /a\*\*\*@example\.com/, 'the directory email, masked');
  t.match(page.text, /\+49\*+78|\+49[^<]*78/, 'the directory phone, masked');
  t.same(formIds(page.text, '/_gateway/account/methods/remove'), [], 'directory details cannot be removed');
  t.equal(formIds(page.text, '/_gateway/account/devices/remove').length, 1, 'the trusted device');
  t.match(page.text, /This device/);
  t.match(page.text, /This session/);
  t.match(page.text, /Firefox · Linux/);
  t.match(page.text, /action="\/_gateway\/logout"/, 'the logout form');
  t.equal(formIds(page.text, '/_gateway/account/sessions/remove').length, 0, 'the current session has no end button');

  const { res } = await addTotp(stack, b, 'alice-password-1');
  t.equal(res.status, 200, 'first recovery codes shown');
  t.equal(shownRecoveryCodes(res.text).length, 10);
  t.match(res.text, /href="\/_gateway\/account\?notice=method_added"/);
  const withTotp = await b.get('/_gateway/account?notice=method_added');
  t.match(withTotp.text, /The verification method was added/);
  t.same(formIds(withTotp.text, '/_gateway/account/methods/remove'), ['totp']);
  t.match(withTotp.text, /10 \/ 10/, 'recovery codes left');
  t.notMatch((await b.get('/_gateway/account?notice=<b>hi</b>')).text, /hi<\/b>|&lt;b&gt;hi/, 'unknown notices are not echoed');

  await b.get('/_gateway/account');
  const forged = await b.post('/_gateway/account/methods/remove', { id: 'totp' });
  t.equal(forged.status, 403, 'no CSRF token');
  const wrong = await b.post('/_gateway/account/methods/remove', { id: 'totp', csrf: 'abc.def' });
  t.equal(wrong.status, 403, 'wrong CSRF token');
  t.ok(await services.totp.isEnrolled('alice'), 'nothing removed');

  await b.get('/_gateway/account');
  const before = outboxSubjects(stack, 'alice@example.com').filter((s) => /was changed/.test(s)).length;
  const removed = await b.post('/_gateway/account/methods/remove', { id: 'totp', csrf: b.csrf() });
  t.equal(removed.status, 303);
  t.equal(removed.location, '/_gateway/account?notice=method_removed');
  t.notOk(await services.totp.isEnrolled('alice'));
  t.equal(outboxSubjects(stack, 'alice@example.com').filter((s) => /was changed/.test(s)).length, before + 1, 'factor_changed notification');
  t.ok(stack.logs.audits('factor_removed').some((l) => l.user === 'alice' && l.method === 'totp' && l.result === 'success'));

  await b.get('/_gateway/account');
  const regen = await b.post('/_gateway/enroll/recovery-codes', { csrf: b.csrf() });
  t.equal(regen.status, 200);
  const fresh = shownRecoveryCodes(regen.text);
  t.equal(fresh.length, 10);
  t.ok(await services.recoveryCodes.consume('alice', fresh[0]!), 'the new set works');
  t.equal((await b.post('/_gateway/enroll/recovery-codes', { csrf: 'nope' })).status, 403);
  t.equal(await services.recoveryCodes.remaining('alice'), 9, 'a forged form changes nothing');
});

void t.test('policy required: the last usable method cannot be removed', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const services = stack.gateway.gateway.core;
  const clock = stack.clock as ManualClock;
  const b = new Browser(stack.url);
  await passwordStep(b, 'dave', 'dave-password-1', '/cameras');
  const page = await b.get('/_gateway/enroll/totp?rd=%2Fcameras');
  const secret = shownSecret(page.text);
  await b.post('/_gateway/enroll/totp', { password: 'dave-password-1', code: totpCode(secret, clock.now()), csrf: b.csrf(), rd: '/cameras' });

  await b.get('/_gateway/account');
  const refused = await b.post('/_gateway/account/methods/remove', { id: 'totp', csrf: b.csrf() });
  t.equal(refused.status, 409);
  t.match(refused.text, /last verification method/);
  t.ok(await services.totp.isEnrolled('dave'), 'kept');

  await b.get('/_gateway/enroll/email');
  await b.post('/_gateway/enroll/email', { destination: 'dave@example.net', csrf: b.csrf() });
  const added = await b.post('/_gateway/enroll/email', { code: outboxCode(stack, 'dave@example.net'), csrf: b.csrf() });
  t.equal(added.status, 303, 'recovery codes exist already: straight back');
  t.equal(added.location, '/_gateway/account?notice=method_added');
  const listed = await b.get('/_gateway/account');
  t.same(formIds(listed.text, '/_gateway/account/methods/remove').sort(), ['email', 'totp']);
  const ok = await b.post('/_gateway/account/methods/remove', { id: 'totp', csrf: b.csrf() });
  t.equal(ok.location, '/_gateway/account?notice=method_removed', 'with another method it can go');
  await b.get('/_gateway/account');
  const last = await b.post('/_gateway/account/methods/remove', { id: 'email', csrf: b.csrf() });
  t.equal(last.status, 409, 'now email is the last one');
  t.equal((await services.factors.state.get('dave')).email?.address, 'dave@example.net');
});

void t.test('a removed trusted device asks for a code again', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await signInByEmail(stack, b, true);
  await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
  (stack.clock as ManualClock).advance(300_000);
  const trusted = await passwordStep(b, 'alice', 'alice-password-1', '/cameras');
  t.equal(trusted.location, '/cameras', 'the trusted device skips the code');

  const page = await b.get('/_gateway/account');
  const [id] = formIds(page.text, '/_gateway/account/devices/remove');
  // A session let in by a trusted device has no fresh second factor: forgetting devices asks for one first.
  const stepUp = await b.post('/_gateway/account/devices/remove', { id: id!, csrf: b.csrf() });
  t.equal(stepUp.location, `/_gateway/verify?step_up=1&rd=${encodeURIComponent('/_gateway/account')}`);
  await b.get(stepUp.location!);
  const verified = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/_gateway/account' });
  t.equal(verified.location, '/_gateway/account');
  await b.get('/_gateway/account');
  const removed = await b.post('/_gateway/account/devices/remove', { id: id!, csrf: b.csrf() });
  t.equal(removed.location, '/_gateway/account?notice=device_removed');
  t.match((await b.get(removed.location!)).text, /no longer trusted/);
  t.same(await stack.gateway.gateway.core.devices.list('alice'), []);

  await b.post('/_gateway/logout', { csrf: b.csrf() });
  const asked = await passwordStep(b, 'alice', 'alice-password-1', '/cameras');
  t.match(asked.location, /^\/_gateway\/verify/, 'asked for a code again (no grace either)');
});

void t.test('ending another session signs that browser out', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const one = new Browser(stack.url);
  const two = new Browser(stack.url);
  await signInByEmail(stack, one);
  await signInByEmail(stack, two);
  t.equal((await two.get('/cameras')).status, 200);

  const page = await one.get('/_gateway/account');
  const ids = formIds(page.text, '/_gateway/account/sessions/remove');
  t.equal(ids.length, 1, 'the other session');
  const own = (await stack.gateway.gateway.core.sessions.list('alice')).map((x) => x.id).find((x) => x !== ids[0])!;
  const self = await one.post('/_gateway/account/sessions/remove', { id: own, csrf: one.csrf() });
  t.equal(self.location, '/_gateway/account', 'the current session is not ended here');
  await one.get('/_gateway/account');
  t.equal((await one.post('/_gateway/account/sessions/remove', { id: ids[0]!, csrf: 'bad' })).status, 403);
  t.equal((await two.get('/cameras')).status, 200, 'still signed in after a forged form');

  await one.get('/_gateway/account');
  const ended = await one.post('/_gateway/account/sessions/remove', { id: ids[0]!, csrf: one.csrf() });
  t.equal(ended.location, '/_gateway/account?notice=session_removed');
  const out = await two.get('/cameras');
  t.equal(out.status, 302);
  t.match(out.location, /^\/_gateway\/login/);
  t.equal((await one.get('/cameras')).status, 200, 'this one goes on');
});

void t.test('policy optional: opt in by enrolling, opt out from the account page', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { policy: 'optional' } } });
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const services = stack.gateway.gateway.core;
  const b = new Browser(stack.url);
  t.equal((await passwordStep(b, 'alice', 'alice-password-1', '/cameras')).location, '/cameras', 'password only at first');
  const off = await b.get('/_gateway/account');
  t.match(off.text, /Two-step verification is off/);
  t.match(off.text, /href="\/_gateway\/enroll"/, 'the opt-in link');
  t.notMatch(off.text, /second-factor\/disable/);
  const choice = await b.get('/_gateway/enroll');
  t.equal(choice.status, 200);
  t.match(choice.text, /Not now/, 'optional: can be skipped');

  const { secret } = await addTotp(stack, b, 'alice-password-1');
  t.equal((await services.factors.state.get('alice')).optedIn, true);
  const on = await b.get('/_gateway/account');
  t.match(on.text, /action="\/_gateway\/account\/second-factor\/disable"/);
  await b.post('/_gateway/logout', { csrf: b.csrf() });
  clock.advance(300_000);
  const asked = await passwordStep(b, 'alice', 'alice-password-1', '/cameras');
  t.match(asked.location, /^\/_gateway\/verify/, 'opted in: the second step is asked');
  await b.get(asked.location!);
  t.equal((await b.post('/_gateway/verify', { code: totpCode(secret, clock.now()), csrf: b.csrf(), rd: '/cameras' })).location, '/cameras');

  await b.get('/_gateway/account');
  t.equal((await b.post('/_gateway/account/second-factor/disable', {})).status, 403, 'CSRF');
  t.equal((await services.factors.state.get('alice')).optedIn, true);
  await b.get('/_gateway/account');
  const disabled = await b.post('/_gateway/account/second-factor/disable', { csrf: b.csrf() });
  t.equal(disabled.location, '/_gateway/account?notice=second_factor_disabled');
  t.equal((await services.factors.state.get('alice')).optedIn, false);
  t.notOk(await services.totp.isEnrolled('alice'));
  await b.post('/_gateway/logout', { csrf: (await b.get('/_gateway/account'), b.csrf()) });
  clock.advance(300_000);
  t.equal((await passwordStep(b, 'alice', 'alice-password-1', '/cameras')).location, '/cameras', 'opted out: password only again');
});

void t.test('policy required: opting out is refused', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await signInByEmail(stack, b);
  const page = await b.get('/_gateway/account');
  t.notMatch(page.text, /second-factor\/disable/);
  t.notMatch(page.text, /Two-step verification is off/);
  const res = await b.post('/_gateway/account/second-factor/disable', { csrf: b.csrf() });
  t.equal(res.location, '/_gateway/account');
  t.equal((await stack.gateway.gateway.core.factors.state.get('alice')).optedIn, undefined);
});
