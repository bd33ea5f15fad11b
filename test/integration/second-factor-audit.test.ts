import t from 'tap';
import { request } from 'undici';
import { ALICE, BOB, advance, api, browser, isLockedMail, mailedCode, postCode, smsCode, startMailStack, toVerifyPage } from '../fixtures/second-factor.js';

function wrong(code: string, i = 0): string {
  return String((Number.parseInt(code, 10) + 1 + i) % 10 ** code.length).padStart(code.length, '0');
}

void t.test('audit: sent, failed, expired, verified, locked — with who, where and which request; no secrets in any line', async (t) => {
  const stack = await startMailStack({ config: { second_factor: { lockout: { max_failures: 3 }, assignments: [{ user: 'alice', method: 'sms' }] } } });
  t.teardown(() => stack.close());
  const secrets: string[] = [ALICE.password, BOB.password, 'a-wrong-password-7', stack.twilio.authToken];
  t.equal((await api(stack, 'login', { username: BOB.user, password: 'a-wrong-password-7' })).status, 401);
  const responses: string[] = [];
  const codes: string[] = [];

  // bob by browser: sent, one wrong code, an expired code, then verified.
  const b = browser(stack);
  const page = await toVerifyPage(b, BOB.user, BOB.password, '/cams');
  responses.push(page.text);
  t.equal(page.status, 200);
  const c1 = await mailedCode(stack, BOB.email);
  codes.push(c1);
  // The POST's own request id is the one audited (its answer is a 303 to the page that tells).
  const bad = await b.post('/_gateway/verify', { code: wrong(c1), csrf: b.csrf(), rd: '/cams' });
  t.equal(bad.status, 303);
  const badRequestId = String(bad.headers['x-request-id']);
  const told = await b.get(bad.location!);
  t.equal(told.status, 401);
  responses.push(told.text);
  advance(stack, 5 * 60_000 + 1000);
  t.equal((await postCode(b, c1, '/cams')).status, 410);
  await b.post('/_gateway/verify/resend', { csrf: b.csrf(), rd: '/cams' });
  const c2 = await mailedCode(stack, BOB.email);
  codes.push(c2);
  const ok = await postCode(b, c2, '/cams');
  t.equal(ok.status, 303);
  const okRequestId = String(ok.headers['x-request-id']);
  t.equal((await b.get('/cams')).status, 200);
  secrets.push(b.cookies.get('portcullis_session')!, b.cookies.get('portcullis_device')!);

  // alice by the JSON API (SMS): three wrong codes lock her.
  const login = await api(stack, 'login', { username: ALICE.user, password: ALICE.password });
  responses.push(login.text);
  const flow = login.json<{ flow: string }>().flow;
  const sms = smsCode(stack, ALICE.phone);
  codes.push(sms);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push((await api(stack, 'verify', { flow, code: wrong(sms, i) })).status);
  t.same(answers, [401, 401, 423]);
  await stack.smtp.waitFor(isLockedMail(ALICE.email), 5000);
  const token = (await api(stack, 'login', { username: BOB.user, password: BOB.password })).json<{ flow: string }>();
  responses.push(JSON.stringify(token));
  const c3 = await mailedCode(stack, BOB.email);
  codes.push(c3);
  const verified = await api(stack, 'verify', { flow: token.flow, code: c3 });
  secrets.push(verified.json<{ token: string }>().token, flow, token.flow);

  const audits = stack.logs.audits();
  for (const a of audits) {
    t.equal(typeof a.event, 'string');
    t.ok(['success', 'failure', 'info'].includes(String(a.result)), `${String(a.event)}: result`);
  }
  const find = (event: string, match: Record<string, unknown>) => audits.filter((a) => a.event === event && Object.entries(match).every(([k, v]) => a[k] === v));
  const common = { client_ip: '127.0.0.1', request_id: /^[\w-]{8,}$/ };

  const sent = find('code_sent', { user: 'bob', result: 'success', method: 'email' });
  t.equal(sent.length, 3, 'each code sent to bob is audited');
  t.match(sent[0], common);
  t.ok(find('code_sent', { user: 'alice', method: 'sms', result: 'success' }).length === 1, 'the SMS too');

  const failed = find('second_factor', { user: 'bob', result: 'failure', reason: 'invalid_code' });
  t.equal(failed.length, 1);
  t.match(failed[0], { ...common, method: 'email', request_id: badRequestId });
  const expired = find('second_factor', { user: 'bob', result: 'failure', reason: 'code_expired' });
  t.equal(expired.length, 1);
  t.match(expired[0], common);
  const ok2 = find('second_factor', { user: 'bob', result: 'success' });
  t.equal(ok2.length, 2, 'verified twice (browser and API)');
  t.match(ok2[0], { ...common, method: 'email', request_id: okRequestId });
  const locked = find('account_locked', { user: 'alice' });
  t.equal(locked.length, 1);
  t.match(locked[0], { ...common, result: 'failure', reason: 'too_many_wrong_codes' });
  t.equal(find('second_factor', { user: 'alice', reason: 'invalid_code' }).length, 3, 'each wrong SMS code');

  // No code outside dev-delivery lines, no password, cookie, token or flow id anywhere.
  const lines = stack.logs.lines.map((l) => JSON.stringify(l));
  const nonDev = stack.logs.lines.filter((l) => l.dev_delivery !== true).map((l) => JSON.stringify(l));
  t.ok(lines.length >= 15, `${lines.length} log lines checked`);
  for (const code of codes) t.notOk(nonDev.some((l) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(l)), `code ${code} is in no log line`);
  for (const s of secrets) t.notOk(lines.some((l) => l.includes(s)), `secret ${s.slice(0, 4)}… is in no log line`);
  t.notOk(lines.some((l) => l.includes(ALICE.phone) || l.includes(BOB.email)), 'delivery addresses are masked in logs');
  for (const code of codes) t.notOk(responses.some((r) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(r)), 'no page or API answer carries the code');

  // The same story in the metrics.
  const res = await request(`${stack.gateway.adminUrl!}/metrics`);
  const metrics = await res.body.text();
  t.match(metrics, /portcullis_codes_sent_total\{channel="email"\} 3/);
  t.match(metrics, /portcullis_codes_sent_total\{channel="sms"\} 1/);
  t.match(metrics, /portcullis_second_factor_total\{method="email",result="success"\} 2/);
  t.match(metrics, /portcullis_second_factor_total\{method="email",result="failure"\} 1/);
  t.match(metrics, /portcullis_second_factor_total\{method="email",result="expired"\} 1/);
  t.match(metrics, /portcullis_second_factor_total\{method="sms",result="failure"\} 3/);
  t.match(metrics, /portcullis_lockouts_total 1/);
  for (const code of codes) t.notMatch(metrics, new RegExp(`(?<![0-9.])${code}(?![0-9.])`), 'no code in the metrics');
});
