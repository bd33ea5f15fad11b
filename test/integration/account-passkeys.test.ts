/**
 * Passkeys on the account page (issue 10): each passkey listed with its name, added and last-used dates;
 * renamed and removed one by one (CSRF, sensitive-action rules as for every account change); the last
 * one follows the last-method rule; a security email names the passkey added or removed, in the user's
 * language.
 */
import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import { SoftAuthenticator } from '../factors/soft-authenticator.js';
import type { WebAuthnFactor } from '../../src/factors/webauthn.js';
import { outboxCode, passwordStep } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
  bob: { password: 'bob-password-1', display_name: 'Bob', groups: [] },
};

function shownOptions(html: string): { challenge: string; rp: { id: string } } {
  const m = /data-webauthn-options="([^"]*)"/.exec(html);
  if (!m) throw new Error('no options on the page');
  const json = m[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(json) as { challenge: string; rp: { id: string } };
}

function passkeys(stack: Stack, user: string): ReturnType<WebAuthnFactor['list']> {
  return (stack.gateway.gateway.core.factors.get('webauthn') as WebAuthnFactor).list(user);
}

/** Adds a passkey named `name` from the account (the page's options, a software authenticator's answer). */
async function addPasskey(stack: Stack, b: Browser, name: string, rd = '/_gateway/account'): Promise<SoftAuthenticator> {
  const page = await b.get(`/_gateway/enroll/webauthn?rd=${encodeURIComponent(rd)}`);
  if (page.status !== 200) throw new Error(`enrol page answered ${page.status} ${page.location ?? ''}`);
  const options = shownOptions(page.text);
  const auth = new SoftAuthenticator();
  const done = await b.post('/_gateway/enroll/webauthn', { name, credential: JSON.stringify(auth.register({ challenge: options.challenge, origin: new URL(stack.url).origin, rpId: options.rp.id })), csrf: b.csrf(), rd });
  if (![200, 303].includes(done.status)) throw new Error(`enrolment answered ${done.status}`);
  return auth;
}

async function aliceSignedIn(stack: Stack, lang = 'en'): Promise<Browser> {
  const b = new Browser(stack.url, { 'accept-language': lang });
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  await b.get(posted.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/' });
  if (done.status !== 303) throw new Error(`code step answered ${done.status}`);
  return b;
}

function mailsTo(stack: Stack, to: string): Array<{ subject?: string; text: string }> {
  return stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === to);
}

void t.test('each passkey is listed with its dates, renamed and removed on its own; emails name it', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['email', 'totp', 'webauthn', 'recovery_code'], notify_user: ['factor_changed'] } } });
  t.teardown(() => stack.close());
  const b = await aliceSignedIn(stack, 'de');
  await addPasskey(stack, b, 'Laptop');
  await addPasskey(stack, b, 'YubiKey');
  const [laptop, yubikey] = await passkeys(stack, 'alice');
  t.equal(laptop?.name, 'Laptop');
  t.equal(yubikey?.name, 'YubiKey');
  t.ok(mailsTo(stack, 'alice@example.com').some((m) => m.text.includes('Hinzugefügt') && m.text.includes('(YubiKey)')), 'the "added" email names the passkey, in German');

  const page = await b.get('/_gateway/account');
  t.equal(page.status, 200);
  t.match(page.text, /Laptop/);
  t.match(page.text, /YubiKey/);
  t.equal((page.text.match(/action="\/_gateway\/account\/passkeys\/remove"/g) ?? []).length, 2, 'a remove button per passkey');
  t.equal((page.text.match(/action="\/_gateway\/account\/passkeys\/rename"/g) ?? []).length, 2, 'a rename form per passkey');
  t.match(page.text, /Noch nicht verwendet/, 'never used yet, in the page language');

  // Rename: a hostile name is shown escaped; without the CSRF token nothing changes.
  const csrf = b.csrf();
  const forged = await b.post('/_gateway/account/passkeys/rename', { id: laptop!.id, name: 'Forged' });
  t.equal(forged.status, 403, 'no CSRF token: refused');
  const renamed = await b.post('/_gateway/account/passkeys/rename', { id: laptop!.id, name: '<b>Desk</b> key', csrf });
  t.equal(renamed.status, 303);
  t.equal(renamed.location, '/_gateway/account?notice=passkey_renamed');
  const after = await b.get(renamed.location!);
  t.match(after.text, /&lt;b&gt;Desk&lt;\/b&gt; key/, 'the new name, escaped');
  t.notMatch(after.text, /<b>Desk/, 'no markup from the name');
  t.match(after.text, /Der Passkey wurde umbenannt/);
  t.equal((await passkeys(stack, 'alice')).find((p) => p.id === laptop!.id)?.name, '<b>Desk</b> key');
  const long = await b.post('/_gateway/account/passkeys/rename', { id: laptop!.id, name: `Key\u0007${'x'.repeat(500)}`, csrf });
  t.equal(long.status, 303);
  const cut = (await passkeys(stack, 'alice')).find((p) => p.id === laptop!.id)?.name ?? '';
  t.equal(cut.length, 64, 'an over-long name is cut to 64 characters');
  t.notOk(cut.includes('\u0007'), 'control characters are dropped');
  await b.post('/_gateway/account/passkeys/rename', { id: laptop!.id, name: '<b>Desk</b> key', csrf });
  const empty = await b.post('/_gateway/account/passkeys/rename', { id: laptop!.id, name: '   ', csrf });
  t.equal(empty.location, '/_gateway/account', 'an empty name changes nothing');
  t.ok(stack.logs.audits('passkey_renamed').some((l) => l.user === 'alice' && l.result === 'success'));

  // Remove one: the other stays; an unknown id removes nothing.
  const unknown = await b.post('/_gateway/account/passkeys/remove', { id: 'not-a-credential', csrf });
  t.equal(unknown.location, '/_gateway/account');
  t.equal((await passkeys(stack, 'alice')).length, 2);
  const removed = await b.post('/_gateway/account/passkeys/remove', { id: yubikey!.id, csrf });
  t.equal(removed.location, '/_gateway/account?notice=method_removed');
  t.same((await passkeys(stack, 'alice')).map((p) => p.id), [laptop!.id], 'only that passkey went');
  t.ok(mailsTo(stack, 'alice@example.com').some((m) => m.text.includes('Entfernt') && m.text.includes('(YubiKey)')), 'the "removed" email names it, in German');
  t.ok(stack.logs.audits('factor_removed').some((l) => l.user === 'alice' && l.method === 'webauthn' && l.result === 'success'));
  const list = await b.get('/_gateway/account');
  t.notMatch(list.text, /YubiKey/);
  // Her last passkey may go too: her email code stays.
  const last = await b.post('/_gateway/account/passkeys/remove', { id: laptop!.id, csrf });
  t.equal(last.location, '/_gateway/account?notice=method_removed');
  t.equal((await passkeys(stack, 'alice')).length, 0);
});

void t.test("the last passkey of a user with no other method stays under policy required; another user's passkey is out of reach", async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { policy: 'required', methods: ['webauthn', 'recovery_code'] } } });
  t.teardown(() => stack.close());
  // bob has no email or phone: his passkey is his only method (recovery codes are a backup).
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'bob', 'bob-password-1', '/');
  const choice = await b.get(posted.location!);
  t.match(choice.location ?? '', /\/_gateway\/enroll\/webauthn/, 'forced enrolment of a passkey');
  await addPasskey(stack, b, 'Phone', '/');
  const [phone] = await passkeys(stack, 'bob');
  t.ok(phone, 'enrolled');
  const page = await b.get('/_gateway/account');
  t.equal(page.status, 200);
  const csrf = b.csrf();
  const refused = await b.post('/_gateway/account/passkeys/remove', { id: phone!.id, csrf });
  t.equal(refused.status, 409, 'his last method');
  t.match(refused.text, /last verification method/);
  t.equal((await passkeys(stack, 'bob')).length, 1, 'still there');
  t.ok(stack.logs.audits('factor_removed').some((l) => l.user === 'bob' && l.reason === 'last_method'));
  // With a second passkey, one may go.
  await addPasskey(stack, b, 'Laptop');
  await b.get('/_gateway/account');
  const ok = await b.post('/_gateway/account/passkeys/remove', { id: phone!.id, csrf: b.csrf() });
  t.equal(ok.location, '/_gateway/account?notice=method_removed');
  t.same((await passkeys(stack, 'bob')).map((p) => p.name), ['Laptop']);

  // alice (no passkey of hers) cannot remove or rename bob's.
  const [bobs] = await passkeys(stack, 'bob');
  const stack2users = stack; // same gateway
  const a = new Browser(stack2users.url);
  const ap = await passwordStep(a, 'alice', 'alice-password-1', '/');
  await a.get(ap.location!);
  await addPasskey(stack, a, 'Alice key', '/');
  await a.get('/_gateway/account');
  const acsrf = a.csrf();
  t.equal((await a.post('/_gateway/account/passkeys/remove', { id: bobs!.id, csrf: acsrf })).location, '/_gateway/account');
  t.equal((await a.post('/_gateway/account/passkeys/rename', { id: bobs!.id, name: 'mine now', csrf: acsrf })).location, '/_gateway/account');
  t.same((await passkeys(stack, 'bob')).map((p) => p.name), ['Laptop'], "bob's passkey untouched");
});
