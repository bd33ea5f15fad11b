/**
 * What a new user meets in a real browser (issue 13): the resend cooldown and its countdown,
 * post/redirect/get on the code page, the authenticator re-enrolment warning, confirmations of the
 * destructive actions, the account page's sessions, an error page in German — and screenshots of the
 * main pages at phone (390 px) and desktop (1280 px) width in test/artifacts/ for review.
 */
import { existsSync, mkdirSync } from 'node:fs';
import t, { type Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { startDemoApp } from '../../src/demo/app.js';
import type { ManualClock } from '../../src/util/clock.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';

import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS as ARGS, CHROMIUM_SKIP as SKIP } from '../fixtures/chromium.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
  bob: { password: 'bob-password-1', display_name: 'Bob Admin', email: 'bob@example.com', groups: ['admins'] },
};
const CONFIG = { second_factor: { methods: ['email' as const, 'totp' as const, 'recovery_code' as const] }, portal: { title: 'Camera Portal' } };

let browser: Browser;

async function setUp(t: Test, o: { locale?: string; js?: boolean; width?: number } = {}): Promise<{ stack: Stack; context: BrowserContext; page: Page }> {
  const demo = await startDemoApp();
  t.teardown(() => demo.close());
  const stack = await startStack({ users: USERS, config: { ...CONFIG, upstreams: [{ name: 'demo', url: demo.url }] } });
  t.teardown(() => stack.close());
  const context = await browser.newContext({ locale: o.locale ?? 'en-US', javaScriptEnabled: o.js ?? true, viewport: { width: o.width ?? 1280, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { stack, context, page };
}

function latestCode(stack: Stack, to: string): string {
  const mail = stack.gateway.gateway.core.delivery.outbox!.latest(to);
  const code = mail?.code;
  if (!code) throw new Error(`no code for ${to}`);
  return code;
}

function codesSent(stack: Stack, to: string): number {
  return stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === to && m.code).length;
}

async function password(page: Page, stack: Stack, user: string, pass: string, path = '/'): Promise<void> {
  await page.goto(`${stack.url}${path}`, { waitUntil: 'domcontentloaded' });
  await page.fill('#username', user);
  await page.fill('#password', pass);
  await Promise.all([page.waitForURL(/\/_gateway\/(verify|enroll)/, { waitUntil: 'domcontentloaded' }), page.click('form button[type="submit"]')]);
}

async function signIn(page: Page, stack: Stack, user = 'alice', pass = 'alice-password-1', email = 'alice@example.com'): Promise<void> {
  await password(page, stack, user, pass);
  await page.fill('#code', latestCode(stack, email));
  await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
}

async function shot(page: Page, name: string, width: number): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}-${width}.png`, fullPage: true });
}

function totpNow(secret: string, stack: Stack): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s+/g, '')), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: stack.clock.now() });
}

/** On the set-up page: the password, then the app's first code (the form submits itself once the code is complete). */
async function confirmTotp(page: Page, stack: Stack): Promise<void> {
  const secret = (await page.textContent('#totp-secret')) ?? '';
  await page.fill('#password', 'alice-password-1');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.fill('#code', totpNow(secret, stack))]);
}

void t.test('first contact in a real browser', { skip: SKIP }, async (t) => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  t.teardown(() => browser.close());

  await t.test('resend inside the cooldown: a wait (not an error), counted down on the disabled button; after it: sent, and said so', async (t) => {
    const { stack, page } = await setUp(t);
    await password(page, stack, 'bob', 'bob-password-1');
    const resend = page.locator('form[action="/_gateway/verify/resend"] button');
    t.ok(await resend.isDisabled(), 'disabled while the cooldown runs');
    const first = (await resend.textContent()) ?? '';
    t.match(first, /^Send a new code \((30|29) s\)$/, 'the countdown on the button');
    await page.locator('form[action="/_gateway/verify/resend"] button', { hasNotText: first }).waitFor();
    t.match(await resend.textContent(), /^Send a new code \(\d+ s\)$/, 'it counts down');

    (stack.clock as ManualClock).advance(31_000);
    await page.reload({ waitUntil: 'domcontentloaded' });
    t.ok(await resend.isEnabled(), 'after the cooldown the button works');
    t.equal(await resend.textContent(), 'Send a new code');
    await Promise.all([page.waitForURL(/\/_gateway\/verify\?/, { waitUntil: 'domcontentloaded' }), resend.click()]);
    t.notMatch(page.url(), /\/verify\/resend/, 'post/redirect/get: the address is the code page');
    t.equal(await page.locator('.alert--success').textContent(), 'A new code was sent to b***@example.com.');
    t.equal(codesSent(stack, 'bob@example.com'), 2);
    t.ok(await resend.isDisabled(), 'a new cooldown runs');
  });

  await t.test('without JavaScript the server says how long to wait', async (t) => {
    const { stack, page } = await setUp(t, { js: false });
    await password(page, stack, 'bob', 'bob-password-1');
    const resend = page.locator('form[action="/_gateway/verify/resend"] button');
    t.ok(await resend.isEnabled(), 'the button works without JavaScript');
    await Promise.all([page.waitForURL(/\/_gateway\/verify\?/, { waitUntil: 'domcontentloaded' }), resend.click()]);
    t.equal(await page.locator('.alert').count(), 1);
    t.equal(await page.locator('.alert--info').textContent(), 'A new code can be sent in 30 seconds. The last one is still valid.');
    t.equal(await page.locator('.alert--error').count(), 0, 'not an error: the user made no attempt');
    t.equal(codesSent(stack, 'bob@example.com'), 1, 'nothing sent');
  });

  await t.test('post/redirect/get on the code page: a wrong code is told once; a reload does not post again', async (t) => {
    const { stack, page } = await setUp(t);
    await password(page, stack, 'bob', 'bob-password-1');
    const code = latestCode(stack, 'bob@example.com');
    await page.fill('#code', code === '000000' ? '111111' : '000000');
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
    t.match(page.url(), /\/_gateway\/verify\?rd=/, 'the address is the code page, not the POST');
    t.equal(response?.request().method(), 'GET', 'the page shown was fetched with GET');
    t.equal(response?.status(), 401);
    t.equal(await page.locator('.alert--error').textContent(), 'That code is not correct. 2 attempts left with this code.');
    t.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
    const reload = await page.reload({ waitUntil: 'domcontentloaded' });
    t.equal(reload?.request().method(), 'GET', 'a reload asks again with GET: nothing is re-posted');
    t.equal(await page.locator('.alert--error').count(), 0, 'the message was told once');
    await page.fill('#code', code);
    await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
    t.equal(await page.textContent('#remote-user'), 'bob');
  });

  await t.test('re-enrolment: "Replace authenticator app", a warning, and Cancel', async (t) => {
    const { stack, page } = await setUp(t);
    await signIn(page, stack);
    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    await Promise.all([page.waitForURL(/\/enroll\/totp/), page.click('text=Set up an authenticator app')]);
    t.equal(await page.locator('.alert--warning').count(), 0, 'no warning the first time');
    await confirmTotp(page, stack);
    t.equal(await page.textContent('h1'), 'Your recovery codes');
    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    const replace = page.getByRole('link', { name: 'Replace authenticator app' });
    t.equal(await replace.count(), 1, 'the account page says it replaces');
    await Promise.all([page.waitForURL(/\/enroll\/totp/), replace.click()]);
    t.equal(await page.textContent('h1'), 'Replace your authenticator app');
    t.match(await page.locator('.alert--warning').textContent(), /codes from the old app stop working/);
    await Promise.all([page.waitForURL(/\/_gateway\/account$/), page.getByRole('link', { name: 'Cancel' }).click()]);
    t.pass('Cancel leads back to the account page');
  });

  await t.test('confirmations: "Create new recovery codes" and "Sign out everywhere" ask in a dialog, and the result says what happened', async (t) => {
    const { stack, context, page } = await setUp(t);
    const other = await context.browser()!.newContext();
    t.teardown(() => other.close());
    await signIn(await other.newPage(), stack);
    await signIn(page, stack);
    // Recovery codes exist once an authenticator app is set up.
    await page.goto(`${stack.url}/_gateway/enroll/totp`, { waitUntil: 'domcontentloaded' });
    await confirmTotp(page, stack);
    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });

    const codes = page.locator('#confirm-recovery-codes');
    t.notOk(await codes.isVisible(), 'the dialog is closed');
    await page.getByRole('link', { name: 'Create new recovery codes' }).click();
    t.ok(await codes.isVisible(), 'clicking asks first');
    t.match(await codes.textContent(), /the old codes stop working at once/);
    await codes.getByRole('button', { name: 'Cancel' }).click();
    t.notOk(await codes.isVisible(), 'Cancel closes it, nothing happens');
    t.match(page.url(), /\/_gateway\/account$/);
    await page.getByRole('link', { name: 'Create new recovery codes' }).click();
    await Promise.all([page.waitForURL(/\/enroll\/recovery-codes/, { waitUntil: 'domcontentloaded' }), codes.getByRole('button', { name: 'Create new codes' }).click()]);
    t.equal(await page.locator('.alert--success').textContent(), 'New recovery codes were created. The old ones no longer work.');
    t.equal(await page.locator('#recovery-codes li').count(), 10);

    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    const everywhere = page.locator('#confirm-everywhere');
    await page.getByRole('link', { name: 'Sign out everywhere' }).click();
    t.ok(await everywhere.isVisible());
    t.match(await everywhere.textContent(), /forgets all trusted devices/);
    await Promise.all([page.waitForURL(/\/_gateway\/login\?notice=signed_out_everywhere/, { waitUntil: 'domcontentloaded' }), everywhere.getByRole('button', { name: 'Sign out everywhere' }).click()]);
    t.equal(await page.locator('.alert--success').textContent(), 'You were signed out everywhere: 2 sessions were ended.');
  });

  await t.test('confirmations without JavaScript: a page that asks', async (t) => {
    const { stack, page } = await setUp(t, { js: false });
    await signIn(page, stack);
    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    await Promise.all([page.waitForURL(/\/_gateway\/logout\?everywhere=1/, { waitUntil: 'domcontentloaded' }), page.getByRole('link', { name: 'Sign out everywhere' }).click()]);
    t.equal(await page.textContent('h1'), 'Sign out everywhere?');
    await Promise.all([page.waitForURL(/notice=signed_out_everywhere/, { waitUntil: 'domcontentloaded' }), page.getByRole('button', { name: 'Sign out everywhere' }).click()]);
    t.equal(await page.locator('.alert--success').textContent(), 'You were signed out everywhere: 1 session was ended.');
  });

  await t.test('the account page after a half-finished sign-in in a second browser: only real sessions, this one first, named buttons', async (t) => {
    const { stack, context, page } = await setUp(t);
    const second = await context.browser()!.newContext({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0' });
    t.teardown(() => second.close());
    await password(await second.newPage(), stack, 'alice', 'alice-password-1');
    const third = await context.browser()!.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' });
    t.teardown(() => third.close());
    await signIn(await third.newPage(), stack);
    await signIn(page, stack);
    await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    const rows = page.locator('section[aria-labelledby="sessions-title"] li.row');
    t.equal(await rows.count(), 2, 'the browser that only passed the password step is not listed');
    t.match(await rows.nth(0).textContent(), /This session/, 'this session first');
    t.notMatch(await page.locator('section[aria-labelledby="sessions-title"]').textContent(), /Edge|Windows/);
    t.match(await rows.nth(1).textContent(), /Firefox · Linux[\s\S]*127\.0\.0\.1 · Second step: Email code[\s\S]*last seen/);
    t.equal(await page.getByRole('button', { name: 'End session: Firefox · Linux, 127.0.0.1' }).count(), 1, 'the End session button’s accessible name says which');
  });

  await t.test('a German 404 page in the portal layout, with the request id', async (t) => {
    const { stack, page } = await setUp(t, { locale: 'de-DE' });
    const res = await page.goto(`${stack.url}/_gateway/gibt-es-nicht`, { waitUntil: 'domcontentloaded' });
    t.equal(res?.status(), 404);
    t.equal(await page.getAttribute('html', 'lang'), 'de');
    t.equal(await page.textContent('h1'), 'Seite nicht gefunden');
    t.equal(await page.textContent('.request-id code'), res?.headers()['x-request-id']);
    t.equal(await page.locator('.card').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderRadius: string } }).getComputedStyle(el).borderRadius), '10px', 'styled by the portal stylesheet');
  });

  await t.test('screenshots at 390 px and 1280 px: sign-in, code, authenticator set-up, account, error page', async (t) => {
    for (const width of [390, 1280]) {
      const { stack, page } = await setUp(t, { width });
      await page.goto(`${stack.url}/`, { waitUntil: 'domcontentloaded' });
      await shot(page, 'sign-in', width);
      await page.fill('#username', 'alice');
      await page.fill('#password', 'alice-password-1');
      await Promise.all([page.waitForURL(/\/_gateway\/verify/, { waitUntil: 'domcontentloaded' }), page.click('form button[type="submit"]')]);
      await shot(page, 'code', width);
      await page.fill('#code', '000000');
      await Promise.all([page.waitForURL(/\/_gateway\/verify/, { waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
      await shot(page, 'code-wrong', width);
      await page.fill('#code', latestCode(stack, 'alice@example.com'));
      await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
      // Every camera shows its own stream (the app behind the gateway has no CSP: a string is fine here).
      await page.waitForFunction("['camera1', 'camera2', 'camera3'].every((id) => document.getElementById(id).naturalWidth > 0)");
      await shot(page, 'camera-wall', width);
      await page.goto(`${stack.url}/_gateway/enroll/totp`, { waitUntil: 'domcontentloaded' });
      await page.click('summary');
      await shot(page, 'authenticator', width);
      await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
      await shot(page, 'account', width);
      await page.getByRole('link', { name: 'Sign out everywhere' }).click();
      await shot(page, 'account-confirm', width);
      await page.goto(`${stack.url}/_gateway/nope`, { waitUntil: 'domcontentloaded' });
      await shot(page, 'error-404', width);
      await page.goto(`${stack.url}/_gateway/dev/outbox`, { waitUntil: 'domcontentloaded' });
      await shot(page, 'outbox', width);
      // Nothing wider than the screen (no sideways scrolling on a phone).
      for (const path of ['/_gateway/login', '/_gateway/enroll/totp', '/_gateway/account']) {
        await page.goto(`${stack.url}${path}`, { waitUntil: 'domcontentloaded' });
        const scrollWidth = await page.locator('html').evaluate((el) => (el as unknown as { scrollWidth: number }).scrollWidth);
        t.ok(scrollWidth <= width, `${path} fits ${width} px (${scrollWidth})`);
      }
    }
    t.ok(existsSync(`${ARTIFACTS}account-390.png`), 'screenshots written to test/artifacts/');
  });
});
