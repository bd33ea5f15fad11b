import { existsSync } from 'node:fs';
import t from 'tap';
import { chromium, type Browser } from 'playwright-core';
import { startDemoApp } from '../../src/demo/app.js';
import { startStack } from '../fixtures/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

void t.test('a real browser: sign in with an emailed code, the camera page streams, sign out', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, async (t) => {
  const demo = await startDemoApp();
  t.teardown(() => demo.close());
  const stack = await startStack({ config: { upstreams: [{ name: 'demo', url: demo.url }] } });
  t.teardown(() => stack.close());
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);

  await page.goto(`${stack.url}/`, { waitUntil: 'domcontentloaded' });
  t.match(new URL(page.url()).pathname, '/_gateway/login', 'sent to the login page');
  await page.fill('#username', 'alice');
  await page.fill('#password', 'alice-password-1');
  await Promise.all([page.waitForURL(/\/_gateway\/verify/, { waitUntil: 'domcontentloaded' }), page.click('form button[type="submit"]')]);

  const mail = stack.gateway.gateway.core.delivery.outbox!.latest('alice@example.com');
  const code = /\b(\d{6})\b/.exec(mail?.text ?? '')?.[1];
  t.ok(code, 'the code arrived in the outbox');
  await page.fill('#code', code!);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded' }),
    page.click('form:has(#code) button[type="submit"]'),
  ]);

  t.equal(await page.textContent('#remote-user'), 'alice', 'the camera page shows the user');
  t.equal(await page.textContent('#remote-name'), 'Alice Operator');
  // Page-side expressions as strings: the tests compile without the DOM library.
  await page.waitForFunction("document.getElementById('camera1') !== null && document.getElementById('camera1').naturalWidth > 0");
  t.ok(Number(await page.evaluate("document.getElementById('camera1').naturalWidth")) > 0, 'the MJPEG stream shows frames');
  await page.waitForSelector('#events li');
  t.ok((await page.locator('#events li').count()) >= 1, 'WebSocket events are listed');

  await page.goto(`${stack.url}/_gateway/account`, { waitUntil: 'domcontentloaded' });
  t.match(await page.textContent('main'), /Alice Operator/);
  await Promise.all([
    page.waitForURL(/\/_gateway\/login/, { waitUntil: 'domcontentloaded' }),
    page.click('form[action="/_gateway/logout"] button[type="submit"]'),
  ]);
  t.match(page.url(), /\/_gateway\/login\?notice=logged_out/, 'back at the login page');
  await page.goto(`${stack.url}/`, { waitUntil: 'domcontentloaded' });
  t.match(new URL(page.url()).pathname, '/_gateway/login', 'the session is gone');
});
