import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import { outboxCode, passwordStep, shownSecret, totpCode } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};

function mails(stack: Stack) {
  return stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === 'alice@example.com');
}

async function signIn(stack: Stack, b: Browser): Promise<void> {
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  await b.get(posted.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/' });
  if (done.status !== 303 || done.location !== '/') throw new Error(`sign-in failed: ${done.status} ${done.location ?? ''}`);
}

for (const [lang, words] of [
  ['en', { hello: 'Hello Alice Operator,', added: 'Added: authenticator app.', removed: 'Removed: authenticator app.', codes: /New .* recovery codes were created/, changed: /second factor was changed/ }],
  ['de', { hello: 'Hallo Alice Operator,', added: 'Hinzugefügt: Authenticator-App.', removed: 'Entfernt: Authenticator-App.', codes: /Neue Wiederherstellungscodes/, changed: /zweiter Faktor .* wurde geändert/ }],
] as const) {
  void t.test(`${lang}: every email greets by display name, names methods in words, and new recovery codes have their own message`, async (t) => {
    const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['email', 'totp', 'recovery_code'] } } });
    t.teardown(() => stack.close());
    const b = new Browser(stack.url, { 'accept-language': lang });
    await signIn(stack, b);
    const code = mails(stack).at(-1)!;
    t.ok(code.text.startsWith(`${words.hello}\n`), 'the code email greets by display name');

    const page = await b.get('/_gateway/enroll/totp');
    const added = await b.post('/_gateway/enroll/totp', { password: 'alice-password-1', code: totpCode(shownSecret(page.text), stack.clock.now()), csrf: b.csrf(), rd: '/' });
    t.equal(added.status, 200, 'the recovery codes page (the first set)');
    const addedMail = mails(stack).at(-1)!;
    t.match(addedMail.subject, words.changed);
    t.ok(addedMail.text.startsWith(`${words.hello}\n`), 'greets by display name');
    t.ok(addedMail.text.includes(words.added), `says what changed: ${words.added}`);
    t.notMatch(addedMail.text, /\btotp\b|recovery_code|changed: /, 'no internal name');

    await b.get('/_gateway/account');
    const before = mails(stack).length;
    const regenerated = await b.post('/_gateway/enroll/recovery-codes', { csrf: b.csrf() });
    t.equal(regenerated.status, 200);
    t.equal(mails(stack).length, before + 1, 'one message');
    const codesMail = mails(stack).at(-1)!;
    t.match(codesMail.subject, words.codes, 'its own subject');
    t.notMatch(codesMail.subject, words.changed, 'not "your second factor was changed"');
    t.ok(codesMail.text.startsWith(`${words.hello}\n`));

    const account = await b.get('/_gateway/account');
    t.match(account.text, /action="\/_gateway\/account\/methods\/remove"[^>]*>[\s\S]*?name="id" value="totp"/);
    await b.post('/_gateway/account/methods/remove', { id: 'totp', csrf: b.csrf() });
    const removedMail = mails(stack).at(-1)!;
    t.ok(removedMail.text.includes(words.removed), `says what changed: ${words.removed}`);
  });
}
