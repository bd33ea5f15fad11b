import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import type { ParsedMail } from '../fixtures/smtp.js';
import { mailedCode, postCode, startMailStack, toVerifyPage, type MailStack } from '../fixtures/second-factor.js';
import { openStream, openWebSocket, startStreamingUpstream, within } from '../fixtures/streams.js';
import type { ManualClock } from '../../src/util/clock.js';

const PUBLIC = 'http://portal.test';
const ALICE = { user: 'alice', password: 'alice-password-1', email: 'alice@example.com' };
const OPS = 'ops@example.com';

const upstream = await startStreamingUpstream();
t.teardown(() => upstream.close());
const stack: MailStack = await startMailStack({
  users: { alice: { password: ALICE.password, email: ALICE.email, groups: [] } },
  config: {
    server: { listen: '127.0.0.1:0', public_url: PUBLIC },
    upstreams: [{ name: 'vms', url: upstream.url, websocket: true }],
    second_factor: { notify_operators: [OPS] },
  },
});
t.teardown(() => stack.close());
const core = stack.gateway.gateway.core;
const clock = stack.clock as ManualClock;

const to = (addr: string) => (m: ParsedMail) => JSON.stringify(m.to ?? '').includes(addr);
/** A link from the mail, pointed at the running gateway instead of the configured public_url. */
function linkIn(mail: ParsedMail, kind: 'report' | 'recover'): string {
  const m = new RegExp(`${PUBLIC.replace(/[.]/g, '\\.')}(/_gateway/${kind}/[A-Za-z0-9_.-]+)`).exec(mail.text ?? '');
  if (!m) throw new Error(`no ${kind} link in: ${mail.text ?? ''}`);
  return m[1]!;
}

/** Alice signs in with an emailed code and trusts this browser: the new-device email carries the link. */
async function signInTrusted(): Promise<{ b: Browser; reportPath: string; mail: ParsedMail }> {
  const b = new Browser(stack.url);
  await toVerifyPage(b, ALICE.user, ALICE.password);
  const done = await postCode(b, await mailedCode(stack, ALICE.email), '/', { remember_device: '1' });
  if (done.status !== 303) throw new Error(`sign-in answered ${done.status}`);
  const mail = await stack.smtp.waitFor((m) => to(ALICE.email)(m) && /New sign-in/.test(m.subject ?? ''), 5000);
  return { b, reportPath: linkIn(mail, 'report'), mail };
}

async function requestRecovery(): Promise<string> {
  const r = new Browser(stack.url);
  await r.get('/_gateway/recover');
  const asked = await r.post('/_gateway/recover', { username: ALICE.user, csrf: r.csrf() });
  if (asked.status !== 200) throw new Error(`recover answered ${asked.status}`);
  return linkIn(await stack.smtp.waitFor((m) => to(ALICE.email)(m) && /Reset your/.test(m.subject ?? ''), 5000), 'recover');
}

void t.test("the new-device email's link, after a confirmation page, shuts everything of the user", async (t) => {
  const { b, reportPath, mail } = await signInTrusted();
  t.match(mail.html || '', /<a class="portcullis-report-link" href="http:\/\/portal\.test\/_gateway\/report\//, 'the HTML mail has the link as an anchor');
  t.equal((await core.devices.list(ALICE.user)).length, 1, 'the browser is trusted');
  const headers = { cookie: b.cookieHeader() };
  const ws = await openWebSocket(stack.url, headers);
  const mjpeg = await openStream(stack.url, '/mjpeg', headers);

  // Outstanding: a code of a sign-in in progress elsewhere, and a recovery link.
  const pending = new Browser(stack.url);
  await toVerifyPage(pending, ALICE.user, ALICE.password);
  const pendingCode = await mailedCode(stack, ALICE.email);
  const recoverPath = await requestRecovery();

  // A mail scanner (or the user) opening the link changes nothing.
  const reporter = new Browser(stack.url);
  const page = await reporter.get(reportPath);
  t.equal(page.status, 200, 'GET shows the confirmation page');
  t.match(page.text, /Sign me out everywhere and lock my account/, 'with its button');
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'the token never leaks as a referrer');
  t.equal((await b.get('/x')).status, 200, 'GET did nothing: still signed in');
  t.notOk(await core.regulator.isLocked(ALICE.user), 'GET did nothing: not locked');

  // A POST without the page's CSRF token does nothing either.
  const forged = await new Browser(stack.url).post(reportPath, { csrf: 'x' });
  t.equal(forged.status, 403, 'a POST without the CSRF token is refused');
  t.equal((await b.get('/x')).status, 200, 'a forged POST did nothing');

  const done = await reporter.post(reportPath, { csrf: reporter.csrf() });
  t.equal(done.status, 200, 'the confirmed POST is done');
  t.match(done.text, /Every session was ended and your account is locked/, 'and says so');
  t.notOk(reporter.cookies.get('portcullis_session'), 'the link gives no session');

  t.equal(await within(ws.closed, 3000, 'the WebSocket'), 1008, 'the open WebSocket is closed with 1008');
  await within(mjpeg.closed, 3000, 'the MJPEG stream');
  t.pass('the open MJPEG stream is closed');
  t.equal((await b.get('/x')).status, 302, 'the session has ended');
  t.same(await core.devices.list(ALICE.user), [], 'trusted devices are forgotten');
  t.match(await core.regulator.lockInfo(ALICE.user), { reason: 'reported' }, 'the account is locked');
  const verify = await postCode(pending, pendingCode);
  t.match(verify.location ?? verify.text, /^\/_gateway\/login|Sign in/, 'the outstanding code no longer signs in: back to the sign-in');
  t.notOk((await pending.get('/x')).status === 200, 'the pending browser is not signed in');
  t.equal((await new Browser(stack.url).get(recoverPath)).status, 404, 'the outstanding recovery link is withdrawn');
  const relogin = new Browser(stack.url);
  await relogin.get('/_gateway/login');
  const refused = await relogin.post('/_gateway/login', { username: ALICE.user, password: ALICE.password, csrf: relogin.csrf(), rd: '/' });
  t.not(refused.location ?? '', '/', 'the right password does not sign in while locked');

  const audit = stack.logs.audits('account_reported').find((l) => l.result === 'success');
  t.match(audit, { user: ALICE.user, reason: 'not_me', sessions_ended: 2, devices_forgotten: 1, codes_withdrawn: 1, locked: true }, 'audited for the operator');
  const ops = await stack.smtp.waitFor(to(OPS), 5000);
  t.match(ops.subject, /alice reported activity as not theirs/, 'notify_operators is emailed');
  t.match(ops.text, /portcullis users unlock alice/, 'telling how to unlock');

  // Used twice.
  const again = await reporter.get(reportPath);
  t.equal(again.status, 410, 'a used link is gone');
  t.match(again.text, /expired, has already been used, or is not valid/, 'with a plain explanation');
  t.equal((await new Browser(stack.url).post(reportPath, { csrf: 'x' })).status, 410, 'and cannot be posted again');
  t.ok(stack.logs.audits('account_reported').some((l) => l.result === 'failure'), 'a second use is audited as a failure');
});

void t.test('completing the recovery flow lifts the lock', async (t) => {
  t.ok(await core.regulator.isLocked(ALICE.user), 'locked by the report above');
  clock.advance(60_000);
  const recoverPath = await requestRecovery();
  const r = new Browser(stack.url);
  await r.get(recoverPath);
  const reset = await r.post(recoverPath, { password: ALICE.password, csrf: r.csrf() });
  t.equal(reset.status, 200, 'the recovery link with the password works on a reported account');
  t.notOk(await core.regulator.isLocked(ALICE.user), 'the lock is lifted');
  t.ok(stack.logs.audits('account_unlocked').some((l) => l.user === ALICE.user && l.reason === 'reported' && l.method === 'recovery'), 'the unlock is audited');
  const changed = await stack.smtp.waitFor((m) => to(ALICE.email)(m) && /second factor was changed/.test(m.subject ?? ''), 5000);
  const fresh = linkIn(changed, 'report');
  t.equal((await new Browser(stack.url).get(fresh)).status, 200, 'the factor-changed email carries a report link too, and one issued after the report works');
});

void t.test('an expired link and a tampered one do nothing', async (t) => {
  await core.operator.unlock(ALICE.user);
  clock.advance(1000);
  const { b, reportPath } = await signInTrusted();
  const [body, sig] = reportPath.slice('/_gateway/report/'.length).split('.') as [string, string];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const otherUser = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), u: 'bob' })).toString('base64url');
  for (const [label, path] of [
    ['a changed signature', `/_gateway/report/${body}.${flip(sig)}`],
    ['a changed payload (another user)', `/_gateway/report/${otherUser}.${sig}`],
    ['a truncated link', `/_gateway/report/${body}.${sig.slice(0, 20)}`],
  ] as const) {
    const r = new Browser(stack.url);
    t.equal((await r.get(path)).status, 410, `${label}: GET is refused`);
    t.equal((await r.post(path, { csrf: 'x' })).status, 410, `${label}: POST is refused`);
  }
  t.equal((await new Browser(stack.url).get('/_gateway/report/not-a-token')).status, 404, 'a malformed token is not found');
  t.equal((await new Browser(stack.url).get(`/_gateway/report/${'A'.repeat(2000)}.${sig}`)).status, 404, 'an oversized token is not looked at');
  t.equal((await b.get('/x')).status, 200, 'nothing happened to the session');

  clock.advance(24 * 3_600_000 + 1000);
  const r = new Browser(stack.url);
  t.equal((await r.get(reportPath)).status, 410, 'after link_ttl (24h) the link is expired');
  t.notOk(await core.regulator.isLocked(ALICE.user), 'nothing was locked');
});
