import t, { type Test } from 'tap';
import { createDelivery, type Delivery } from '../../src/delivery/index.js';
import { deliveryFailureReason } from '../../src/delivery/failure.js';
import { PortcullisError } from '../../src/errors/index.js';
import { extractCode, extractLink, startSmtp, type SmtpFixture } from '../fixtures/smtp.js';
import { startFakeTwilio, type FakeTwilio } from '../fixtures/twilio.js';
import { captureLogger, deliveryConfig } from './helpers.js';

const CODE = '731905';

async function realDelivery(t: Test, opts: { fallback?: boolean } = {}): Promise<{ d: Delivery; smtp: SmtpFixture; twilio: FakeTwilio; log: ReturnType<typeof captureLogger> }> {
  const smtp = await startSmtp();
  const twilio = await startFakeTwilio();
  const log = captureLogger();
  const config = deliveryConfig({
    email: { transport: 'smtp', from: 'Acme VMS <no-reply@acme.test>', smtp: { host: '127.0.0.1', port: smtp.port, timeout: '5s' } },
    sms: {
      provider: 'twilio',
      twilio: { account_sid: twilio.accountSid, auth_token: twilio.authToken, from: '+15005550006', api_base_url: twilio.url, timeout: '5s' },
      fallback_to_email: opts.fallback ?? true,
    },
  });
  const d = createDelivery(config, { logger: log.logger, title: 'Acme VMS' });
  t.teardown(async () => {
    await d.close();
    await smtp.stop();
    await twilio.stop();
  });
  return { d, smtp, twilio, log };
}

function assertNoCodeInLogs(t: Test, log: ReturnType<typeof captureLogger>, code: string): void {
  const lines = log.lines();
  t.ok(lines.length > 0, 'something was logged');
  t.notOk(log.raw().includes(code), 'the code appears in no log line');
  for (const line of lines) t.not(line.dev_delivery, true, 'no dev delivery line from real transports');
}

void t.test('a code by email, localised, with the product title', async (t) => {
  const { d, smtp, log } = await realDelivery(t);
  t.equal(d.outbox, undefined, 'no outbox with real transports');
  const r = await d.sendCode({ channel: 'email', address: 'alice@example.com' }, CODE, { lang: 'de', ttlMs: 300_000, user: 'alice', displayName: 'Alice' });
  t.same(r, { channel: 'email', address: 'alice@example.com', fellBack: false });
  const mail = await smtp.waitFor();
  t.equal(extractCode(mail), CODE);
  t.equal(mail.subject, 'Ihr Anmeldecode für Acme VMS');
  t.match(mail.text, /Hallo Alice,/);
  t.match(mail.text, /5 Minuten lang gültig/);
  t.equal(mail.from?.value[0]?.address, 'no-reply@acme.test');
  t.equal(log.raw().includes(CODE), false);
});

void t.test('a code by SMS through twilio', async (t) => {
  const { d, twilio, log } = await realDelivery(t);
  const r = await d.sendCode({ channel: 'sms', address: '+4915112345678', fallbackEmail: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' });
  t.same(r, { channel: 'sms', address: '+4915112345678', fellBack: false });
  t.equal(twilio.messages.length, 1);
  t.match(twilio.messages[0]?.body, new RegExp(`^${CODE} is your Acme VMS sign-in code, valid for 5 minutes`));
  t.equal(log.raw().includes(CODE), false);
});

void t.test('an SMS that fails falls back to email (seed 002)', async (t) => {
  const { d, smtp, twilio, log } = await realDelivery(t);
  twilio.failNext(500);
  const r = await d.sendCode({ channel: 'sms', address: '+4915112345678', fallbackEmail: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice', requestId: 'req-1' });
  t.same(r, { channel: 'email', address: 'alice@example.com', fellBack: true });
  const mail = await smtp.waitFor();
  t.equal(extractCode(mail), CODE);
  const failure = log.lines().find((l) => l.event === 'code_delivery');
  t.match(failure, { audit: true, result: 'failure', reason: 'api_error', channel: 'sms', user: 'alice', request_id: 'req-1', fallback: 'email', destination: '+49 *** *** 78' });
  t.ok(log.lines().some((l) => l.event === 'code_delivery_fallback'));
  assertNoCodeInLogs(t, log, CODE);
});

void t.test('an invalid number falls back too, and the reason is audited', async (t) => {
  const { d, smtp, twilio, log } = await realDelivery(t);
  twilio.failNext(400, 21211);
  const r = await d.sendCode({ channel: 'sms', address: '+4915112345678', fallbackEmail: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' });
  t.equal(r.fellBack, true);
  await smtp.waitFor();
  t.equal(log.lines().find((l) => l.event === 'code_delivery')?.reason, 'invalid_number');
});

void t.test('no fallback when disabled, or without an email address', async (t) => {
  const { d, smtp, twilio, log } = await realDelivery(t, { fallback: false });
  twilio.failAll(503);
  const err = await d.sendCode({ channel: 'sms', address: '+4915112345678', fallbackEmail: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' }).catch((e: unknown) => e);
  t.ok(err instanceof PortcullisError);
  t.equal((err as PortcullisError).code, 'PORTCULLIS_ERR_DELIVERY_FAILED');
  t.equal(deliveryFailureReason(err), 'api_error');
  t.equal(smtp.messages.length, 0);
  t.equal(log.lines().find((l) => l.event === 'code_delivery')?.fallback, 'none');

  const other = await realDelivery(t, { fallback: true });
  other.twilio.failAll(503);
  const err2 = await other.d.sendCode({ channel: 'sms', address: '+4915112345678' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'bob' }).catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err2), 'api_error');
  t.equal(other.smtp.messages.length, 0);
  assertNoCodeInLogs(t, log, CODE);
  assertNoCodeInLogs(t, other.log, CODE);
});

void t.test('when the fallback email fails too, the email failure is thrown', async (t) => {
  const { d, smtp, twilio, log } = await realDelivery(t);
  twilio.failAll(500);
  smtp.setFailing(550);
  const err = await d.sendCode({ channel: 'sms', address: '+4915112345678', fallbackEmail: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' }).catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err), 'rejected');
  const events = log.lines().filter((l) => l.event === 'code_delivery');
  t.same(
    events.map((e) => [e.channel, e.reason]),
    [
      ['sms', 'api_error'],
      ['email', 'rejected'],
    ],
  );
  assertNoCodeInLogs(t, log, CODE);
});

void t.test('an email code that cannot be sent is audited without the code', async (t) => {
  const { d, smtp, log } = await realDelivery(t);
  smtp.setFailing(550);
  const err = await d.sendCode({ channel: 'email', address: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' }).catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err), 'rejected');
  t.match(log.lines().find((l) => l.event === 'code_delivery'), { channel: 'email', reason: 'rejected', destination: 'a***@example.com' });
  assertNoCodeInLogs(t, log, CODE);
});

void t.test('notify sends the security emails (seed 001: locked, invite)', async (t) => {
  const { d, smtp } = await realDelivery(t);
  await d.notify('locked', 'alice@example.com', { name: 'Alice' }, 'fr');
  const locked = await smtp.waitFor();
  t.equal(locked.subject, 'Votre compte Acme VMS a été verrouillé');
  await d.notify('invite', 'new@example.com', { name: 'New', link: 'https://vms.example.com/_gateway/invite/abc', minutes: String(7 * 1440) }, 'en');
  const invite = await smtp.waitFor();
  t.equal(extractLink(invite), 'https://vms.example.com/_gateway/invite/abc');
  t.match(invite.text, /valid for 7 days/);
  smtp.setFailing(550);
  const err = await d.notify('new_device', 'alice@example.com', {}, 'en').catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err), 'rejected');
});

void t.test('notify: default time, and verify_destination by SMS to a phone', async (t) => {
  const { ManualClock } = await import('../../src/util/clock.js');
  const log = captureLogger();
  const d = createDelivery(deliveryConfig({}), { logger: log.logger, title: 'Demo', clock: new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5)) });
  await d.notify('new_device', 'alice@example.com', { name: 'Alice', device: 'Firefox', ip: '192.0.2.1' }, 'en');
  t.match(d.outbox!.latest()?.text, /new device: Firefox \(192\.0\.2\.1\), 2026-01-02 03:04 UTC\./);
  await d.notify('verify_destination', '+4915112345678', { code: '246810', minutes: '10' }, 'de');
  t.match(d.outbox!.latest(), { channel: 'sms', to: '+4915112345678' });
  t.match(d.outbox!.latest()?.text, /^246810 ist Ihr Code zur Bestätigung dieser Telefonnummer für Demo, 10 Minuten lang gültig\.$/);
  await d.notify('verify_destination', 'new@example.com', { code: '135790', minutes: '10' }, 'en');
  t.match(d.outbox!.latest()?.text, /confirm new@example\.com for Demo/);
  const bad = await d.notify('verify_destination', '12345', { code: '1', minutes: '10' }, 'en').catch((e: unknown) => e);
  t.equal(deliveryFailureReason(bad), 'invalid_number');
});

void t.test('check() reports every failing transport at once', async (t) => {
  const { d, twilio, smtp } = await realDelivery(t);
  await d.check();
  twilio.failAll(500);
  await smtp.stop();
  const err = (await d.check().catch((e: unknown) => e)) as PortcullisError;
  t.equal(err.code, 'PORTCULLIS_ERR_DELIVERY_FAILED');
  t.same(err.details.failures, [
    { channel: 'email', reason: 'network' },
    { channel: 'sms', reason: 'api_error' },
  ]);
  t.match(err.message, /email \(network\), sms \(api_error\)/);
});

void t.test('console delivery (the demo) fills the outbox', async (t) => {
  const log = captureLogger();
  const d = createDelivery(deliveryConfig({}), { logger: log.logger, title: 'Demo' });
  t.teardown(() => d.close());
  t.ok(d.outbox, 'an outbox');
  await d.sendCode({ channel: 'email', address: 'alice@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'alice' });
  await d.sendCode({ channel: 'sms', address: '+4915112345678' }, '000111', { lang: 'en', ttlMs: 60_000, user: 'alice' });
  const [email, sms] = d.outbox!.list();
  t.match(email, { channel: 'email', to: 'alice@example.com', subject: 'Your Demo sign-in code' });
  t.match(email?.text, new RegExp(`^ {4}${CODE}$`, 'm'));
  t.match(sms, { channel: 'sms', to: '+4915112345678' });
  t.match(sms?.text, /^000111 is your Demo sign-in code, valid for 1 minute\./);
  t.ok(log.lines().every((l) => l.dev_delivery === true || !JSON.stringify(l).includes(CODE)), 'codes only in dev delivery lines');
  await d.check();
});

void t.test('a console SMS with a bad number falls back to the console email', async (t) => {
  const log = captureLogger();
  const d = createDelivery(deliveryConfig({}), { logger: log.logger, title: 'Demo' });
  const r = await d.sendCode({ channel: 'sms', address: '0151', fallbackEmail: 'a@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'a' });
  t.same(r, { channel: 'email', address: 'a@example.com', fellBack: true });
  t.equal(d.outbox!.list().length, 1);
});

void t.test('templatesDir from deps overrides the configured folder', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const path = await import('node:path');
  const join = path.join.bind(path);
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tpl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'code.subject'), 'Custom {{title}} code');
  const log = captureLogger();
  const d = createDelivery(deliveryConfig({ email: { templates_dir: '/nonexistent' } }), { logger: log.logger, title: 'Demo', templatesDir: dir });
  await d.sendCode({ channel: 'email', address: 'a@example.com' }, CODE, { lang: 'en', ttlMs: 300_000, user: 'a' });
  t.equal(d.outbox!.latest()?.subject, 'Custom Demo code');
});
