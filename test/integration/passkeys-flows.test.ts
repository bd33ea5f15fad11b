/**
 * Passkeys like any factor (issue 10): "remember this device" after a passkey step, step-up
 * (`max_auth_age`) answered with the passkey, and the JSON endpoint's Content-Type rule.
 */
import t, { type Test } from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import { SoftAuthenticator } from '../factors/soft-authenticator.js';
import type { ManualClock } from '../../src/util/clock.js';
import { passwordStep } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', groups: ['admins'] },
};

function shownOptions(html: string): { challenge: string; rp?: { id: string }; rpId?: string } {
  const m = /data-webauthn-options="([^"]*)"/.exec(html);
  if (!m) throw new Error('no options on the page');
  const json = m[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(json) as { challenge: string; rp?: { id: string }; rpId?: string };
}

async function stackWithPasskey(t: Test): Promise<{ stack: Stack; auth: SoftAuthenticator; origin: string }> {
  const stack = await startStack({
    users: USERS,
    config: {
      second_factor: { policy: 'required', methods: ['webauthn', 'recovery_code'] },
      session: { reverify_grace: 0 },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/admin', '/admin/**'], policy: 'two_factor', max_auth_age: '5m' }] },
    },
  });
  t.teardown(() => stack.close());
  const origin = new URL(stack.url).origin;
  // Forced enrolment of a passkey at the first sign-in.
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  const choice = await b.get(posted.location!);
  const page = await b.get(choice.location!);
  const o = shownOptions(page.text);
  const auth = new SoftAuthenticator();
  const done = await b.post('/_gateway/enroll/webauthn', { name: 'Laptop', credential: JSON.stringify(auth.register({ challenge: o.challenge, origin, rpId: o.rp!.id })), csrf: b.csrf(), rd: '/' });
  if (done.status !== 200) throw new Error(`enrolment answered ${done.status}`);
  return { stack, auth, origin };
}

void t.test('remember this device after a passkey step: the next sign-in in that browser needs only the password', async (t) => {
  const { stack, auth, origin } = await stackWithPasskey(t);
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/cams');
  const verify = await b.get(posted.location!);
  t.match(verify.text, /data-webauthn-mode="get"/, 'the passkey step');
  t.match(verify.text, /name="remember_device"/, 'with "remember this device"');
  const o = shownOptions(verify.text);
  const ok = await b.post('/_gateway/verify', { method: 'webauthn', credential: JSON.stringify(auth.assert({ challenge: o.challenge, origin, rpId: o.rpId! })), remember_device: '1', csrf: b.csrf(), rd: '/cams' });
  t.equal(ok.status, 303);
  t.equal(ok.location, '/cams');
  t.ok(stack.logs.audits().some((l) => l.user === 'alice' && /device_trusted/.test(String(l.event))), 'the device is trusted');

  await b.get('/_gateway/account');
  await b.post('/_gateway/logout', { csrf: b.csrf() });
  t.equal((await b.get('/cams')).status, 302, 'signed out');
  const again = await passwordStep(b, 'alice', 'alice-password-1', '/cams');
  t.equal(again.status, 303);
  t.equal(again.location, '/cams', 'no second step: the trusted device');
  t.equal((await b.get('/cams')).status, 200);

  const other = new Browser(stack.url);
  const elsewhere = await passwordStep(other, 'alice', 'alice-password-1', '/cams');
  t.match(elsewhere.location ?? '', /\/_gateway\/verify/, 'another browser still gets the passkey step');
});

void t.test('step-up (max_auth_age) is answered with the passkey', async (t) => {
  const { stack, auth, origin } = await stackWithPasskey(t);
  const clock = stack.clock as ManualClock;
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/admin');
  const verify = await b.get(posted.location!);
  let o = shownOptions(verify.text);
  t.equal((await b.post('/_gateway/verify', { method: 'webauthn', credential: JSON.stringify(auth.assert({ challenge: o.challenge, origin, rpId: o.rpId! })), csrf: b.csrf(), rd: '/admin' })).status, 303);
  t.equal((await b.get('/admin')).status, 200);
  clock.advance(6 * 60_000);
  const stale = await b.get('/admin');
  t.equal(stale.status, 302, 'older than max_auth_age');
  t.match(stale.location ?? '', /\/_gateway\/verify\?step_up=1/);
  const page = await b.get(stale.location!);
  t.equal(page.status, 200);
  o = shownOptions(page.text);
  const replay = await b.post('/_gateway/verify', { method: 'webauthn', credential: JSON.stringify(auth.assert({ challenge: 'AAAA', origin, rpId: o.rpId! })), csrf: b.csrf(), rd: '/admin' });
  t.equal(replay.status, 303);
  t.equal((await b.get('/admin')).status, 302, 'an assertion for another challenge does not pass the step-up');
  const fresh = shownOptions((await b.get(stale.location!)).text);
  const ok = await b.post('/_gateway/verify', { method: 'webauthn', credential: JSON.stringify(auth.assert({ challenge: fresh.challenge, origin, rpId: fresh.rpId! })), csrf: b.csrf(), rd: '/admin' });
  t.equal(ok.status, 303);
  t.equal((await b.get('/admin')).status, 200, 'fresh again after the passkey');
});

void t.test('the JSON endpoint for passkey options takes application/json only', async (t) => {
  const { stack } = await stackWithPasskey(t);
  const api = new Browser(stack.url);
  const login = await api.json('/_gateway/api/v1/login', { username: 'alice', password: 'alice-password-1' });
  const flow = login.json<{ flow: string }>().flow;
  const form = await api.fetch('/_gateway/api/v1/webauthn/options', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ flow }) });
  t.equal(form.status, 400, 'text/plain refused');
  const urlencoded = await api.fetch('/_gateway/api/v1/webauthn/options', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `flow=${flow}` });
  t.equal(urlencoded.status, 400, 'a form post refused');
  t.equal((await api.json('/_gateway/api/v1/webauthn/options', { flow })).status, 200, 'JSON accepted');
});
