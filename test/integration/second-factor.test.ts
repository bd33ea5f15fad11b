import t, { type Test } from 'tap';
import { DEFAULT_USERS } from '../fixtures/gateway.js';
import { extractCode } from '../fixtures/smtp.js';
import { ALICE, BOB, api, browser, mailedCode, postCode, smsCode, startMailStack, toVerifyPage, type MailStack } from '../fixtures/second-factor.js';

const wrongOf = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

type Echo = { url: string; headers: Record<string, string | undefined> };

async function stackFor(t: Test, o: Parameters<typeof startMailStack>[0] = {}): Promise<MailStack> {
  const stack = await startMailStack(o);
  t.teardown(() => stack.close());
  return stack;
}

void t.test('email code over SMTP: browser sign-in reaches the upstream with Remote-User', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { assignments: [{ group: 'operators', method: 'email' }] } } });
  const b = browser(stack);
  const first = await b.get('/cameras/1');
  t.equal(first.status, 302);
  t.match(first.location, /^\/_gateway\/login\?rd=/);

  const page = await toVerifyPage(b, ALICE.user, ALICE.password, '/cameras/1');
  t.equal(page.status, 200);
  t.match(page.text, /a\*\*\*@example\.com/, 'the masked address is shown');
  const mail = await stack.smtp.waitFor(undefined, 5000);
  t.match(mail.subject, /sign-in code/);
  t.match(mail.text, /valid for 5 minutes/, 'the mail says how long the code lives');
  t.equal(stack.smtp.envelopes[0]!.to[0], ALICE.email);
  t.equal(stack.twilio.requests, 0, 'no SMS for an email user');

  const blocked = await b.get('/cameras/1');
  t.equal(blocked.status, 302, 'the password alone is not enough');
  t.match(blocked.location, /^\/_gateway\/verify/);
  t.equal(stack.upstream.seen.length, 0);

  const code = extractCode(mail);
  t.match(code, /^[0-9]{6}$/, 'six digits by default');
  const halfCookie = b.cookies.get('portcullis_session')!;
  const done = await postCode(b, code, '/cameras/1');
  t.not(b.cookies.get('portcullis_session'), halfCookie, 'a new session id with the second factor');
  t.match((await browser(stack).get('/cameras/1', { cookie: `portcullis_session=${halfCookie}` })).location, /^\/_gateway\/login/, 'the one-factor id is dead');
  t.equal(done.status, 303);
  t.equal(done.location, '/cameras/1');
  const reached = await b.get('/cameras/1');
  t.equal(reached.status, 200);
  const echo = reached.json<Echo>();
  t.equal(echo.headers['remote-user'], 'alice');
  t.equal(echo.headers['remote-email'], ALICE.email);

  // A code belongs to its sign-in: another browser's sign-in cannot use it.
  const b2 = browser(stack);
  await toVerifyPage(b2, ALICE.user, ALICE.password, '/cameras/1');
  const own = await mailedCode(stack, ALICE.email);
  const borrowed = await postCode(b2, code === own ? wrongOf(code) : code, '/cameras/1');
  t.equal(borrowed.status, 401, 'the first code does not verify the second sign-in');
  t.equal((await postCode(b2, own, '/cameras/1')).status, 303);
});

void t.test('email code through the JSON API: the token works as Bearer and is not forwarded', async (t) => {
  const stack = await stackFor(t);
  const login = await api(stack, 'login', { username: BOB.user, password: BOB.password });
  t.equal(login.status, 200);
  const body = login.json<{ status: string; flow: string; method: string; sent: { channel: string; destination: string; fell_back: boolean } }>();
  t.equal(body.status, 'second_factor_required');
  t.equal(body.method, 'email');
  t.same(body.sent, { channel: 'email', destination: 'b***@example.com', fell_back: false });
  t.notMatch(login.text, /bob@example\.com/, 'the full address is never sent to clients');

  const code = await mailedCode(stack, BOB.email);
  const wrong = await api(stack, 'verify', { flow: body.flow, code: code === '000000' ? '111111' : '000000' });
  t.equal(wrong.status, 401);
  t.match(wrong.json(), { error: 'invalid_code', attempts_left: 2 });

  const ok = await api(stack, 'verify', { flow: body.flow, code });
  t.equal(ok.status, 200);
  const { token, status } = ok.json<{ token: string; status: string }>();
  t.equal(status, 'authenticated');

  const noToken = await browser(stack).fetch('/api/things', { headers: { accept: 'application/json' } });
  t.equal(noToken.status, 401);
  const proxied = await browser(stack).fetch('/api/things', { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
  t.equal(proxied.status, 200);
  const echo = proxied.json<Echo>();
  t.equal(echo.headers['remote-user'], 'bob');
  t.equal(echo.headers.authorization, undefined, 'the gateway token is removed before forwarding');

  const session = await browser(stack).fetch('/_gateway/api/v1/session', { headers: { authorization: `Bearer ${token}` } });
  t.match(session.json(), { user: 'bob', level: 'two_factor', factors: ['password', 'email'] });
  const replay = await api(stack, 'verify', { flow: body.flow, code });
  t.equal(replay.status, 410, 'the flow ended with the right code');
});

void t.test('SMS code by per-user method and by user assignment, through Twilio', async (t) => {
  const users = {
    ...DEFAULT_USERS,
    dave: { password: 'dave-password-1', email: 'dave@example.com', phone: '+4915199990000', groups: ['operators'], second_factor: { method: 'sms' } },
  };
  const stack = await stackFor(t, { users, config: { second_factor: { assignments: [{ user: 'alice', method: 'sms' }] } } });

  for (const [user, password, phone, masked] of [
    ['dave', 'dave-password-1', '+4915199990000', /\+49[ *]+00/],
    [ALICE.user, ALICE.password, ALICE.phone, /\+49[ *]+78/],
  ] as const) {
    const b = browser(stack);
    const page = await toVerifyPage(b, user, password, '/live');
    t.equal(page.status, 200, `${user}: verify page`);
    t.match(page.text, masked, `${user}: masked phone shown`);
    t.notMatch(page.text, phone, `${user}: full number not shown`);
    const msg = stack.twilio.messages.find((m) => m.to === phone);
    t.ok(msg, `${user}: the SMS reached Twilio`);
    t.equal(msg?.from, '+15005550006');
    const done = await postCode(b, smsCode(stack, phone), '/live');
    t.equal(done.status, 303, `${user}: the SMS code signs in`);
    const reached = await b.get('/live');
    t.equal(reached.json<Echo>().headers['remote-user'], user);
  }
  t.equal(stack.smtp.messages.length, 0, 'no mail for SMS users');

  const viaApi = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  t.match(viaApi.json(), { status: 'second_factor_required', method: 'sms', sent: { channel: 'sms', fell_back: false } });
  const verified = await api(stack, 'verify', { flow: viaApi.json<{ flow: string }>().flow, code: smsCode(stack, ALICE.phone) });
  t.equal(verified.status, 200);
});

void t.test('group assignment picks SMS for operators, email for the others; per-user method beats it', async (t) => {
  const users = {
    ...DEFAULT_USERS,
    erin: { password: 'erin-password-1', email: 'erin@example.com', phone: '+4915100001111', groups: ['operators'], second_factor: { method: 'email' } },
  };
  const stack = await stackFor(t, { users, config: { second_factor: { assignments: [{ group: 'operators', method: 'sms' }] } } });
  const method = async (username: string, password: string) => {
    const res = await api(stack, 'login', { username, password });
    return res.json<{ method: string; methods: Array<{ type: string }>; sent?: { channel: string } }>();
  };
  const alice = await method(ALICE.user, ALICE.password);
  t.equal(alice.method, 'sms', 'alice (operators) gets SMS');
  t.equal(alice.sent?.channel, 'sms');
  t.notOk(alice.methods.some((m) => m.type === 'email'), 'an assignment is exclusive');
  const bob = await method(BOB.user, BOB.password);
  t.equal(bob.method, 'email', 'bob (admins) gets the default, email');
  const erin = await method('erin', 'erin-password-1');
  t.equal(erin.method, 'email', 'erin is an operator but her own method wins');
  t.equal(erin.sent?.channel, 'email');
  await mailedCode(stack, 'bob@example.com');
  await mailedCode(stack, 'erin@example.com');
  t.equal(stack.twilio.messages.length, 1, 'one SMS: alice');
});

void t.test('policy required: a user without any method is taken to enrolment, not upstream', async (t) => {
  const users = { ...DEFAULT_USERS, frank: { password: 'frank-password-1', groups: ['operators'] } };
  const stack = await stackFor(t, { users, config: { second_factor: { policy: 'required' } } });
  const b = browser(stack);
  await b.get('/_gateway/login?rd=%2Fcameras');
  const posted = await b.post('/_gateway/login', { username: 'frank', password: 'frank-password-1', csrf: b.csrf(), rd: '/cameras' });
  t.equal(posted.status, 303);
  t.match(posted.location, /^\/_gateway\/enroll/, 'after the password: the enrolment pages');
  t.ok(b.cookies.has('portcullis_session'), 'a one-factor session for the enrolment');
  const upstream = await b.get('/cameras');
  t.equal(upstream.status, 302, 'the protected upstream is not reachable');
  t.notMatch(upstream.location, /^\/cameras/);
  const json = await b.fetch('/cameras', { headers: { accept: 'application/json' } });
  t.equal(json.status, 401);
  t.equal(stack.upstream.seen.length, 0, 'nothing reached the upstream');
  t.equal(stack.smtp.messages.length + stack.twilio.messages.length, 0, 'nothing to send a code to');

  const viaApi = await api(stack, 'login', { username: 'frank', password: 'frank-password-1' });
  t.equal(viaApi.status, 403);
  t.match(viaApi.json(), { error: 'enrollment_required' });
  t.ok(stack.logs.audits('enrolment_required').some((l) => l.user === 'frank'));
});

void t.test('who needs a code: exempt users, policy optional and off', async (t) => {
  const exempt = await stackFor(t);
  const svc = browser(exempt);
  await svc.get('/_gateway/login?rd=%2Fcams');
  const straight = await svc.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: svc.csrf(), rd: '/cams' });
  t.equal(straight.location, '/cams', 'second_factor {enabled: false}: password only');
  t.equal((await svc.get('/cams')).status, 200);

  const optional = await stackFor(t, { config: { second_factor: { policy: 'optional', assignments: [{ group: 'operators', method: 'email' }] } } });
  const bob = await api(optional, 'login', { username: BOB.user, password: BOB.password });
  t.match(bob.json(), { status: 'authenticated' }, 'optional: a user who did not opt in signs in with the password');
  const alice = await api(optional, 'login', { username: ALICE.user, password: ALICE.password });
  t.match(alice.json(), { status: 'second_factor_required', method: 'email' }, 'optional: an operator assignment still requires it');
  await mailedCode(optional, ALICE.email);

  const off = await stackFor(t, { config: { second_factor: { policy: 'off', assignments: [{ group: 'operators', method: 'sms' }] } } });
  t.match((await api(off, 'login', { username: ALICE.user, password: ALICE.password })).json(), { status: 'authenticated' }, 'off: nobody is asked');
  t.equal(off.twilio.requests + off.smtp.messages.length, 0);
});

void t.test('an assigned method the user cannot receive leads to enrolment of that method', async (t) => {
  const users = { ...DEFAULT_USERS, gina: { password: 'gina-password-1', email: 'gina@example.com', groups: ['operators'] } };
  const stack = await stackFor(t, { users, config: { second_factor: { assignments: [{ group: 'operators', method: 'sms' }] } } });
  const res = await api(stack, 'login', { username: 'gina', password: 'gina-password-1' });
  t.equal(res.status, 403);
  t.match(res.json(), { error: 'enrollment_required', method: 'sms' }, 'no phone: enrol one, no silent switch to email');
  t.equal(stack.smtp.messages.length, 0);
  const b = browser(stack);
  await b.get('/_gateway/login');
  const posted = await b.post('/_gateway/login', { username: 'gina', password: 'gina-password-1', csrf: b.csrf(), rd: '/' });
  t.match(posted.location, /^\/_gateway\/enroll/);
  t.equal((await b.get('/')).status, 302);
});

void t.test('the code mail and SMS speak the language of the browser', async (t) => {
  const stack = await stackFor(t, { config: { second_factor: { assignments: [{ user: 'alice', method: 'sms' }] } } });
  const res = await api(stack, 'login', { username: BOB.user, password: BOB.password }, { 'accept-language': 'de-DE,de;q=0.9' });
  t.equal(res.status, 200);
  const mail = await stack.smtp.waitFor(undefined, 5000);
  t.match(mail.subject, /Anmeldecode/);
  t.match(mail.from?.text, /no-reply@example\.com/);
  t.match(extractCode(mail), /^[0-9]{6}$/);
  await api(stack, 'login', { username: ALICE.user, password: ALICE.password }, { 'accept-language': 'fr' });
  const sms = stack.twilio.messages.at(-1)!;
  t.equal(sms.to, ALICE.phone);
  t.notMatch(sms.body, /is your/, 'the SMS is not in English');
  t.match(sms.body, /[0-9]{6}/);
});

void t.test('the user switches from the emailed code to an SMS on the verify page', async (t) => {
  const stack = await stackFor(t);
  const b = browser(stack);
  const page = await toVerifyPage(b, ALICE.user, ALICE.password, '/cams');
  t.match(page.text, /Send a code by text message/, 'SMS is offered as another way');
  await mailedCode(stack, ALICE.email);
  const switched = await b.postFollow('/_gateway/verify', { method: 'sms', csrf: b.csrf(), rd: '/cams' });
  t.equal(switched.status, 200);
  t.match(switched.text, /by text message to/);
  t.match(switched.text, /A code was sent to <strong class="nowrap">\+49/, 'the switch says where the code went');
  t.equal(stack.twilio.messages.length, 1);
  const done = await postCode(b, smsCode(stack, ALICE.phone), '/cams');
  t.equal(done.status, 303);
  t.equal((await b.get('/cams')).json<Echo>().headers['remote-user'], 'alice');
  const unknown = await toVerifyPage(browser(stack), BOB.user, BOB.password, '/cams');
  t.notMatch(unknown.text, /text message/, 'no SMS choice for a user without a phone');
});
