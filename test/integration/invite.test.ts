/**
 * The set-password invite in the portal (seed 001): the link sets the password, signs the user in
 * without a code, once; expired, used and unknown links get a clear page.
 */
import t, { type Test } from 'tap';
import { Invites } from '../../src/auth/invites.js';
import type { ManualClock } from '../../src/util/clock.js';
import { Browser, type Response } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';

async function stackFor(t: Test): Promise<Stack> {
  const stack = await startStack();
  t.teardown(() => stack.close());
  return stack;
}

function invites(stack: Stack): Invites {
  const s = stack.gateway.gateway.core;
  return new Invites(s.store, s.keyring.atRest("invites"), s.clock);
}

async function invitePath(stack: Stack, user: string): Promise<string> {
  const { token } = await invites(stack).create(user);
  return `/_gateway/invite/${token}`;
}

/** Opens the link and submits the form. */
async function complete(b: Browser, path: string, password: string, confirm = password): Promise<Response> {
  const page = await b.get(path);
  if (page.status !== 200) return page;
  return b.post(path, { password, password_confirm: confirm, csrf: b.csrf() });
}

async function signIn(stack: Stack, username: string, password: string): Promise<Response> {
  const b = new Browser(stack.url);
  await b.get('/_gateway/login');
  return b.post('/_gateway/login', { username, password, csrf: b.csrf(), rd: '/' });
}

void t.test('the link signs in without a code, once, and the new password replaces the old', async (t) => {
  const stack = await stackFor(t);
  const path = await invitePath(stack, 'bob');
  const b = new Browser(stack.url);
  const page = await b.get(path);
  t.equal(page.status, 200);
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'the token in the URL is not leaked');
  t.match(page.text, /name="username"[^>]*value="bob"|value="bob"[^>]*readonly/);
  t.match(page.text, /minlength="8"/);

  const done = await b.post(path, { password: 'correct horse battery', password_confirm: 'correct horse battery', csrf: b.csrf() });
  t.equal(done.status, 303);
  t.equal(done.location, '/');
  const session = await b.fetch('/_gateway/api/v1/session');
  t.match(session.json(), { user: 'bob', level: 'two_factor', factors: ['password', 'invite'] });
  const app = await b.get('/cams/1');
  t.equal(app.status, 200);
  t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'bob');
  t.match(stack.logs.audits('invite'), [{ user: 'bob', result: 'success', reason: 'password_set' }]);
  t.notMatch(stack.logs.raw, /correct horse battery/, 'the password is never logged');
  t.notMatch(stack.logs.raw, new RegExp(path.split('/').pop()!), 'nor the token');

  const reused = await new Browser(stack.url).get(path);
  t.equal(reused.status, 410);
  t.match(reused.text, /expired or has already been used/);
  t.notMatch(reused.text, /name="password"/, 'no form on a used link');
  const reposted = await b.post(path, { password: 'another password!', password_confirm: 'another password!', csrf: 'x' });
  t.equal(reposted.status, 410);

  const next = await signIn(stack, 'bob', 'correct horse battery');
  t.equal(next.status, 303);
  t.match(next.location, /^\/_gateway\/verify/, 'the code is asked again at the next sign-in');
  t.equal((await signIn(stack, 'bob', 'bob-password-1')).status, 401, 'the old password is refused');
  const api = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: 'bob', password: 'correct horse battery' });
  t.match(api.json(), { status: 'second_factor_required' }, 'the JSON API sees the new password too');
});

void t.test('bad input: csrf, short and mismatched passwords keep the link usable', async (t) => {
  const stack = await stackFor(t);
  const path = await invitePath(stack, 'alice');
  const b = new Browser(stack.url);
  await b.get(path);
  const noCsrf = await b.post(path, { password: 'long enough pw', password_confirm: 'long enough pw' });
  t.equal(noCsrf.status, 403);
  t.match(noCsrf.text, /This form has expired/);
  const short = await b.post(path, { password: 'short', password_confirm: 'short', csrf: b.csrf() });
  t.equal(short.status, 400);
  t.match(short.text, /at least 8 characters/);
  const mismatch = await b.post(path, { password: 'long enough pw', password_confirm: 'long enough pX', csrf: b.csrf() });
  t.equal(mismatch.status, 400);
  t.match(mismatch.text, /do not match/);
  const otherCookie = new Browser(stack.url);
  await otherCookie.get(path);
  const crossed = await otherCookie.post(path, { password: 'long enough pw', password_confirm: 'long enough pw', csrf: b.csrf() });
  t.equal(crossed.status, 403, "another browser's token does not fit this cookie");
  const ok = await b.post(path, { password: 'long enough pw', password_confirm: 'long enough pw', csrf: b.csrf() });
  t.equal(ok.status, 303, 'the link still works after the refusals');
});

void t.test('unknown, malformed, expired and replaced links; users that cannot be invited', async (t) => {
  const stack = await stackFor(t);
  const b = new Browser(stack.url);
  t.equal((await b.get(`/_gateway/invite/${'A'.repeat(43)}`)).status, 404, 'unknown');
  t.match((await b.get(`/_gateway/invite/${'A'.repeat(43)}`)).text, /expired or has already been used/);
  t.equal((await b.get('/_gateway/invite/')).status, 404);
  t.equal((await b.get('/_gateway/invite/a/b')).status, 404);
  t.equal((await b.get('/_gateway/invite/%3Cscript%3E')).status, 404);
  t.equal((await b.fetch(`/_gateway/invite/${'A'.repeat(43)}`, { method: 'DELETE' })).status, 405);

  const expiring = await invitePath(stack, 'alice');
  (stack.clock as ManualClock).advance(7 * 24 * 3_600_000 + 1000);
  const expired = await b.get(expiring);
  t.equal(expired.status, 410, 'after users.invite_ttl (7 days by default)');
  t.equal((await complete(new Browser(stack.url), expiring, 'long enough pw')).status, 410);

  const first = await invitePath(stack, 'alice');
  const second = await invitePath(stack, 'alice');
  t.equal((await b.get(first)).status, 404, 'a new invite replaces the previous one');
  t.equal((await b.get(second)).status, 200);

  const disabled = await invitePath(stack, 'carol');
  t.equal((await b.get(disabled)).status, 410, 'a disabled user cannot use an invite');
  const gone = await invitePath(stack, 'nobody');
  t.equal((await b.get(gone)).status, 410, 'nor a user who left the users file');
});

void t.test('a locked user sets no password; two racing submissions: one wins', async (t) => {
  const stack = await stackFor(t);
  const services = stack.gateway.gateway.core;
  const path = await invitePath(stack, 'alice');
  await services.regulator.lock('alice', 'code_failures');
  const locked = await complete(new Browser(stack.url), path, 'long enough pw');
  t.equal(locked.status, 423);
  t.match(locked.text, /locked/);
  t.equal((await new Browser(stack.url).get(path)).status, 200, 'the link was not used up');
  await services.regulator.unlock('alice');

  const b = new Browser(stack.url);
  await b.get(path);
  const csrf = b.csrf();
  const form = { password: 'long enough pw', password_confirm: 'long enough pw', csrf };
  const results = await Promise.all([b.post(path, form), b.post(path, form), b.post(path, form)]);
  t.same(results.map((r) => r.status).sort(), [303, 410, 410]);
});

void t.test('completing an invite ends the other sessions and forgets trusted devices', async (t) => {
  const stack = await stackFor(t);
  const services = stack.gateway.gateway.core;
  const svc = new Browser(stack.url);
  await svc.get('/_gateway/login');
  t.equal((await svc.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: svc.csrf(), rd: '/' })).status, 303);
  t.equal((await svc.get('/x')).status, 200);
  await services.devices.trust('svc', 'some-device', { name: 'Chrome on Windows', ip: '10.0.0.9', userAgent: 'ua' });

  const path = await invitePath(stack, 'svc');
  const b = new Browser(stack.url);
  t.equal((await complete(b, path, 'a new svc password')).status, 303);
  const old = await svc.get('/x');
  t.equal(old.status, 302, 'the session opened with the old password has ended');
  t.same(await services.devices.list('svc'), []);
  t.equal((await b.get('/x')).status, 200, 'the new session works');
});
