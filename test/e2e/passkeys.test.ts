/**
 * Passkeys in a real browser (issue 10): Chromium's virtual authenticator over CDP (ctap2, internal,
 * resident key, user verification) stands in for a phone or a security key. A person adds a passkey on
 * the account page, signs out, signs in with the password and the passkey and reaches the app; a mobile
 * client does the same through the JSON API with the ceremony run in the browser page. Screenshots of the
 * two passkey pages go to test/artifacts/ for review.
 */
import { mkdirSync } from 'node:fs';
import t, { type Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import net from 'node:net';
import { startDemoApp } from '../../src/demo/app.js';
import { demoConfig, localhostAlias } from '../../src/demo/run.js';
import { createLogger } from '../../src/observability/logger.js';
import { startGateway } from '../../src/main.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { DEMO_PASSWORDS } from '../../src/users/demo-users.js';
import type { WebAuthnFactor } from '../../src/factors/webauthn.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';

import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS as ARGS, CHROMIUM_SKIP as SKIP } from '../fixtures/chromium.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};
// reverify_grace 0: signing in again in the same browser asks for the second factor again.
const CONFIG = { second_factor: { methods: ['email' as const, 'totp' as const, 'webauthn' as const, 'recovery_code' as const] }, session: { reverify_grace: 0 } };

interface Setup {
  stack: Stack;
  /** The gateway at `localhost` (an IP address is not a valid WebAuthn RP ID). */
  base: string;
  context: BrowserContext;
  page: Page;
}

async function setUp(t: Test, browser: Browser): Promise<Setup> {
  const demo = await startDemoApp();
  t.teardown(() => demo.close());
  const stack = await startStack({ users: USERS, config: { ...CONFIG, upstreams: [{ name: 'demo', url: demo.url }] } });
  t.teardown(() => stack.close());
  const base = stack.url.replace('127.0.0.1', 'localhost');
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { stack, base, context, page };
}

function passkeysOf(stack: Stack): ReturnType<WebAuthnFactor['list']> {
  return (stack.gateway.gateway.core.factors.get('webauthn') as WebAuthnFactor).list('alice');
}

function latestCode(stack: Stack, to: string): string {
  const code = stack.gateway.gateway.core.delivery.outbox!.latest(to)?.code;
  if (!code) throw new Error(`no code for ${to}`);
  return code;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}-1280.png`, fullPage: true });
}

async function passwordStep(s: Setup): Promise<void> {
  await s.page.goto(`${s.base}/`, { waitUntil: 'domcontentloaded' });
  await s.page.fill('#username', 'alice');
  await s.page.fill('#password', 'alice-password-1');
  await Promise.all([s.page.waitForURL(/\/_gateway\/verify/, { waitUntil: 'domcontentloaded' }), s.page.click('form button[type="submit"]')]);
}

/** Password and emailed code, then a passkey added from the account page. */
async function enrolPasskey(t: Test, s: Setup): Promise<void> {
  await passwordStep(s);
  await s.page.fill('#code', latestCode(s.stack, 'alice@example.com'));
  await Promise.all([s.page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), s.page.click('form:has(#code) button[type="submit"]')]);
  await s.page.goto(`${s.base}/_gateway/account`, { waitUntil: 'domcontentloaded' });
  await Promise.all([s.page.waitForURL(/\/_gateway\/enroll\/webauthn/, { waitUntil: 'domcontentloaded' }), s.page.click('a[href$="/enroll/webauthn"]')]);
  await s.page.waitForSelector('button[data-webauthn-mode="create"]:not([hidden])');
  await s.page.fill('#name', 'Work laptop');
  await shot(s.page, 'passkey-add');
  // The first strong method comes with recovery codes, shown once on the answer page.
  await Promise.all([s.page.waitForSelector('#recovery-codes, .alert--error:not([hidden])'), s.page.click('button[data-webauthn-mode="create"]')]);
  t.equal(await s.page.locator('.alert--error:not([hidden])').count(), 0, 'no error shown');
  const passkeys = await passkeysOf(s.stack);
  t.equal(passkeys.length, 1, 'the passkey is kept');
  t.equal(passkeys[0]?.name, 'Work laptop', 'with the name given');
}

let browser: Browser;

void t.test('passkeys in a real browser', { skip: SKIP }, async (t) => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  t.teardown(() => browser.close());

  await t.test('add a passkey on the account page, sign out, sign in with the password and the passkey, reach the app', async (t) => {
    const s = await setUp(t, browser);
    await enrolPasskey(t, s);
    await s.page.goto(`${s.base}/_gateway/account`, { waitUntil: 'domcontentloaded' });
    t.match(await s.page.textContent('main'), /Work laptop/, 'the account page lists the passkey by name');
    await shot(s.page, 'passkey-account');
    await s.page.click('details.rename > summary');
    await s.page.waitForSelector('details.rename[open] input[name="name"]');
    await s.page.setViewportSize({ width: 390, height: 844 });
    await s.page.screenshot({ path: `${ARTIFACTS}passkey-rename-390.png`, fullPage: true });
    await s.page.setViewportSize({ width: 1280, height: 900 });
    await Promise.all([s.page.waitForURL(/\/_gateway\/login/, { waitUntil: 'domcontentloaded' }), s.page.click('form[action="/_gateway/logout"] button[type="submit"]')]);

    await passwordStep(s);
    // The passkey is offered first, the other methods one click away.
    await s.page.waitForSelector('button[data-webauthn-mode="get"]:not([hidden])');
    t.equal(await s.page.locator('form:has(input[name="method"][value="email"]) button.button--choice').count(), 1, 'email is one click away');
    await shot(s.page, 'passkey-verify');
    const mailsBefore = s.stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.code).length;
    await Promise.all([s.page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), s.page.click('button[data-webauthn-mode="get"]')]);
    t.equal(await s.page.textContent('#remote-user'), 'alice', 'the app sees the user');
    t.equal(s.stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.code).length, mailsBefore, 'no code was sent for the passkey step');
    t.ok(s.stack.logs.audits('second_factor').some((e) => e.method === 'webauthn' && e.result === 'success'), 'audited as a passkey second factor');
    const passkeys = await passkeysOf(s.stack);
    t.ok(passkeys[0]?.lastUsedAt !== undefined, 'the passkey now has a last-used date');
  });

  await t.test('the JSON API sequence of a mobile client: login, webauthn/options, the ceremony, verify, a bearer token', async (t) => {
    const s = await setUp(t, browser);
    await enrolPasskey(t, s);
    const login = await fetch(`${s.base}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'alice-password-1' }) });
    t.equal(login.status, 200);
    const step = (await login.json()) as { flow: string; methods: { type: string }[] | string[] };
    const types = step.methods.map((m) => (typeof m === 'string' ? m : m.type));
    t.ok(types.includes('webauthn'), `webauthn is offered (${types.join(', ')})`);
    const optionsRes = await fetch(`${s.base}/_gateway/api/v1/webauthn/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: step.flow }) });
    t.equal(optionsRes.status, 200);
    const options = (await optionsRes.json()) as { challenge: string; rpId: string; allowCredentials: unknown[] };
    t.equal(options.rpId, 'localhost');
    t.equal(options.allowCredentials.length, 1, "alice's passkey is allowed");

    // The ceremony, as the app's platform API would run it: in a page of the gateway's origin, with the
    // @simplewebauthn/browser bundle the portal serves.
    await s.page.goto(`${s.base}/_gateway/login`, { waitUntil: 'domcontentloaded' });
    await s.page.addScriptTag({ url: `${s.base}/_gateway/static/webauthn.js` });
    const credential = String(await s.page.evaluate(`SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: ${JSON.stringify(options)} }).then((a) => JSON.stringify(a))`));
    t.type(credential, 'string');
    const verified = await fetch(`${s.base}/_gateway/api/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: step.flow, method: 'webauthn', credential: JSON.parse(credential) as unknown }) });
    t.equal(verified.status, 200, 'the assertion is accepted');
    const { token } = (await verified.json()) as { token?: string };
    t.ok(token, 'a bearer token');
    const app = await fetch(`${s.base}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
    t.not(app.status, 401, 'the token opens the app');
    t.not(app.status, 302);

    // The same assertion again: refused (the challenge was used up).
    const login2 = await fetch(`${s.base}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'alice-password-1' }) });
    const step2 = (await login2.json()) as { flow: string };
    const replay = await fetch(`${s.base}/_gateway/api/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: step2.flow, method: 'webauthn', credential: JSON.parse(credential) as unknown }) });
    t.ok(replay.status >= 400, `a replayed assertion is refused (${replay.status})`);
  });
});

void t.test('the demo: bob adds a passkey at http://localhost:PORT and signs in with it on the next visit', { skip: SKIP }, async (t) => {
  const b = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  t.teardown(() => b.close());
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const app = await startDemoApp();
  t.teardown(() => app.close());
  const config = demoConfig(`127.0.0.1:${port}`, '', app.url);
  const running = await startGateway({ config, logger: createLogger({ ...config.logging, level: 'silent' }), demo: true, store: new MemoryStore() });
  t.teardown(() => running.close());
  const base = localhostAlias(`127.0.0.1:${port}`)!;
  t.equal(base, `http://localhost:${port}`);
  const context = await b.newContext({ locale: 'en-US' });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
  const outbox = running.gateway.core.delivery.outbox!;
  const signInPassword = async (): Promise<void> => {
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    await page.fill('#username', 'bob');
    await page.fill('#password', DEMO_PASSWORDS.bob!);
    await Promise.all([page.waitForURL(/\/_gateway\/verify/, { waitUntil: 'domcontentloaded' }), page.click('form button[type="submit"]')]);
  };
  await signInPassword();
  await page.fill('#code', outbox.latest('bob@example.com')?.code ?? outbox.list().at(-1)?.code ?? '');
  await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), page.click('form:has(#code) button[type="submit"]')]);
  await page.goto(`${base}/_gateway/account`, { waitUntil: 'domcontentloaded' });
  await Promise.all([page.waitForURL(/\/_gateway\/enroll\/webauthn/, { waitUntil: 'domcontentloaded' }), page.click('a[href$="/enroll/webauthn"]')]);
  await page.waitForSelector('button[data-webauthn-mode="create"]:not([hidden])');
  await page.fill('#name', 'Phone');
  await Promise.all([page.waitForSelector('#recovery-codes, .alert--error:not([hidden])'), page.click('button[data-webauthn-mode="create"]')]);
  t.equal(await page.locator('.alert--error:not([hidden])').count(), 0, 'the passkey was added');
  await page.goto(`${base}/_gateway/account`, { waitUntil: 'domcontentloaded' });
  await Promise.all([page.waitForURL(/\/_gateway\/login/, { waitUntil: 'domcontentloaded' }), page.click('form[action="/_gateway/logout"] button[type="submit"]')]);
  // The next visit: a browser that is not remembered (no grace, no trusted device) — the authenticator stays.
  await context.clearCookies();
  await signInPassword();
  await page.waitForSelector('button[data-webauthn-mode="get"]:not([hidden])');
  await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }), page.click('button[data-webauthn-mode="get"]')]);
  t.equal(await page.textContent('#remote-user'), 'bob', 'bob reaches the camera app with his passkey');
});
