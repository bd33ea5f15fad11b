import t from 'tap';
import { describeDevice } from '../../src/auth/request.js';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import { outboxCode, passwordStep, shownSecret, totpCode } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

async function signIn(stack: Stack, b: Browser, remember = false): Promise<void> {
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  await b.get(posted.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/', ...(remember ? { remember_device: '1' } : {}) });
  if (done.location !== '/') throw new Error(`sign-in failed: ${done.status}`);
}

async function apiRemembered(stack: Stack, userAgent: string, deviceName?: string): Promise<void> {
  const api = new Browser(stack.url, { 'user-agent': userAgent });
  const login = await api.json('/_gateway/api/v1/login', { username: 'alice', password: 'alice-password-1' });
  const flow = login.json<{ flow: string }>().flow;
  const verified = await api.json('/_gateway/api/v1/verify', { flow, code: outboxCode(stack, 'alice@example.com'), remember_device: true, ...(deviceName ? { device_name: deviceName } : {}) });
  if (verified.status !== 200) throw new Error(`api verify: ${verified.status}`);
}

void t.test('a device remembered through the JSON API shows the client’s name, never "Browser"', async (t) => {
  t.equal(describeDevice('VMSMobile/2.4 (iPhone; iOS 17.5)'), 'VMSMobile/2.4 on iOS');
  t.equal(describeDevice('okhttp/4.12.0'), 'okhttp/4.12.0');
  t.equal(describeDevice(FIREFOX), 'Firefox on Linux');
  t.equal(describeDevice(''), 'Unknown device');
  t.equal(describeDevice('Mozilla/5.0 (Linux)'), 'Browser on Linux');
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  await apiRemembered(stack, 'VMSMobile/2.4 (iPhone; iOS 17.5)', 'Alice’s phone');
  await apiRemembered(stack, 'VMSMobile/2.4 (iPhone; iOS 17.5)');
  const b = new Browser(stack.url, { 'user-agent': FIREFOX });
  await signIn(stack, b);
  const page = await b.get('/_gateway/account');
  t.match(page.text, /<span class="row__title">Alice’s phone<\/span>/, 'the device_name the app sent');
  t.match(page.text, /<span class="row__title">VMSMobile\/2\.4 on iOS<\/span>/, 'else its User-Agent');
  t.notMatch(page.text, /row__title">Browser</);
});

void t.test('sessions: a half-finished sign-in elsewhere is not listed; this session first; what tells them apart; named End session buttons', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const other = new Browser(stack.url, { 'user-agent': CHROME_MAC });
  await signIn(stack, other);
  const b = new Browser(stack.url, { 'user-agent': FIREFOX });
  await signIn(stack, b);
  const half = new Browser(stack.url, { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/126.0' });
  await passwordStep(half, 'alice', 'alice-password-1');

  const page = await b.get('/_gateway/account');
  const list = /<section class="panel" aria-labelledby="sessions-title">([\s\S]*?)<\/section>/.exec(page.text)?.[1] ?? '';
  const rows = [...list.matchAll(/<li class="row">([\s\S]*?)<\/li>/g)].map((m) => m[1]!);
  t.equal(rows.length, 2, 'two sessions: the password-only browser is not one of the user’s sessions');
  t.notMatch(list, /Edge|Windows/, 'the half-signed-in browser is not shown');
  t.match(rows[0], /Firefox · Linux <span class="badge">This session<\/span>/, 'this session first');
  t.notMatch(rows[0], /End session/, 'this session is ended by signing out');
  t.match(rows[1], /Chrome · macOS/);
  t.match(rows[1], /127\.0\.0\.1 · Second step: Email code/, 'address and sign-in method');
  t.match(rows[1], /Signed in <time datetime="[^"]+">[^<]+<\/time> · last seen <time/, 'signed in and last seen');
  t.match(rows[1], /<button class="button button--small button--danger" type="submit" aria-label="End session: Chrome · macOS, 127\.0\.0\.1">End session<\/button>/, 'the button’s accessible name says which session');
});

void t.test('sign out everywhere: a page that asks (without JavaScript), then a result that says what happened', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const phone = new Browser(stack.url, { 'user-agent': CHROME_MAC });
  await signIn(stack, phone, true);
  const b = new Browser(stack.url, { 'user-agent': FIREFOX });
  await signIn(stack, b, true);

  const account = await b.get('/_gateway/account');
  t.match(account.text, /<a class="button button--danger" href="\/_gateway\/logout\?everywhere=1" data-dialog="confirm-everywhere">Sign out everywhere<\/a>/, 'a link to the question; the dialog with JavaScript');
  t.match(account.text, /<dialog id="confirm-everywhere"[\s\S]*<form method="post" action="\/_gateway\/logout\?everywhere=1"/);
  const ask = await b.get('/_gateway/logout?everywhere=1');
  t.equal(ask.status, 200);
  t.match(ask.text, /<h1 class="title">Sign out everywhere\?<\/h1>/);
  t.match(ask.text, /forgets all trusted devices/);
  t.match(ask.text, /<a href="\/_gateway\/account">Cancel<\/a>/);
  t.equal((await b.get('/_gateway/account')).status, 200, 'asking signed nobody out');

  const out = await b.post('/_gateway/logout?everywhere=1', { csrf: b.csrf() });
  t.equal(out.status, 303);
  t.equal(out.location, '/_gateway/login?notice=signed_out_everywhere&sessions=2&devices=2');
  const told = await b.get(out.location!);
  t.match(told.text, /You were signed out everywhere: 2 sessions were ended\. 2 trusted devices were forgotten\./);
  t.equal((await phone.get('/_gateway/account')).status, 303, 'the other browser is signed out too');
  t.match((await new Browser(stack.url).get('/_gateway/login?notice=signed_out_everywhere&sessions=<b>&devices=1')).text, /0 sessions were ended\. 1 trusted device was forgotten\./, 'only small numbers are shown');

  const one = new Browser(stack.url);
  await signIn(stack, one);
  const single = await one.get('/_gateway/logout');
  t.match(single.text, /<h1 class="title">Sign out\?<\/h1>/);
  t.match(single.text, /<form method="post" action="\/_gateway\/logout"/);
  t.match(single.text, /<a href="\/">Cancel<\/a>/);
});

void t.test('new recovery codes: a page that asks (without JavaScript), and the result says the old ones stopped working', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['email', 'totp', 'recovery_code'] } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await signIn(stack, b);
  const totp = await b.get('/_gateway/enroll/totp');
  await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(shownSecret(totp.text), stack.clock.now()), csrf: b.csrf(), rd: '/' });

  const account = await b.get('/_gateway/account');
  t.match(account.text, /<a class="button button--small" href="\/_gateway\/enroll\/recovery-codes" data-dialog="confirm-recovery-codes">Create new recovery codes<\/a>/);
  const ask = await b.get('/_gateway/enroll/recovery-codes');
  t.equal(ask.status, 200);
  t.match(ask.text, /Create new recovery codes\?/);
  t.match(ask.text, /Your current set has 10 unused codes\./);
  const made = await b.post('/_gateway/enroll/recovery-codes', { csrf: b.csrf() });
  t.equal(made.status, 200);
  t.match(made.text, /alert--success[^>]*>New recovery codes were created\. The old ones no longer work\./);
});

void t.test('authenticator app: the account page offers to replace it, the set-up page warns and can be cancelled', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['email', 'totp', 'recovery_code'] } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  await signIn(stack, b);
  t.match((await b.get('/_gateway/account')).text, />Set up an authenticator app</);
  const first = await b.get('/_gateway/enroll/totp');
  t.notMatch(first.text, /already have an authenticator app/);
  t.match(first.text, /<a class="button button--block" href="otpauth:\/\/totp\/[^"]+">Open in authenticator app<\/a>/, 'a tappable otpauth:// link');
  t.match(first.text, /<p class="card__foot"><a href="\/_gateway\/account">Cancel<\/a><\/p>/);
  await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(shownSecret(first.text), stack.clock.now()), csrf: b.csrf(), rd: '/' });
  const account = await b.get('/_gateway/account');
  t.match(account.text, /href="\/_gateway\/enroll\/totp">Replace authenticator app</);
  const again = await b.get('/_gateway/enroll/totp');
  t.match(again.text, /<h1 class="title">Replace your authenticator app<\/h1>/);
  t.match(again.text, /alert--warning[^>]*>You already have an authenticator app set up\. Once you finish here, the codes from the old app stop working\./);
});

void t.test('the dev outbox: a page (newest first, the code large) for browsers, JSON for scripts', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url, { 'accept-language': 'de' });
  await passwordStep(b, 'alice', 'alice-password-1');
  const firstCode = outboxCode(stack, 'alice@example.com');
  await passwordStep(new Browser(stack.url), 'alice', 'alice-password-1');
  const secondCode = outboxCode(stack, 'alice@example.com');
  const page = await b.get('/_gateway/dev/outbox');
  t.equal(page.status, 200);
  t.match(page.text, /<html lang="de"[\s\S]*<h1 class="title">Entwicklungs-Postausgang<\/h1>/);
  const shown = [...page.text.matchAll(/<p class="outbox__code">[^<]*<span class="visually-hidden">Code: <\/span><code>(\w+)<\/code>/g)].map((m) => m[1]);
  t.same(shown, [secondCode, firstCode], 'newest first, each code large');
  const json = await b.fetch('/_gateway/dev/outbox', { headers: { accept: 'application/json' } });
  t.match(json.json(), { messages: [{ to: 'alice@example.com', code: firstCode }, { code: secondCode }] });
  const curl = await b.fetch('/_gateway/dev/outbox', { headers: { accept: '*/*' } });
  t.match(curl.headers['content-type'], /^application\/json/, 'curl’s */* gets JSON (scripts/curl-demo.sh)');
  const off = await startStack({ users: USERS, demo: false });
  t.teardown(() => off.close());
  t.equal((await new Browser(off.url).get('/_gateway/dev/outbox')).status, 404, 'only in demo mode');
});

void t.test('a password-only session cannot sign the user out everywhere', async (t) => {
  const stack = await startStack({ users: USERS });
  t.teardown(() => stack.close());
  const signedIn = new Browser(stack.url);
  await signIn(stack, signedIn);
  const half = new Browser(stack.url);
  const login = await passwordStep(half, 'alice', 'alice-password-1', '/');
  t.equal(login.status, 303);
  await half.get(login.location!);
  const out = await half.post('/_gateway/logout?everywhere=1', { csrf: half.csrf() });
  t.equal(out.location, '/_gateway/login?notice=logged_out', 'only this half-signed-in browser is signed out');
  t.equal((await signedIn.get('/_gateway/account')).status, 200, 'the signed-in browser keeps its session');
  t.ok(stack.logs.audits('logout').some((l) => l.reason === 'everywhere_needs_second_factor'));
});
