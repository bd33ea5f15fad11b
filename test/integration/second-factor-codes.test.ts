import t from 'tap';
import { ALICE, BOB, advance, api, browser, mailedCode, postCode, toVerifyPage, type MailStack, stackFor } from '../fixtures/second-factor.js';

type LoginBody = { flow: string; status: string; method: string };

async function apiLogin(stack: MailStack, user: string, password: string): Promise<LoginBody> {
  const res = await api(stack, 'login', { username: user, password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return res.json<LoginBody>();
}

/** A wrong code of the same shape as `code`. */
function wrong(code: string, i = 0): string {
  const alt = (Number.parseInt(code, 10) + 1 + i) % 10 ** code.length;
  return String(alt).padStart(code.length, '0');
}

void t.test('an expired code answers 410; a new code by resend works', async (t) => {
  const stack = await stackFor(t);
  const b = browser(stack);
  await toVerifyPage(b, BOB.user, BOB.password, '/x');
  const code = await mailedCode(stack, BOB.email);
  advance(stack, 5 * 60_000 + 1000);
  const late = await postCode(b, code, '/x');
  t.equal(late.status, 410, 'the browser gets 410');
  t.match(late.text, /That code has expired/);
  t.equal((await b.get('/x')).status, 302, 'no access');

  const resent = await b.postFollow('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/x' });
  t.equal(resent.status, 200);
  t.match(resent.text, /We sent/);
  t.match(resent.text, /A new code was sent to <strong class="nowrap">b\*\*\*@example\.com<\/strong>/, 'a resend that worked says so');
  const fresh = await mailedCode(stack, BOB.email);
  const done = await postCode(b, fresh, '/x');
  t.equal(done.status, 303);
  t.equal(done.location, '/x');

  const flow = await apiLogin(stack, BOB.user, BOB.password);
  const apiCode = await mailedCode(stack, BOB.email);
  advance(stack, 5 * 60_000);
  const expired = await api(stack, 'verify', { flow: flow.flow, code: apiCode });
  t.equal(expired.status, 410);
  t.match(expired.json(), { error: 'code_expired' });
  const again = await api(stack, 'resend', { flow: flow.flow });
  t.equal(again.status, 202);
  t.match(again.json(), { sent: true, channel: 'email', destination: 'b***@example.com' });
  const ok = await api(stack, 'verify', { flow: flow.flow, code: await mailedCode(stack, BOB.email) });
  t.equal(ok.status, 200);
  t.ok(stack.logs.audits('second_factor').some((l) => l.reason === 'code_expired' && l.user === 'bob'), 'expiry is audited');
});

void t.test('three wrong codes kill the code: even the right one then fails, a new one works', async (t) => {
  const stack = await stackFor(t);
  const b = browser(stack);
  await toVerifyPage(b, BOB.user, BOB.password, '/x');
  const code = await mailedCode(stack, BOB.email);
  const first = await postCode(b, wrong(code, 0), '/x');
  t.equal(first.status, 401);
  t.match(first.text, /That code is not correct\. 2 attempts left with this code\./, 'the code runs out before the lockout (4): said so');
  t.equal((await postCode(b, wrong(code, 1), '/x')).status, 401);
  const third = await postCode(b, wrong(code, 2), '/x');
  t.equal(third.status, 401);
  t.match(third.text, /this code cannot be used again\. Send a new code\./);
  const right = await postCode(b, code, '/x');
  t.equal(right.status, 410, 'the right code no longer works');
  t.match(right.text, /Too many wrong attempts for this code/);
  t.equal((await b.get('/x')).status, 302);

  advance(stack, 31_000);
  await b.post('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/x' });
  const fresh = await mailedCode(stack, BOB.email);
  t.not(fresh, code);
  const done = await postCode(b, fresh, '/x');
  t.equal(done.status, 303, 'a new code works');

  const flow = await apiLogin(stack, BOB.user, BOB.password);
  const apiCode = await mailedCode(stack, BOB.email);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push((await api(stack, 'verify', { flow: flow.flow, code: wrong(apiCode, i) })).json());
  t.match(answers, [{ error: 'invalid_code', attempts_left: 2 }, { error: 'invalid_code', attempts_left: 1 }, { error: 'invalid_code', attempts_left: 0 }]);
  const dead = await api(stack, 'verify', { flow: flow.flow, code: apiCode });
  t.equal(dead.status, 410);
  t.match(dead.json(), { error: 'code_expired', reason: 'too_many_attempts' });
});

void t.test('resend cooldown: 429 with Retry-After before resend_after, sent after', async (t) => {
  const stack = await stackFor(t);
  const flow = await apiLogin(stack, BOB.user, BOB.password);
  const first = await mailedCode(stack, BOB.email);
  advance(stack, 10_000);
  const early = await api(stack, 'resend', { flow: flow.flow });
  t.equal(early.status, 429);
  t.equal(early.headers['retry-after'], '20');
  t.match(early.json(), { error: 'rate_limited', retry_after: 20 });
  advance(stack, 20_000);
  const later = await api(stack, 'resend', { flow: flow.flow });
  t.equal(later.status, 202);
  t.match(later.json(), { sent: true });
  const second = await mailedCode(stack, BOB.email);
  t.equal(stack.smtp.messages.length, 2, 'exactly two mails');
  const old = await api(stack, 'verify', { flow: flow.flow, code: first === second ? wrong(first) : first });
  t.equal(old.status, 401, 'the earlier code is replaced');

  const b = browser(stack);
  await toVerifyPage(b, BOB.user, BOB.password, '/x');
  await mailedCode(stack, BOB.email);
  const posted = await b.post('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/x' });
  t.equal(posted.status, 303, 'post/redirect/get');
  const page = await b.get(posted.location!);
  t.equal(page.status, 200);
  t.match(page.text, /A new code can be sent in 30 seconds\. The last one is still valid\./, 'a wait, not an error: the user made no attempt');
  t.notMatch(page.text, /Too many attempts|alert--error/);
  t.match(page.text, /data-countdown="30"/, 'the button counts down');
  advance(stack, 30_000);
  const ok = await b.postFollow('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/x' });
  t.equal(ok.status, 200);
  t.match(ok.text, /A new code was sent to/);
  t.notMatch(ok.text, /data-countdown="(?!30")/, 'a new cooldown starts');
  t.equal((await postCode(b, await mailedCode(stack, BOB.email), '/x')).status, 303);
});

void t.test('100 parallel guesses against one flow: at most max_attempts comparisons', async (t) => {
  const stack = await stackFor(t);
  const flow = await apiLogin(stack, ALICE.user, ALICE.password);
  const code = await mailedCode(stack, ALICE.email);
  const guesses = Array.from({ length: 100 }, (_, i) => wrong(code, i));
  const answers = await Promise.all(guesses.map(async (g) => {
    const res = await api(stack, 'verify', { flow: flow.flow, code: g });
    return { status: res.status, error: res.json<{ error: string }>().error };
  }));
  const invalid = answers.filter((a) => a.error === 'invalid_code');
  t.ok(invalid.length <= 3, `invalid_code answers (${invalid.length}) never exceed max_attempts`);
  t.equal(invalid.length, 3, 'exactly max_attempts comparisons were made');
  t.ok(invalid.every((a) => a.status === 401));
  const rest = answers.filter((a) => a.error !== 'invalid_code');
  t.ok(rest.every((a) => (a.status === 410 && a.error === 'code_expired') || (a.status === 423 && a.error === 'locked')), 'the rest are code_expired or locked');
  t.equal(answers.filter((a) => a.status === 200).length, 0);
  const right = await api(stack, 'verify', { flow: flow.flow, code });
  t.equal(right.status, 410, 'the right code afterwards does not work');
  t.equal(stack.logs.audits('second_factor').filter((l) => l.reason === 'invalid_code').length, 3, 'three failures audited');
});

const SHAPES = [
  { length: 4, charset: 'digits', re: /^[0-9]{4}$/ },
  { length: 6, charset: 'alphanumeric', re: /^[A-HJKMNP-Z2-9]{6}$/ },
  { length: 7, charset: 'letters', re: /^[A-HJKMNP-Z]{7}$/ },
  { length: 8, charset: 'alphanumeric_mixed_case', re: /^[A-HJKMNP-Za-kmnp-z2-9]{8}$/ },
] as const;

for (const shape of SHAPES) {
  void t.test(`codes of ${shape.length} ${shape.charset}: mailed in that shape, and they verify`, async (t) => {
    const stack = await stackFor(t, { config: { second_factor: { code: { length: shape.length, charset: shape.charset } } } });
    const b = browser(stack);
    const page = await toVerifyPage(b, BOB.user, BOB.password, '/x');
    t.match(page.text, new RegExp(`maxlength="${shape.length}"`), 'the input expects that length');
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        advance(stack, 31_000);
        await b.post('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/x' });
      }
      codes.push(await mailedCode(stack, BOB.email));
    }
    for (const c of codes) t.match(c, shape.re, `${c} has the shape`);
    const last = codes[2]!;
    let typed = last;
    if (shape.charset === 'letters' || shape.charset === 'alphanumeric') typed = `${last.slice(0, 3).toLowerCase()} ${last.slice(3)}`;
    if (shape.charset === 'alphanumeric_mixed_case' && /[A-Za-z]/.test(last)) {
      const swapped = [...last].map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())).join('');
      t.equal((await postCode(b, swapped, '/x')).status, 401, 'mixed case codes are case-sensitive');
    }
    const done = await postCode(b, typed, '/x');
    t.equal(done.status, 303, `the code verifies (typed as ${JSON.stringify(typed)})`);
    t.equal((await b.get('/x')).status, 200);
  });
}

void t.test('the right code sent twice in parallel makes one session', async (t) => {
  const stack = await stackFor(t);
  const flow = await apiLogin(stack, BOB.user, BOB.password);
  const code = await mailedCode(stack, BOB.email);
  const answers = await Promise.all(Array.from({ length: 5 }, () => api(stack, 'verify', { flow: flow.flow, code })));
  t.equal(answers.filter((a) => a.status === 200).length, 1, 'one winner');
  t.ok(answers.filter((a) => a.status !== 200).every((a) => a.status === 410), 'the others find the code used');
});

void t.test('bad input at the code step', async (t) => {
  const stack = await stackFor(t);
  const flow = await apiLogin(stack, BOB.user, BOB.password);
  const code = await mailedCode(stack, BOB.email);
  t.equal((await api(stack, 'verify', { flow: flow.flow })).status, 400, 'no code');
  t.equal((await api(stack, 'verify', { flow: flow.flow, code: 123456 })).status, 400, 'a number is not a code');
  t.equal((await api(stack, 'verify', { flow: flow.flow, code: 'x'.repeat(65) })).status, 400, 'an overlong code');
  t.equal((await api(stack, 'verify', { flow: flow.flow, code, method: 'carrier-pigeon' })).status, 400, 'an unknown method');
  t.equal((await api(stack, 'verify', { flow: flow.flow, code, method: 'sms' })).status, 400, 'a method the flow does not offer');
  t.equal((await api(stack, 'verify', { flow: 'not-a-flow', code })).status, 410, 'an unknown flow');
  t.equal((await api(stack, 'verify', { flow: { $ne: null }, code })).status, 410, 'a non-string flow');
  const text = await browser(stack).fetch('/_gateway/api/v1/verify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ flow: flow.flow, code }) });
  t.ok(text.status >= 400 && text.status < 500, 'JSON only');
  const ok = await api(stack, 'verify', { flow: flow.flow, code: ` ${code.slice(0, 3)}-${code.slice(3)} ` });
  t.equal(ok.status, 200, 'spaces and a dash in a typed code are forgiven, and bad input used no attempt');
});
