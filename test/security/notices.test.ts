/**
 * Issue 17 (Partial), the user-facing half: the lockout email says when, from which address and which
 * browser or app; and when SMTP refuses a code, the portal says one clear thing ("We could not send the
 * code") and lets the user ask again at once (no cooldown for a code that never left).
 */
import t from 'tap';
import { extractCode } from '../fixtures/smtp.js';
import { ALICE, BOB, api, browser, isLockedMail, mailedCode, postCode, postPassword, stackFor } from '../fixtures/second-factor.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

void t.test('the lockout email says when, from which address and which browser', async (t) => {
  for (const [lang, when, from, browserWord] of [
    ['en', /When: \d{4}-\d\d-\d\d \d\d:\d\d UTC\./, /From the address 127\.0\.0\.1\./, /Browser or app: Firefox on Linux\./],
    ['de', /Wann: \d{4}-\d\d-\d\d \d\d:\d\d UTC\./, /Von der Adresse 127\.0\.0\.1\./, /Browser oder App: Firefox on Linux\./],
  ] as const) {
    await t.test(lang, async (t) => {
      const stack = await stackFor(t, { config: { second_factor: { code: { max_attempts: 10 }, lockout: { max_failures: 2 } } } });
      const headers = { 'user-agent': FIREFOX, 'accept-language': lang };
      const login = await api(stack, 'login', { username: ALICE.user, password: ALICE.password }, headers);
      const flow = login.json<{ flow: string }>().flow;
      // The code mail is in the asked language: take the first mail, whatever its subject.
      const code = extractCode(await stack.smtp.waitFor(() => true, 5000));
      const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
      t.equal((await api(stack, 'verify', { flow, code: wrong(0) }, headers)).status, 401);
      t.equal((await api(stack, 'verify', { flow, code: wrong(1) }, headers)).status, 423, 'locked');
      const mail = await stack.smtp.waitFor((m) => isLockedMail(ALICE.email)(m) || /gesperrt/.test(m.subject ?? ''), 5000);
      t.match(mail.text, when, 'when');
      t.match(mail.text, from, 'from which address');
      t.match(mail.text, browserWord, 'which browser');
      t.match(String(mail.html), /127\.0\.0\.1/, 'the HTML part says it too');
      t.notMatch(mail.text, new RegExp(code), 'no code in the mail');
    });
  }
});

void t.test('SMTP refusing a code: one clear message, and a retry at once', async (t) => {
  const stack = await stackFor(t);
  stack.smtp.setFailing(550);
  const b = browser(stack);
  const page = await b.follow(await postPassword(b, BOB.user, BOB.password, '/cams'));
  t.equal(page.status, 502, 'the page reports the failure');
  t.match(page.text, /We could not send the code/);
  t.notMatch(page.text, /We sent|was sent to/, 'and does not also say a code was sent');
  t.notMatch(page.text, /disabled[^>]*>[^<]*\d+\s*s/i, 'no countdown on the resend button');

  // The server accepts again: no clock advanced, the resend goes out at once.
  stack.smtp.setFailing();
  const resent = await b.postFollow('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/cams' });
  t.equal(resent.status, 200, 'resend allowed at once');
  t.notMatch(resent.text, /could not send/, 'one message: the code went out');
  t.match(resent.text, /A new code was sent to/);
  t.equal((await postCode(b, await mailedCode(stack, BOB.email), '/cams')).status, 303, 'and it signs in');

  // The same through the JSON API.
  stack.smtp.setFailing(451);
  const login = await api(stack, 'login', { username: BOB.user, password: BOB.password });
  t.match(login.json(), { status: 'second_factor_required', delivery_error: 'delivery_failed' });
  t.notOk(login.json().sent, 'nothing claimed sent');
  stack.smtp.setFailing();
  const again = await api(stack, 'resend', { flow: login.json<{ flow: string }>().flow });
  t.equal(again.status, 202, 'resend at once');
  t.match(again.json(), { sent: true });
});
