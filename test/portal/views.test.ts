import t from 'tap';
import {
  accountPage,
  enrollChoicePage,
  enrollDestinationPage,
  enrollTotpPage,
  enrollWebauthnPage,
  groupSecret,
  invitePage,
  loginPage,
  messagePage,
  recoverPage,
  recoveryCodesPage,
  verifyPage,
  describeUserAgent,
  type VerifyModel,
} from '../../src/portal/views/index.js';
import { QR_SVG, context, field, forms, valueOf } from './views-fixtures.js';

const ctx = context();

function byAction(page: string, action: string) {
  const f = forms(page).filter((x) => x.action === action);
  if (f.length === 0) throw new Error(`no form posting to ${action}`);
  return f;
}

void t.test('layout: document basics, own stylesheet and script, language, title', (t) => {
  const page = loginPage(context('de'), { rd: '/' });
  t.match(page, /^<!doctype html>/);
  t.match(page, /<html lang="de" dir="ltr">/);
  t.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  t.match(page, /<link rel="stylesheet" href="\/_gateway\/static\/portal\.css\?v=[\w-]+">/);
  t.match(page, /<script src="\/_gateway\/static\/portal\.js\?v=[\w-]+" defer><\/script>/);
  t.match(page, /<title>Anmelden · Video Portal<\/title>/);
  t.notMatch(page, /<script>/, 'no inline script');
  t.notMatch(page, /\sstyle=/, 'no inline style attribute');
  t.notMatch(page, /\son[a-z]+=/i, 'no inline event handler');
  t.notMatch(page, /<style/, 'no style element');
  t.end();
});

void t.test('layout: signed-in user links to the account page; anonymous pages do not', (t) => {
  t.match(loginPage(ctx, { rd: '/' }), /href="\/_gateway\/account"/);
  const anon = loginPage(context('en', { user: undefined }), { rd: '/' });
  t.notMatch(anon, /href="\/_gateway\/account"/);
  t.end();
});

void t.test('login page: form, fields, autocomplete, rd, recover link', (t) => {
  const page = loginPage(ctx, { rd: '/cams?id=1' });
  const [form] = byAction(page, '/_gateway/login');
  t.ok(form);
  t.equal(form!.method, 'post');
  t.same(form!.names.sort(), ['csrf', 'password', 'rd', 'username']);
  t.match(field(form!, 'username')!, /autocomplete="username"/);
  t.match(field(form!, 'username')!, /\sautofocus/);
  t.match(field(form!, 'password')!, /type="password"[^>]*autocomplete="current-password"/);
  t.equal(valueOf(form!, 'rd'), '/cams?id=1');
  t.equal(valueOf(form!, 'csrf'), 'tok.en');
  t.match(page, /<label for="username">Username<\/label>/);
  t.match(page, /<label for="password">Password<\/label>/);
  t.match(page, /href="\/_gateway\/recover"/);
  t.notMatch(page, /role="alert"/);
  t.end();
});

void t.test('login page: one button per identity provider keeping rd; password_form false leaves the buttons only', (t) => {
  const providers = [
    { name: 'entra', displayName: 'Microsoft Entra ID' },
    { name: 'kc', displayName: 'Keycloak <staff>' },
  ];
  const both = loginPage(ctx, { rd: '/cams?id=1&x=2', providers });
  t.match(both, /<a class="button button--block" href="\/_gateway\/oidc\/entra\/start\?rd=%2Fcams%3Fid%3D1%26x%3D2">Sign in with Microsoft Entra ID<\/a>/);
  t.match(both, />Sign in with Keycloak &lt;staff&gt;<\/a>/, 'the display name is escaped');
  t.ok(byAction(both, '/_gateway/login')[0], 'the password form is still there');
  t.match(both, /<p class="hint">or<\/p>/);
  const only = loginPage(ctx, { rd: '/', providers: providers.slice(0, 1), passwordForm: false });
  t.equal(forms(only).filter((f) => f.action === '/_gateway/login').length, 0, 'no password form');
  t.notMatch(only, /name="password"/);
  t.notMatch(only, /<p class="hint">or<\/p>/);
  t.match(only, /class="button button--block button--primary" href="\/_gateway\/oidc\/entra\/start\?rd=%2F"/);
  t.notMatch(loginPage(ctx, { rd: '/' }), /\/oidc\//, 'no providers, no buttons');
  t.match(loginPage(context('de'), { rd: '/', providers }), /Anmelden mit Microsoft Entra ID/);
  t.end();
});

void t.test('login page: errors and notices', (t) => {
  const bad = loginPage(ctx, { rd: '/', username: 'alice', error: 'invalid_credentials' });
  t.match(bad, /role="alert">Incorrect username or password\./);
  const [form] = byAction(bad, '/_gateway/login');
  t.equal(valueOf(form!, 'username'), 'alice', 'username kept');
  t.match(field(form!, 'password')!, /\sautofocus/, 'focus moves to the password');
  t.match(field(form!, 'username')!, /aria-invalid="true"/);
  t.match(loginPage(ctx, { rd: '/', error: 'rate_limited', retryAfter: 125 }), /try again in 3 minutes\./);
  t.match(loginPage(ctx, { rd: '/', error: 'rate_limited', retryAfter: 1 }), /try again in 1 second\./);
  t.match(loginPage(ctx, { rd: '/', error: 'rate_limited' }), /Please wait a while/);
  t.match(loginPage(ctx, { rd: '/', error: 'locked' }), /This account is locked/);
  t.match(loginPage(ctx, { rd: '/', error: 'directory_unavailable' }), /temporarily unavailable/);
  t.match(loginPage(ctx, { rd: '/', error: 'store_unavailable' }), /temporarily unavailable/);
  t.match(loginPage(ctx, { rd: '/', error: 'overloaded' }), /busy/);
  t.match(loginPage(ctx, { rd: '/', error: 'csrf' }), /This form has expired/);
  t.match(loginPage(ctx, { rd: '/', notice: 'logged_out' }), /role="status">You have been signed out\./);
  t.match(loginPage(ctx, { rd: '/', notice: 'session_expired' }), /Your session has expired/);
  t.end();
});

const methods: VerifyModel['methods'] = [
  { type: 'email', destination: 'a***@example.com' },
  { type: 'sms', destination: '+49 *** **78' },
  { type: 'totp' },
];
const base = { rd: '/x', methods, rememberDevice: true, codeLength: 6, codeCharset: 'digits' };

void t.test('verify page: code form, remember device, where the code went', (t) => {
  const page = verifyPage(ctx, { ...base, method: 'email', destination: 'a***@example.com', sent: true });
  t.match(page, /We sent a 6-digit code to <strong class="nowrap">a\*\*\*@example\.com<\/strong>/);
  const codeForms = byAction(page, '/_gateway/verify').filter((f) => f.names.includes('code'));
  t.equal(codeForms.length, 1);
  const form = codeForms[0]!;
  t.same(form.names.sort(), ['code', 'csrf', 'method', 'rd', 'remember_device']);
  const code = field(form, 'code')!;
  t.match(code, /autocomplete="one-time-code"/);
  t.match(code, /inputmode="numeric"/);
  t.match(code, /maxlength="6"/);
  t.match(code, /pattern="\[0-9\]\*"/);
  t.match(field(form, 'remember_device')!, /type="checkbox" value="1"/);
  t.equal(valueOf(form, 'rd'), '/x');
  t.equal(valueOf(form, 'method'), 'email');
  t.end();
});

void t.test('verify page: switching forms for each other method, resend for email/sms', (t) => {
  const page = verifyPage(ctx, { ...base, method: 'email', destination: 'a***@example.com', sent: true });
  const switches = byAction(page, '/_gateway/verify').filter((f) => !f.names.includes('code'));
  t.same(switches.map((f) => valueOf(f, 'method')), ['sms', 'totp']);
  for (const f of switches) t.same(f.names.sort(), ['csrf', 'method', 'rd']);
  t.match(page, /\+49 \*\*\* \*\*78/);
  const [resend] = byAction(page, '/_gateway/verify/resend');
  t.same(resend!.names.sort(), ['csrf', 'method', 'rd']);
  t.equal(valueOf(resend!, 'method'), 'email');
  const totp = verifyPage(ctx, { ...base, method: 'totp' });
  t.equal(forms(totp).filter((f) => f.action === '/_gateway/verify/resend').length, 0, 'no resend for totp');
  t.match(totp, /enter the 6-digit code it shows/);
  t.end();
});

void t.test('verify page: without remember device, other lengths and charsets', (t) => {
  const page = verifyPage(ctx, { ...base, method: 'sms', destination: '+49 *** **78', rememberDevice: false, codeLength: 4 });
  t.notMatch(page, /remember_device/);
  t.match(page, /We sent a 4-digit code by text message to/);
  t.match(page, /maxlength="4"/);
  const letters = verifyPage(ctx, { ...base, method: 'email', destination: 'x', codeLength: 8, codeCharset: 'alphanumeric' });
  t.match(letters, /We sent an 8-character code/);
  t.match(letters, /inputmode="text"/);
  t.notMatch(letters, /inputmode="numeric"/);
  const recovery = verifyPage(ctx, { ...base, method: 'recovery_code' });
  t.notMatch(recovery, /data-autosubmit/, 'recovery codes are free text');
  t.match(recovery, /Recovery code<\/label>/);
  t.match(verifyPage(ctx, { ...base, method: 'totp', trustDays: 30 }), /Trust this device for 30 days/);
  t.end();
});

void t.test('verify page: errors', (t) => {
  const v = (e: VerifyModel['error'], extra: Partial<VerifyModel> = {}) => verifyPage(ctx, { ...base, method: 'email', destination: 'd', error: e, ...extra });
  // One rule, one wording: the count says what runs out — this code (then a new one), or the account (locked).
  t.match(v('invalid_code', { attemptsLeft: 2, limit: 'code' }), /That code is not correct\. 2 attempts left with this code\./);
  t.match(v('invalid_code', { attemptsLeft: 0, limit: 'code' }), /this code cannot be used again\. Send a new code\./);
  t.match(v('invalid_code', { attemptsLeft: 3, limit: 'account' }), /That code is not correct\. 3 attempts left before your account is locked\./);
  t.match(v('invalid_code', { attemptsLeft: 1 }), /1 attempt left before your account is locked\./);
  t.match(v('invalid_code'), /That code is not correct\.<\/div>/);
  t.match(v('code_expired'), /expired/);
  t.match(v('exhausted'), /Too many wrong attempts/);
  t.match(v('rate_limited', { retryAfter: 30 }), /try again in 30 seconds/);
  t.match(v('delivery_failed'), /could not send the code/);
  t.match(v('csrf'), /This form has expired/);
  const locked = v('locked');
  t.match(locked, /locked/);
  t.notMatch(locked, /name="code"/, 'no code form when locked');
  t.equal(forms(locked).length, 0);
  t.end();
});

void t.test('verify page: SMS fell back to email', (t) => {
  const page = verifyPage(ctx, { ...base, method: 'email', destination: 'a***@example.com', sent: true, fellBack: true });
  t.match(page, /could not send a text message, so we sent a 6-digit code by email to <strong class="nowrap">a\*\*\*@example\.com<\/strong>/);
  t.end();
});

void t.test('verify page: passkey needs options and says so without JavaScript', (t) => {
  const without = verifyPage(ctx, { ...base, method: 'webauthn' });
  t.match(without, /Passkeys are not available/);
  const withOpts = verifyPage(ctx, { ...base, method: 'webauthn', webauthnOptions: '{"challenge":"abc"}' });
  const [form] = forms(withOpts).filter((f) => f.names.includes('credential'));
  t.ok(form);
  t.match(form!.attrs, /data-webauthn-form/);
  t.match(withOpts, /data-webauthn-options="\{&quot;challenge&quot;:&quot;abc&quot;\}"/);
  t.match(withOpts, /data-webauthn-unsupported>Passkeys need JavaScript/, 'shown until the script hides it');
  t.match(withOpts, /data-webauthn-error hidden>/);
  t.match(withOpts, /data-webauthn-mode="get"/);
  t.end();
});

void t.test('enrol passkey page: name and credential, create mode, unavailable without options', (t) => {
  const page = enrollWebauthnPage(ctx, { rd: '/r', creationOptions: '{"challenge":"abc","user":{"id":"dQ"}}' });
  const [form] = byAction(page, '/_gateway/enroll/webauthn');
  t.same(form!.names.sort(), ['credential', 'csrf', 'name', 'rd']);
  t.match(form!.attrs, /data-webauthn-form/);
  t.match(page, /data-webauthn-mode="create"/);
  t.match(page, /<label for="name">Name for this passkey<\/label>/);
  const none = enrollWebauthnPage(ctx, { rd: '/r' });
  t.equal(forms(none).length, 0);
  t.match(none, /Passkeys are not available right now/);
  t.match(enrollWebauthnPage(ctx, { rd: '/r', creationOptions: '{}', error: 'failed' }), /role="alert">The passkey could not be used/);
  t.end();
});

void t.test('enrol TOTP page: QR, URI text, grouped secret, password + code form', (t) => {
  const uri = 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXP&issuer=Portcullis';
  const page = enrollTotpPage(ctx, { qrSvg: QR_SVG, uri, secretBase32: 'JBSWY3DPEHPK3PXP', rd: '/r' });
  t.match(page, /<svg viewBox="0 0 29 29"/, 'the SVG is inserted as markup');
  t.match(page, /otpauth:\/\/totp\/Portcullis:alice\?secret=JBSWY3DPEHPK3PXP&amp;issuer=Portcullis/);
  t.match(page, /<code id="totp-secret"><span class="secret__group">JBSW<\/span> <span class="secret__group">Y3DP<\/span> <span class="secret__group">EHPK<\/span> <span class="secret__group">3PXP<\/span><\/code>/, 'grouped in fours, a group never split');
  const [form] = byAction(page, '/_gateway/enroll/totp');
  t.same(form!.names.sort(), ['code', 'csrf', 'password', 'rd']);
  t.match(field(form!, 'password')!, /autocomplete="current-password"/);
  t.match(field(form!, 'code')!, /autocomplete="one-time-code"[^>]*inputmode="numeric"/);
  t.match(enrollTotpPage(ctx, { qrSvg: QR_SVG, uri, secretBase32: 'A', rd: '/', error: 'invalid_password' }), /password is not correct/);
  t.equal(groupSecret('ABCDEFGHIJ'), 'ABCD EFGH IJ');
  t.equal(groupSecret('ABCDEFGH'), 'ABCD EFGH');
  t.end();
});

void t.test('enrol destination page: enter and confirm steps for sms and email', (t) => {
  const sms = enrollDestinationPage(ctx, { kind: 'sms', step: 'enter', rd: '/r' });
  const [f1] = byAction(sms, '/_gateway/enroll/sms');
  t.same(f1!.names.sort(), ['csrf', 'destination', 'rd']);
  t.match(field(f1!, 'destination')!, /type="tel"[^>]*autocomplete="tel"/);
  t.match(sms, /\+49 151 2345678/, 'E.164 hint');
  const email = enrollDestinationPage(ctx, { kind: 'email', step: 'enter', rd: '/r', error: 'invalid_destination' });
  const [f2] = byAction(email, '/_gateway/enroll/email');
  t.match(field(f2!, 'destination')!, /type="email"[^>]*autocomplete="email"/);
  t.match(email, /role="alert"/);
  const confirm = enrollDestinationPage(ctx, { kind: 'sms', step: 'confirm', destination: '+49 *** **78', rd: '/r' });
  const [f3] = byAction(confirm, '/_gateway/enroll/sms');
  t.same(f3!.names.sort(), ['code', 'csrf', 'rd']);
  t.match(confirm, /We sent a 6-digit code by text message to <strong class="nowrap">\+49 \*\*\* \*\*78/);
  t.end();
});

void t.test('enrol choice page: required and optional', (t) => {
  const req = enrollChoicePage(ctx, { methods: ['totp', 'sms'], rd: '/cams', required: true });
  t.match(req, /Your organisation requires two-step verification\. Choose a method/);
  t.match(req, /href="\/_gateway\/enroll\/totp\?rd=%2Fcams"/);
  t.match(req, /href="\/_gateway\/enroll\/sms\?rd=%2Fcams"/);
  t.notMatch(req, /enroll\/email/);
  t.notMatch(req, /Not now/);
  const opt = enrollChoicePage(ctx, { methods: ['email'], rd: '/cams', required: false });
  t.match(opt, /<a href="\/cams">Not now<\/a>/);
  t.match(enrollChoicePage(ctx, { methods: ['email'], rd: 'javascript:alert(1)', required: false }), /<a href="#">Not now/);
  t.end();
});

void t.test('recovery codes page: every code, a warning', (t) => {
  const page = recoveryCodesPage(ctx, { codes: ['aaaa-bbbb', 'cccc-dddd'] });
  t.match(page, /<li><code>aaaa-bbbb<\/code><\/li><li><code>cccc-dddd<\/code><\/li>/);
  t.match(page, /alert--warning[^>]*>This is the only time/);
  t.match(page, /href="\/_gateway\/account"/);
  t.end();
});

void t.test('account page: profile, removable items, enrol links, logout forms', (t) => {
  const page = accountPage(ctx, {
    user: { name: 'Alice Operator', username: 'alice', email: 'alice@example.com', groups: ['operators', 'viewers'] },
    methods: [
      { type: 'totp', label: 'Phone', removable: true, id: 'm1' },
      { type: 'email', label: 'a***@example.com', removable: false },
    ],
    devices: [{ id: 'd1', name: 'Firefox on Linux', ip: '192.0.2.1', lastUsedAt: '2026-01-02T03:04:05Z', current: true }],
    sessions: [
      { id: 's1', ip: '192.0.2.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', createdAt: '2026-01-01T00:00:00Z', current: true },
      { id: 's2', ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1', createdAt: '2026-01-01T00:00:00Z', current: false },
    ],
    canOptOut: true,
    canOptIn: false,
    notice: 'method_removed',
  });
  t.match(page, /class="page page--wide"/);
  t.match(page, /operators, viewers/);
  t.match(page, /alice@example\.com/);
  t.match(page, /role="status">The verification method was removed\./);
  const methodForms = byAction(page, '/_gateway/account/methods/remove');
  t.equal(methodForms.length, 1, 'only the removable method');
  t.equal(valueOf(methodForms[0]!, 'id'), 'm1');
  const deviceForms = byAction(page, '/_gateway/account/devices/remove');
  t.same(deviceForms.map((f) => valueOf(f, 'id')), ['d1']);
  const sessionForms = byAction(page, '/_gateway/account/sessions/remove');
  t.same(sessionForms.map((f) => valueOf(f, 'id')), ['s2'], 'the current session is ended by signing out');
  for (const f of [...methodForms, ...deviceForms, ...sessionForms]) t.same(f.names.sort(), ['csrf', 'id']);
  const [logout] = byAction(page, '/_gateway/logout');
  t.same(logout!.names, ['csrf']);
  const [everywhere] = byAction(page, '/_gateway/logout?everywhere=1');
  t.same(everywhere!.names, ['csrf']);
  t.match(page, /href="\/_gateway\/enroll\/totp"/);
  t.match(page, /href="\/_gateway\/enroll\/webauthn"/);
  t.ok(byAction(page, '/_gateway/account/second-factor/disable').length);
  t.match(page, /<time datetime="2026-01-02T03:04:05\.000Z">/);
  t.match(page, /Firefox · Linux/);
  t.match(page, /Safari · iOS/);
  t.end();
});

void t.test('account page: empty lists and opt-in', (t) => {
  const page = accountPage(ctx, {
    user: { name: 'Bob', username: 'bob', groups: [] },
    methods: [],
    devices: [],
    sessions: [],
    canOptOut: false,
    canOptIn: true,
    enrollable: ['totp'],
  });
  t.match(page, /No verification methods/);
  t.match(page, /No trusted devices/);
  t.match(page, /No active sessions/);
  t.match(page, /href="\/_gateway\/enroll">Turn it on/);
  t.notMatch(page, /second-factor\/disable/);
  t.notMatch(page, /enroll\/sms/);
  t.notMatch(page, /<dt>Groups/);
  t.ok(byAction(page, '/_gateway/logout').length, 'logout form always present');
  t.end();
});

void t.test('describeUserAgent', (t) => {
  t.equal(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0'), 'Edge · Windows');
  t.equal(describeUserAgent('Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36'), 'Chrome · Android');
  t.equal(describeUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Version/17.0 Safari/605.1.15'), 'Safari · macOS');
  t.equal(describeUserAgent('curl/8.0'), 'curl/8.0');
  t.equal(describeUserAgent(''), '—');
  t.equal(describeUserAgent('x'.repeat(100)).length, 58);
  t.end();
});

void t.test('recover page: request, sent, reset', (t) => {
  const req = recoverPage(ctx, { step: 'request' });
  const [f] = byAction(req, '/_gateway/recover');
  t.same(f!.names.sort(), ['csrf', 'username']);
  t.match(field(f!, 'username')!, /autocomplete="username"/);
  t.match(recoverPage(ctx, { step: 'sent' }), /If the account exists/);
  const reset = recoverPage(ctx, { step: 'reset', token: 'abc/def' });
  const [r] = byAction(reset, '/_gateway/recover/abc%2Fdef');
  t.same(r!.names.sort(), ['csrf', 'password']);
  const noToken = recoverPage(ctx, { step: 'reset' });
  t.equal(forms(noToken)[0]!.action, undefined, 'posts to the current URL');
  const expired = recoverPage(ctx, { step: 'reset', error: 'expired' });
  t.equal(forms(expired).length, 0);
  t.match(expired, /expired or has already been used/);
  t.match(recoverPage(ctx, { step: 'request', error: 'not_available' }), /not available/);
  t.end();
});

void t.test('invite page: new password twice, new-password autocomplete', (t) => {
  const page = invitePage(ctx, { token: 'tok123', username: 'carol' });
  const [f] = byAction(page, '/_gateway/invite/tok123');
  t.same(f!.names.sort(), ['csrf', 'password', 'password_confirm', 'username']);
  t.match(field(f!, 'password')!, /autocomplete="new-password"[^>]*minlength="8"/);
  t.match(field(f!, 'password_confirm')!, /autocomplete="new-password"/);
  t.match(field(f!, 'username')!, /value="carol"[^>]*autocomplete="username" readonly/);
  t.match(invitePage(ctx, { token: 't', username: 'c', error: 'mismatch' }), /do not match/);
  t.match(invitePage(ctx, { token: 't', username: 'c', error: 'too_short', minLength: 12 }), /at least 12 characters/);
  const expired = invitePage(ctx, { token: 't', username: 'c', error: 'expired' });
  t.equal(forms(expired).length, 0);
  t.match(expired, /expired or has already been used/);
  t.end();
});

void t.test('message page: title, text, status, safe link', (t) => {
  const page = messagePage(ctx, { title: 'Access denied', message: 'You may not open this page.', status: 403, link: { href: '/', label: 'Home' } });
  t.match(page, /<h1 class="title">Access denied<\/h1>/);
  t.match(page, /Error 403/);
  t.match(page, /href="\/">Home<\/a>/);
  t.match(messagePage(ctx, { title: 'x', message: 'y', link: { href: 'javascript:alert(1)', label: 'l' } }), /href="#"/);
  t.match(messagePage(ctx, { title: 'x', message: 'y', link: { href: '//evil.example', label: 'l' } }), /href="#"/);
  t.notMatch(messagePage(ctx, { title: 'x', message: 'y' }), /Error/);
  t.end();
});

void t.test('pages follow the language of the context', (t) => {
  const ru = context('ru');
  const page = verifyPage(ru, { ...base, method: 'email', destination: 'a***@example.com', sent: true, error: 'invalid_code', attemptsLeft: 3 });
  t.match(page, /<html lang="ru"/);
  t.match(page, /Мы отправили 6-значный код на адрес <strong class="nowrap">a\*\*\*@example\.com<\/strong>/);
  t.match(page, /Осталось 3 попытки до блокировки учётной записи\./);
  const de = loginPage(context('de'), { rd: '/', error: 'rate_limited', retryAfter: 60 });
  t.match(de, /Bitte versuchen Sie es in 1 Minute erneut\./);
  t.match(loginPage(context('fr'), { rd: '/' }), /<button[^>]*>Se connecter<\/button>/);
  t.match(accountPage(context('nl'), { user: { name: 'A', username: 'a', groups: [] }, methods: [], devices: [], sessions: [], canOptOut: false, canOptIn: false }), /Overal afmelden/);
  t.match(messagePage(context('es'), { title: 'x', message: 'y', status: 503 }), /Error 503/);
  t.end();
});
