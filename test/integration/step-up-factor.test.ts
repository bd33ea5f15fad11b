/**
 * Step-up that knows the factor and fresh factors for credential changes (issue 16): a rule's
 * `require_factor` asks a session verified another way for one of the named methods (browser: the verify
 * page limited to them; API: 401 step_up_required with the methods), and a change to the user's own
 * credentials on a session whose second factor is older than `second_factor.sensitive_action_age` goes
 * through step-up first.
 */
import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import type { ManualClock } from '../../src/util/clock.js';
import { outboxCode, passwordStep, shownSecret, totpCode } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};

function outboxCount(stack: Stack): number {
  return stack.gateway.gateway.core.delivery.outbox!.list().length;
}

async function stackWithPtz(): Promise<Stack> {
  return startStack({
    users: USERS,
    config: {
      second_factor: { methods: ['email', 'totp', 'recovery_code'] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/ptz', '/ptz/**'], policy: 'two_factor', require_factor: ['totp'] }] },
    },
  });
}

/** Password, then the mailed code: a session whose second factor was email. */
async function signInByEmail(stack: Stack, b: Browser): Promise<void> {
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  if (posted.status !== 303) throw new Error(`password step answered ${posted.status}`);
  await b.get(posted.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/' });
  if (done.status !== 303 || done.location !== '/') throw new Error(`code step answered ${done.status} ${done.location ?? ''}`);
}

void t.test('require_factor: an email-verified session is asked for TOTP (browser and API), cannot use email, and passes after TOTP', async (t) => {
  const stack = await stackWithPtz();
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const b = new Browser(stack.url);
  await signInByEmail(stack, b);
  t.equal((await b.get('/cams')).status, 200, 'an ordinary path: the email code is enough');

  const nav = await b.get('/ptz/move?pan=10');
  t.equal(nav.status, 302);
  t.equal(nav.location, `/_gateway/verify?step_up=1&methods=totp&rd=${encodeURIComponent(`${stack.url}/ptz/move?pan=10`)}`);
  const api = await b.fetch('/ptz/move', { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: '{}' });
  t.equal(api.status, 401);
  t.same(api.json<{ error: string; methods: string[] }>().error, 'step_up_required');
  t.same(api.json<{ methods: string[] }>().methods, ['totp']);
  t.equal(stack.upstream.seen.filter((s) => s.url.startsWith('/ptz')).length, 0, 'nothing reached the PTZ upstream');

  const none = await b.get(nav.location!);
  t.equal(none.status, 403, 'the user has no authenticator app yet: told so, no other method offered');
  t.match(none.text, /Authenticator app/, 'names the method the page needs');

  // Add an authenticator app from the account (fresh second factor: no step-up for the change).
  const setup = await b.get('/_gateway/enroll/totp');
  t.equal(setup.status, 200);
  const secret = shownSecret(setup.text);
  const enrolled = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(secret, clock.now()), csrf: b.csrf(), rd: '/_gateway/account' });
  t.ok([200, 303].includes(enrolled.status), `enrolled (${enrolled.status})`);
  t.equal((await b.get('/ptz/move?pan=10')).status, 302, 'adding TOTP does not make the email session a TOTP session');

  const page = await b.get(nav.location!);
  t.equal(page.status, 200, `the verify page, as a step-up (${page.status} ${page.location ?? ''})`);
  t.match(page.text, /name="method" value="totp"|authenticator/i);
  t.notMatch(page.text, /value="email"/, 'email is not offered where TOTP is required');
  const sentBefore = outboxCount(stack);
  const sneaky = await b.post('/_gateway/verify', { method: 'email', csrf: b.csrf(), rd: `${stack.url}/ptz/move?pan=10` });
  t.not(sneaky.status, 200, `switching to email is refused (${sneaky.status})`);
  t.equal(outboxCount(stack), sentBefore, 'no code was sent by email');
  await b.get(nav.location!);
  clock.advance(31_000);
  const ok = await b.post('/_gateway/verify', { code: totpCode(secret, clock.now()), csrf: b.csrf(), rd: `${stack.url}/ptz/move?pan=10` });
  t.equal(ok.status, 303);
  t.equal(ok.location, `${stack.url}/ptz/move?pan=10`);
  t.equal((await b.get('/ptz/move?pan=10')).status, 200, 'after TOTP the PTZ path is open');
  t.equal((await b.get('/cams')).status, 200);
});

void t.test('require_factor with an unknown method name is a config error at load', async (t) => {
  const { configSchema } = await import('../../src/config/schema/index.js');
  const parsed = configSchema.safeParse({ session: { secret: 's'.repeat(40) }, access: { rules: [{ paths: ['/ptz'], policy: 'two_factor', require_factor: ['passkey'] }] } });
  t.notOk(parsed.success);
  t.match(JSON.stringify(parsed.error?.issues), /require_factor/);
  t.end();
});

void t.test('credential changes on a session whose second factor is older than sensitive_action_age go through step-up first', async (t) => {
  const stack = await stackWithPtz();
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  const b = new Browser(stack.url);
  await signInByEmail(stack, b);
  await b.get('/_gateway/account');
  const csrf = b.csrf();
  clock.advance(6 * 60_000);

  const removal = await b.post('/_gateway/account/sessions/remove', { id: 'x', csrf });
  t.equal(removal.status, 303);
  t.equal(removal.location, `/_gateway/verify?step_up=1&rd=${encodeURIComponent('/_gateway/account')}`, 'a stale session is sent to step-up');
  const enrol = await b.get('/_gateway/enroll/totp');
  t.equal(enrol.status, 303);
  t.match(enrol.location ?? '', /^\/_gateway\/verify\?step_up=1&rd=%2F_gateway%2Fenroll%2Ftotp/, 'adding a method too, and back to it after');
  const codes = await b.post('/_gateway/enroll/recovery-codes', { csrf });
  t.equal(codes.status, 303);
  t.match(codes.location ?? '', /step_up=1/, 'new recovery codes too');
  t.equal((await b.get('/_gateway/account')).status, 200, 'looking at the account needs no step-up');
  t.equal((await b.get('/cams')).status, 200, 'nor does the app');

  // The step-up: a new code by email, then the change goes ahead.
  const verify = await b.get(removal.location!);
  t.equal(verify.status, 200);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/_gateway/account' });
  t.equal(done.status, 303);
  t.equal(done.location, '/_gateway/account');
  const setup = await b.get('/_gateway/enroll/totp');
  t.equal(setup.status, 200, 'fresh again: the change page opens');
});

void t.test('sensitive_action_age: 0 turns the check off', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['email', 'totp', 'recovery_code'], sensitive_action_age: 0 } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await signInByEmail(stack, b);
  (stack.clock as ManualClock).advance(60 * 60_000);
  t.equal((await b.get('/_gateway/enroll/totp')).status, 200);
});

void t.test('require_factor applies to second-factor-exempt users too: they hold none of the named methods', async (t) => {
  const stack = await startStack({
    users: { ...USERS, svc: { password: 'svc-password-1', groups: ['operators'], second_factor: { enabled: false } } },
    config: {
      second_factor: { methods: ['email', 'totp', 'recovery_code'] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/ptz', '/ptz/**'], policy: 'two_factor', require_factor: ['totp'] }] },
    },
  });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'svc', 'svc-password-1', '/');
  t.equal(posted.status, 303, 'an exempt user is signed in by the password');
  t.equal((await b.get('/cams')).status, 200, 'an ordinary path: the exemption holds');
  const nav = await b.get('/ptz/move');
  t.equal(nav.status, 302, 'a path that requires TOTP is not open to an exempt session');
  t.match(nav.location ?? '', /^\/_gateway\/verify\?step_up=1&methods=totp&/);
  const api = await b.fetch('/ptz/move', { headers: { accept: 'application/json' } });
  t.equal(api.status, 401);
  t.equal(api.json<{ error: string }>().error, 'step_up_required');
  const page = await b.get(nav.location!);
  t.equal(page.status, 403, 'no authenticator app: told so');
  t.match(page.text, /Authenticator app/);
  t.equal(stack.upstream.seen.filter((s) => s.url.startsWith('/ptz')).length, 0, 'nothing reached the PTZ upstream');
});

void t.test('require_factor offers an enrolled method of the named kind even when the operator assigned another', async (t) => {
  const stack = await startStack({
    users: USERS,
    config: {
      second_factor: { methods: ['email', 'totp', 'recovery_code'], assignments: [{ user: 'alice', method: 'email' }] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/ptz', '/ptz/**'], policy: 'two_factor', require_factor: ['totp'] }] },
    },
  });
  t.teardown(() => stack.close());
  const clock = stack.clock as ManualClock;
  // Alice holds an authenticator app (set up before the operator assigned email).
  const totp = stack.gateway.gateway.core.totp;
  const { secretBase32 } = await totp.beginEnrolment('alice', 'alice');
  t.ok(await totp.confirmEnrolment('alice', totpCode(secretBase32, clock.now())));
  const b = new Browser(stack.url);
  await signInByEmail(stack, b);
  const nav = await b.get('/ptz/move');
  t.equal(nav.status, 302);
  const page = await b.get(nav.location!);
  t.equal(page.status, 200, `the verify page offers her authenticator app (${page.status})`);
  t.notMatch(page.text, /value="email"/);
  clock.advance(31_000);
  const ok = await b.post('/_gateway/verify', { code: totpCode(secretBase32, clock.now()), csrf: b.csrf(), rd: `${stack.url}/ptz/move` });
  t.equal(ok.status, 303);
  t.equal((await b.get('/ptz/move')).status, 200, 'after TOTP the PTZ path is open');
});
