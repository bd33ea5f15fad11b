/**
 * The JSON API (SPEC §3) end to end: email and SMS codes travelling for real (SMTP fixture, fake
 * Twilio), trusted devices by device_token, the token as Bearer on proxied requests, and every error
 * answer — each answer validated against the OpenAPI document.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type StackOptions } from '../fixtures/gateway.js';
import { apiCall, conforms } from '../fixtures/openapi.js';
import { ALICE, BOB, mailedCode, smsCode, startMailStack, type MailStack, type MailStackOptions } from '../fixtures/second-factor.js';
import type { ManualClock } from '../../src/util/clock.js';

type Echo = { url: string; headers: Record<string, string | undefined> };
type Authenticated = { status: 'authenticated'; token: string; expires_at: string; device_token?: string };
type Challenge = { status: 'second_factor_required'; flow: string; method: string; methods: Array<{ type: string; destination?: string }>; sent?: { channel: string; destination: string } };

async function mailStack(t: Test, o: MailStackOptions = {}): Promise<MailStack> {
  const stack = await startMailStack(o);
  t.teardown(() => stack.close());
  return stack;
}

async function plainStack(t: Test, o: StackOptions = {}): Promise<Stack> {
  const stack = await startStack(o);
  t.teardown(() => stack.close());
  return stack;
}

/** The code of the newest console-delivered message to `to` (dev outbox). */
function outboxCode(stack: Stack, to: string): string {
  const m = /\b([0-9]{6})\b/.exec(stack.gateway.gateway.core.delivery.outbox!.latest(to)?.text ?? '');
  if (!m) throw new Error(`no code in the outbox for ${to}`);
  return m[1]!;
}

function proxied(stack: Stack, path: string, headers: Record<string, string> = {}) {
  return new Browser(stack.url).fetch(path, { headers: { accept: 'application/json', ...headers } });
}

/** Writes raw HTTP/1.1 pieces on one connection; answers everything read until the server closes it. */
async function rawExchange(base: string, pieces: string[]): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let got = '';
  socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
  socket.on('error', () => undefined);
  for (const p of pieces) socket.write(p);
  const closed = once(socket, 'close');
  const timer = setTimeout(() => socket.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  return got;
}

const wrongCode = (code: string) => (code === '000000' ? '111111' : '000000');

void t.test('email code: login → verify with remember_device → Bearer on proxied requests → device_token skips the code → logout', async (t) => {
  const stack = await mailStack(t);
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: BOB.user, password: BOB.password });
  t.equal(login.status, 200);
  const challenge = login.json<Challenge>();
  t.match(challenge, { status: 'second_factor_required', method: 'email', sent: { channel: 'email', destination: 'b***@example.com' } });
  t.ok(challenge.methods.some((m) => m.type === 'email'));

  const code = await mailedCode(stack, BOB.email);
  const verified = await apiCall(t, stack.url, 'POST', '/verify', { flow: challenge.flow, code, remember_device: true });
  t.equal(verified.status, 200);
  const auth = verified.json<Authenticated>();
  t.equal(auth.status, 'authenticated');
  t.type(auth.device_token, 'string', 'remember_device → device_token');
  t.ok(Date.parse(auth.expires_at) > stack.clock.now());
  t.notMatch(verified.text, new RegExp(code), 'the code is not echoed');

  const session = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: `Bearer ${auth.token}` });
  t.equal(session.status, 200);
  t.match(session.json(), { user: 'bob', groups: ['admins'], email: BOB.email, level: 'two_factor', factors: ['password', 'email'] });

  const reached = await proxied(stack, '/api/cameras', { authorization: `Bearer ${auth.token}` });
  t.equal(reached.status, 200);
  const echo = reached.json<Echo>();
  t.equal(echo.headers['remote-user'], 'bob');
  t.equal(echo.headers['remote-auth-method'], 'session');
  t.equal(echo.headers.authorization, undefined, 'the token is removed before forwarding');

  // The next sign-in from this device: the password and the device_token, no code.
  const mails = stack.smtp.messages.length;
  const again = await apiCall(t, stack.url, 'POST', '/login', { username: BOB.user, password: BOB.password, device_token: auth.device_token });
  t.equal(again.status, 200);
  const second = again.json<Authenticated>();
  t.equal(second.status, 'authenticated', 'trusted device: no second factor asked');
  t.not(second.token, auth.token, 'a new session');
  t.notOk(stack.smtp.messages.slice(mails).some((m) => /sign-in code/.test(m.subject ?? '')), 'no code was sent');
  const trustedSession = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: `Bearer ${second.token}` });
  t.match(trustedSession.json(), { user: 'bob', level: 'two_factor' });
  t.ok(stack.logs.audits('second_factor').some((l) => l.user === 'bob' && l.reason === 'trusted_device'), 'audited as trusted_device');

  const forged = await apiCall(t, stack.url, 'POST', '/login', { username: BOB.user, password: BOB.password, device_token: `${auth.device_token!}x` });
  t.match(forged.json(), { status: 'second_factor_required' }, 'a tampered device_token is ignored');

  const out = await apiCall(t, stack.url, 'POST', '/logout', undefined, { authorization: `Bearer ${auth.token}` });
  t.equal(out.status, 204);
  t.equal(out.text, '');
  const after = await proxied(stack, '/api/cameras', { authorization: `Bearer ${auth.token}` });
  t.equal(after.status, 401, 'the token is revoked');
  t.match(after.json(), { error: 'unauthenticated' });
  const gone = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: `Bearer ${auth.token}` });
  t.equal(gone.status, 401);
  const twice = await apiCall(t, stack.url, 'POST', '/logout', undefined, { authorization: `Bearer ${auth.token}` });
  t.equal(twice.status, 401, 'a revoked token cannot log out again');
  const stillIn = await proxied(stack, '/api/cameras', { authorization: `Bearer ${second.token}` });
  t.equal(stillIn.status, 200, 'logout ends only this session');
  t.ok(stack.logs.audits('logout').some((l) => l.user === 'bob'));
  t.notMatch(stack.logs.raw, new RegExp(auth.token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the token is never logged');
});

void t.test('SMS code through Twilio: login → verify → device_token', async (t) => {
  const stack = await mailStack(t, { config: { second_factor: { assignments: [{ user: 'alice', method: 'sms' }] } } });
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: ALICE.user, password: ALICE.password });
  const challenge = login.json<Challenge>();
  t.match(challenge, { status: 'second_factor_required', method: 'sms', sent: { channel: 'sms' } });
  t.notMatch(login.text, ALICE.phone, 'the full number is never sent');
  const code = smsCode(stack, ALICE.phone);
  const wrong = await apiCall(t, stack.url, 'POST', '/verify', { flow: challenge.flow, code: `${code}9` });
  t.equal(wrong.status, 401);
  t.match(wrong.json(), { error: 'invalid_code', attempts_left: 2 });
  const verified = await apiCall(t, stack.url, 'POST', '/verify', { flow: challenge.flow, code, remember_device: true });
  t.equal(verified.status, 200);
  const auth = verified.json<Authenticated>();
  t.type(auth.device_token, 'string');
  const session = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: `Bearer ${auth.token}` });
  t.match(session.json(), { user: 'alice', factors: ['password', 'sms'] });

  const sms = stack.twilio.messages.length;
  const again = await apiCall(t, stack.url, 'POST', '/login', { username: ALICE.user, password: ALICE.password, device_token: auth.device_token });
  t.match(again.json(), { status: 'authenticated' });
  t.equal(stack.twilio.messages.length, sms, 'no SMS for a trusted device');
  const reached = await proxied(stack, '/x', { authorization: `Bearer ${again.json<Authenticated>().token}` });
  t.equal(reached.json<Echo>().headers['remote-user'], 'alice');

  const otherUser = await apiCall(t, stack.url, 'POST', '/login', { username: BOB.user, password: BOB.password, device_token: auth.device_token });
  t.match(otherUser.json(), { status: 'second_factor_required' }, "alice's device is not trusted for bob");
});

void t.test('a password-only user is authenticated at /login', async (t) => {
  const stack = await plainStack(t);
  const res = await apiCall(t, stack.url, 'POST', '/login', { username: 'svc', password: 'svc-password-1' });
  t.match(res.json(), { status: 'authenticated' });
  const session = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: `Bearer ${res.json<Authenticated>().token}` });
  t.match(session.json(), { user: 'svc', level: 'two_factor', factors: ['password'] });
});

void t.test('errors: invalid_credentials, rate_limited at /login (also with the right password)', async (t) => {
  const stack = await plainStack(t, { config: { regulation: { max_failures: 3 } } });
  for (const [username, password] of [['alice', 'wrong'], ['nobody', 'wrong'], ['carol', 'carol-password-1']] as const) {
    const res = await apiCall(t, stack.url, 'POST', '/login', { username, password });
    t.equal(res.status, 401, `${username}: 401`);
    t.same(Object.keys(res.json()).sort(), ['error', 'request_id']);
    t.equal(res.json().error, 'invalid_credentials', 'unknown and disabled users look like a wrong password');
  }
  for (let i = 0; i < 2; i++) await apiCall(t, stack.url, 'POST', '/login', { username: 'alice', password: 'wrong' });
  const limited = await apiCall(t, stack.url, 'POST', '/login', { username: 'alice', password: 'alice-password-1' });
  t.equal(limited.status, 429);
  const body = limited.json<{ error: string; retry_after: number }>();
  t.equal(body.error, 'rate_limited');
  t.ok(body.retry_after > 0);
  t.equal(limited.headers['retry-after'], String(body.retry_after));
  t.ok(stack.logs.audits('login').some((l) => l.user === 'alice' && l.reason === 'rate_limited'), 'audited');
});

void t.test('errors: invalid_code with attempts_left, 423 locked, then a locked user gets invalid_credentials at /login', async (t) => {
  const stack = await plainStack(t, { config: { second_factor: { lockout: { max_failures: 3 }, code: { max_attempts: 5 } } } });
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const { flow } = login.json<Challenge>();
  const code = outboxCode(stack, 'bob@example.com');
  const first = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) });
  t.match(first.json(), { error: 'invalid_code', attempts_left: 2 });
  const second = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) });
  t.match(second.json(), { error: 'invalid_code', attempts_left: 1 });
  const third = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) });
  t.equal(third.status, 423);
  t.match(third.json(), { error: 'locked' });
  const right = await apiCall(t, stack.url, 'POST', '/verify', { flow, code });
  t.equal(right.status, 423, 'even the right code does not unlock');
  const again = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  t.equal(again.status, 401, 'SPEC §6: a locked user at /login looks like a wrong password');
  t.equal(again.json().error, 'invalid_credentials');
  t.ok(stack.logs.audits('account_locked').some((l) => l.user === 'bob'));
});

void t.test('errors: code_expired (410) after the TTL, and for an unknown flow; too many wrong tries', async (t) => {
  const stack = await plainStack(t);
  const clock = stack.clock as ManualClock;
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const { flow } = login.json<Challenge>();
  const code = outboxCode(stack, 'bob@example.com');
  clock.advance(5 * 60_000 + 1000);
  const expired = await apiCall(t, stack.url, 'POST', '/verify', { flow, code });
  t.equal(expired.status, 410);
  t.equal(expired.json().error, 'code_expired');
  const unknown = await apiCall(t, stack.url, 'POST', '/verify', { flow: 'no-such-flow', code: '123456' });
  t.equal(unknown.status, 410);
  const unknownResend = await apiCall(t, stack.url, 'POST', '/resend', { flow: 'no-such-flow' });
  t.equal(unknownResend.status, 410);

  // A fresh code, three wrong tries (max_attempts 3): the code dies.
  const resent = await apiCall(t, stack.url, 'POST', '/resend', { flow });
  t.equal(resent.status, 202);
  t.match(resent.json(), { sent: true, channel: 'email', destination: 'b***@example.com', fell_back: false });
  const fresh = outboxCode(stack, 'bob@example.com');
  for (let i = 0; i < 3; i++) await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(fresh) });
  const dead = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: fresh });
  t.equal(dead.status, 410);
  t.match(dead.json(), { error: 'code_expired', reason: 'too_many_attempts' });
});

void t.test('resend: 429 with retry_after while resend_after runs, then a new code; switching method', async (t) => {
  const stack = await plainStack(t);
  const clock = stack.clock as ManualClock;
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'alice', password: 'alice-password-1' });
  const { flow } = login.json<Challenge>();
  const first = outboxCode(stack, 'alice@example.com');
  const early = await apiCall(t, stack.url, 'POST', '/resend', { flow });
  t.equal(early.status, 429);
  const body = early.json<{ retry_after: number }>();
  t.ok(body.retry_after > 0 && body.retry_after <= 30);
  t.equal(early.headers['retry-after'], String(body.retry_after));
  clock.advance(31_000);
  const later = await apiCall(t, stack.url, 'POST', '/resend', { flow });
  t.equal(later.status, 202);
  const second = outboxCode(stack, 'alice@example.com');
  const old = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: first === second ? wrongCode(second) : first });
  t.equal(old.status, 401, 'the replaced code no longer works');
  const bad = await apiCall(t, stack.url, 'POST', '/resend', { flow, method: 'fax' });
  t.equal(bad.status, 400);
  const ok = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: second });
  t.equal(ok.status, 200);
});

void t.test('session and logout without credentials: 401 with WWW-Authenticate; a cookie works too', async (t) => {
  const stack = await plainStack(t);
  const none = await apiCall(t, stack.url, 'GET', '/session');
  t.equal(none.status, 401);
  t.match(none.headers['www-authenticate'], /^Bearer/);
  t.equal(none.json().error, 'unauthenticated');
  const junk = await apiCall(t, stack.url, 'GET', '/session', undefined, { authorization: 'Bearer not.a-token' });
  t.equal(junk.status, 401);
  const out = await apiCall(t, stack.url, 'POST', '/logout');
  t.equal(out.status, 401);

  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'svc', password: 'svc-password-1' });
  const { token } = login.json<Authenticated>();
  const viaCookie = await apiCall(t, stack.url, 'GET', '/session', undefined, { cookie: `portcullis_session=${token}` });
  t.equal(viaCookie.status, 200, 'the token is also the session cookie value');
  const forged = await apiCall(t, stack.url, 'POST', '/logout', undefined, { cookie: `portcullis_session=${token}`, 'content-type': 'text/plain' });
  t.equal(forged.status, 400, 'a cookie logout that a cross-site form could send is refused');
  const still = await apiCall(t, stack.url, 'GET', '/session', undefined, { cookie: `portcullis_session=${token}` });
  t.equal(still.status, 200, 'and the session lives on');
  const outCookie = await apiCall(t, stack.url, 'POST', '/logout', {}, { cookie: `portcullis_session=${token}` });
  t.equal(outCookie.status, 204);
});

void t.test('bad requests: content type, JSON shape, oversized body, unknown route and method', async (t) => {
  const stack = await plainStack(t);
  const b = new Browser(stack.url);
  const post = (path: string, body: string, type: string) => b.fetch(`/_gateway/api/v1${path}`, { method: 'POST', headers: { 'content-type': type, accept: 'application/json' }, body });

  const form = await post('/login', 'username=alice&password=alice-password-1', 'application/x-www-form-urlencoded');
  t.equal(form.status, 400, 'a form is refused (JSON only)');
  conforms(t, '/login', 'POST', form);
  t.equal(form.json().error, 'bad_request');
  const text = await post('/verify', '{"flow":"x","code":"1"}', 'text/plain');
  t.equal(text.status, 400, 'text/plain (a cross-site "simple" request) is refused');
  conforms(t, '/verify', 'POST', text);
  const noType = await b.fetch('/_gateway/api/v1/login', { method: 'POST', body: '{}' });
  t.equal(noType.status, 400);
  conforms(t, '/login', 'POST', noType);

  for (const raw of ['{not json', '[1,2]', '"alice"', 'null', '{"username":"alice"}', '{"username":1,"password":"x"}']) {
    const res = await post('/login', raw, 'application/json');
    t.equal(res.status, 400, `400 for ${raw}`);
    conforms(t, '/login', 'POST', res);
  }
  const badMethod = await post('/verify', JSON.stringify({ flow: 'x', code: '1', method: 'carrier-pigeon' }), 'application/json');
  t.ok([400, 410].includes(badMethod.status), `verify with an unknown method: ${badMethod.status}`);
  conforms(t, '/verify', 'POST', badMethod);

  const big = await post('/login', JSON.stringify({ username: 'alice', password: 'x'.repeat(20_000) }), 'application/json');
  t.equal(big.status, 413);
  conforms(t, '/login', 'POST', big);
  t.equal(big.json().error, 'body_too_large');
  const afterBig = await apiCall(t, stack.url, 'POST', '/login', { username: 'svc', password: 'svc-password-1' });
  t.equal(afterBig.status, 200, 'the gateway still answers after a refused body');

  // A chunked body that grows past the limit: the answer closes the connection (the rest of the body
  // must never be read as the next request).
  const raw = await rawExchange(stack.url, ['POST /_gateway/api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', `4e20\r\n${'{'.repeat(20_000)}\r\n`]);
  t.match(raw, /^HTTP\/1\.1 413 /, 'chunked oversized body: 413');
  t.match(raw, /\r\nconnection: close\r\n/i, 'and the connection is closed');

  const missing = await b.fetch('/_gateway/api/v1/nope', { headers: { accept: 'application/json' } });
  t.equal(missing.status, 404);
  t.equal(missing.json().error, 'not_found');
  const wrongVerb = await b.fetch('/_gateway/api/v1/login', { headers: { accept: 'application/json' } });
  t.equal(wrongVerb.status, 405);
  t.equal(wrongVerb.headers.allow, 'POST');
  t.equal(wrongVerb.json().error, 'method_not_allowed');
});

void t.test('the gateway token is never forwarded: bypass routes, and beside a session cookie', async (t) => {
  const stack = await plainStack(t, { config: { access: { rules: [{ paths: ['/health'], policy: 'bypass' }] } } });
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'svc', password: 'svc-password-1' });
  const { token } = login.json<Authenticated>();
  const open = await proxied(stack, '/health', { authorization: `Bearer ${token}` });
  t.equal(open.status, 200);
  t.equal(open.json<Echo>().headers.authorization, undefined, 'a bypass route does not receive the token');
  const other = await apiCall(t, stack.url, 'POST', '/login', { username: 'svc', password: 'svc-password-1' });
  const both = await proxied(stack, '/app', { cookie: `portcullis_session=${other.json<Authenticated>().token}`, authorization: `Bearer ${token}` });
  t.equal(both.status, 200);
  t.equal(both.json<Echo>().headers.authorization, undefined, 'signed in by cookie: a gateway token beside it is still removed');
  const foreign = await proxied(stack, '/health', { authorization: 'Bearer upstream-own.token-value' });
  t.equal(foreign.json<Echo>().headers.authorization, 'Bearer upstream-own.token-value', "the upstream's own bearer values pass on bypass routes");
  const revoked = await apiCall(t, stack.url, 'POST', '/logout', undefined, { authorization: `Bearer ${token}` });
  t.equal(revoked.status, 204);
  const dead = await proxied(stack, '/health', { authorization: `Bearer ${token}` });
  t.equal(dead.json<Echo>().headers.authorization, undefined, 'not even a revoked gateway token');
});

void t.test('verify: 429 rate_limited once this client sent too many wrong codes', async (t) => {
  const stack = await plainStack(t, { config: { regulation: { max_failures_per_client: 2 }, second_factor: { lockout: { max_failures: 10 }, code: { max_attempts: 5 } } } });
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const { flow } = login.json<Challenge>();
  const code = outboxCode(stack, 'bob@example.com');
  for (let i = 0; i < 2; i++) t.equal((await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) })).status, 401);
  const limited = await apiCall(t, stack.url, 'POST', '/verify', { flow, code });
  t.equal(limited.status, 429);
  t.ok(limited.json<{ retry_after: number }>().retry_after > 0);
});

void t.test('a lockout ends the tokens the user already holds', async (t) => {
  const stack = await plainStack(t, { config: { second_factor: { lockout: { max_failures: 2 }, code: { max_attempts: 5 } } } });
  const first = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const ok = await apiCall(t, stack.url, 'POST', '/verify', { flow: first.json<Challenge>().flow, code: outboxCode(stack, 'bob@example.com') });
  const { token } = ok.json<Authenticated>();
  t.equal((await proxied(stack, '/x', { authorization: `Bearer ${token}` })).status, 200);
  (stack.clock as ManualClock).advance(31_000);
  const second = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const { flow } = second.json<Challenge>();
  const code = outboxCode(stack, 'bob@example.com');
  await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) });
  const locked = await apiCall(t, stack.url, 'POST', '/verify', { flow, code: wrongCode(code) });
  t.equal(locked.status, 423);
  t.equal((await proxied(stack, '/x', { authorization: `Bearer ${token}` })).status, 401, 'the earlier token is revoked');
});

void t.test('trusted devices disabled: no device_token, and a device_token does not skip the code', async (t) => {
  const stack = await plainStack(t);
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1' });
  const verified = await apiCall(t, stack.url, 'POST', '/verify', { flow: login.json<Challenge>().flow, code: outboxCode(stack, 'bob@example.com'), remember_device: true });
  const deviceToken = verified.json<Authenticated>().device_token!;
  t.type(deviceToken, 'string');

  const off = await plainStack(t, { config: { second_factor: { trusted_devices: { enabled: false } } } });
  // The same session secret: the device_token's signature is good here, but trusting is off.
  const l2 = await apiCall(t, off.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1', device_token: deviceToken });
  t.match(l2.json(), { status: 'second_factor_required' });
  const v2 = await apiCall(t, off.url, 'POST', '/verify', { flow: l2.json<Challenge>().flow, code: outboxCode(off, 'bob@example.com'), remember_device: true });
  t.equal(v2.status, 200);
  t.equal(v2.json<Authenticated>().device_token, undefined, 'no device_token when trusted devices are off');
  (off.clock as ManualClock).advance(24 * 60 * 60_000);
  const l3 = await apiCall(t, off.url, 'POST', '/login', { username: 'bob', password: 'bob-password-1', device_token: deviceToken });
  t.match(l3.json(), { status: 'second_factor_required' }, 'after the reverify grace, a code again: the device was never trusted');
});

void t.test('delivery failure: login still answers the flow with delivery_error; resend answers 502', async (t) => {
  const stack = await mailStack(t, { fallbackToEmail: false, config: { second_factor: { assignments: [{ user: 'alice', method: 'sms' }] } } });
  stack.twilio.failAll(500);
  const login = await apiCall(t, stack.url, 'POST', '/login', { username: ALICE.user, password: ALICE.password });
  t.equal(login.status, 200);
  t.match(login.json(), { status: 'second_factor_required', method: 'sms', delivery_error: 'delivery_failed' });
  t.notOk('sent' in login.json());
  (stack.clock as ManualClock).advance(31_000);
  const resend = await apiCall(t, stack.url, 'POST', '/resend', { flow: login.json<Challenge>().flow });
  t.equal(resend.status, 502);
  t.equal(resend.json().error, 'delivery_failed');
  stack.twilio.recover();
  (stack.clock as ManualClock).advance(31_000);
  const again = await apiCall(t, stack.url, 'POST', '/resend', { flow: login.json<Challenge>().flow });
  t.equal(again.status, 202);
  t.match(again.json(), { sent: true, channel: 'sms' });
});
