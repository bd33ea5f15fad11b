import net from 'node:net';
import t, { type Test } from 'tap';
import { SmtpEmailSender } from '../../src/delivery/email.js';
import { deliveryFailureReason } from '../../src/delivery/failure.js';
import { startSmtp } from '../fixtures/smtp.js';
import { deliveryConfig, failure } from './helpers.js';

function sender(t: Test, smtp: Record<string, unknown>, from = 'Portcullis <no-reply@gate.test>'): SmtpEmailSender {
  const config = deliveryConfig({ email: { transport: 'smtp', from, smtp: { host: '127.0.0.1', timeout: '5s', ...smtp } } });
  const s = new SmtpEmailSender(config.email.smtp!, config.email.from);
  t.teardown(() => s.close());
  return s;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

void t.test('a mail is received with subject, text, html, from and to', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.stop());
  for (const pool of [true, false]) {
    const s = sender(t, { port: smtp.port, pool });
    await s.send({ to: 'alice@example.com', subject: 'Hello', text: 'plain body', html: '<p>html body</p>' });
    const mail = await smtp.waitFor();
    t.equal(mail.subject, 'Hello', `subject (pool ${pool})`);
    t.equal(mail.text?.trim(), 'plain body');
    t.match(String(mail.html), /<p>html body<\/p>/);
    t.equal(mail.from?.value[0]?.address, 'no-reply@gate.test');
    t.equal(mail.from?.value[0]?.name, 'Portcullis');
    const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
    t.equal(to?.value[0]?.address, 'alice@example.com');
  }
  t.equal(smtp.envelopes[0]?.from, 'no-reply@gate.test');
  t.same(smtp.envelopes[0]?.to, ['alice@example.com']);
});

void t.test('a subject cannot inject headers', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.stop());
  await sender(t, { port: smtp.port }).send({ to: 'alice@example.com', subject: 'Hi\r\nBcc: evil@example.com', text: 'x' });
  const mail = await smtp.waitFor();
  t.equal(mail.bcc, undefined);
  t.same(smtp.envelopes[0]?.to, ['alice@example.com']);
  t.notMatch(mail.subject ?? '', /\n/);
});

void t.test('SMTP AUTH with user and password', async (t) => {
  const smtp = await startSmtp({ auth: { user: 'mailer', pass: 's3cret-pass' } });
  t.teardown(() => smtp.stop());
  await sender(t, { port: smtp.port, user: 'mailer', password: 's3cret-pass' }).send({ to: 'bob@example.com', subject: 'A', text: 'B' });
  await smtp.waitFor();
  t.equal(smtp.envelopes[0]?.user, 'mailer');

  const wrong = sender(t, { port: smtp.port, user: 'mailer', password: 'wrong-pass' });
  const err = await failure(t, wrong.send({ to: 'bob@example.com', subject: 'A', text: 'B' }));
  t.equal(deliveryFailureReason(err), 'auth');
  t.notMatch(err.message, /wrong-pass/);
  t.notMatch(String((err.cause as Error).message), /wrong-pass/, 'the cause names no password');
  const noAuth = sender(t, { port: smtp.port });
  await failure(t, noAuth.send({ to: 'bob@example.com', subject: 'A', text: 'B' }));
  t.equal(smtp.messages.length, 1);
});

void t.test('a server rejecting the recipient is DELIVERY_FAILED', async (t) => {
  const smtp = await startSmtp({ failWith: 550 });
  t.teardown(() => smtp.stop());
  const s = sender(t, { port: smtp.port });
  const err = await failure(t, s.send({ to: 'alice@example.com', subject: 'A', text: 'B' }));
  t.equal(deliveryFailureReason(err), 'rejected');
  t.equal((err.cause as { responseCode?: number }).responseCode, 550);
  smtp.setFailing(451);
  t.equal(deliveryFailureReason(await failure(t, s.send({ to: 'alice@example.com', subject: 'A', text: 'B' }))), 'rejected', 'temporary failure too');
  smtp.setFailing();
  await s.send({ to: 'alice@example.com', subject: 'A', text: 'B' });
  t.equal(smtp.messages.length, 1);
});

void t.test('a server that is down fails quickly as a network failure', async (t) => {
  const port = await closedPort();
  const s = sender(t, { port });
  const err = await failure(t, s.send({ to: 'alice@example.com', subject: 'A', text: 'B' }));
  t.equal(deliveryFailureReason(err), 'network');
  t.equal(deliveryFailureReason(await failure(t, s.check())), 'network', 'check() too');
});

void t.test('a server that never greets is a timeout', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const s = sender(t, { port: (silent.address() as net.AddressInfo).port, timeout: '300ms', pool: false });
  const err = await failure(t, s.send({ to: 'alice@example.com', subject: 'A', text: 'B' }));
  t.equal(deliveryFailureReason(err), 'timeout');
});

void t.test('STARTTLS with the test server certificate', async (t) => {
  const smtp = await startSmtp({ starttls: true });
  t.teardown(() => smtp.stop());
  await sender(t, { port: smtp.port, require_tls: true, tls: { reject_unauthorized: false } }).send({ to: 'a@example.com', subject: 'tls', text: 'x' });
  await smtp.waitFor();
  t.equal(smtp.envelopes[0]?.secure, true, 'the session was upgraded');
  const strict = sender(t, { port: smtp.port, require_tls: true });
  t.equal(deliveryFailureReason(await failure(t, strict.send({ to: 'a@example.com', subject: 'tls', text: 'x' }))), 'tls', 'an untrusted certificate is refused');
});

void t.test('require_tls against a server without STARTTLS fails', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.stop());
  const s = sender(t, { port: smtp.port, require_tls: true });
  await failure(t, s.send({ to: 'a@example.com', subject: 'x', text: 'x' }));
  t.equal(smtp.messages.length, 0);
});

void t.test('check() verifies the connection and credentials', async (t) => {
  const smtp = await startSmtp({ auth: { user: 'u', pass: 'p' } });
  t.teardown(() => smtp.stop());
  await sender(t, { port: smtp.port, user: 'u', password: 'p' }).check();
  t.equal(deliveryFailureReason(await failure(t, sender(t, { port: smtp.port, user: 'u', password: 'bad' }).check())), 'auth');
});

void t.test('an unreadable ca_file is a config error', (t) => {
  t.throws(() => sender(t, { port: 25, tls: { ca_file: '/nonexistent/ca.pem' } }), { code: 'PORTCULLIS_ERR_CONFIG' });
  t.end();
});

void t.test('a logged SMTP failure carries no body or password', async (t) => {
  const { captureLogger } = await import('./helpers.js');
  const smtp = await startSmtp({ auth: { user: 'mailer', pass: 'right-pass' }, failWith: 550 });
  t.teardown(() => smtp.stop());
  const log = captureLogger();
  const rejected = await sender(t, { port: smtp.port, user: 'mailer', password: 'right-pass' }).send({ to: 'a@example.com', subject: 's', text: 'code 564738' }).catch((e: unknown) => e);
  const badAuth = await sender(t, { port: smtp.port, user: 'mailer', password: 'wrong-pass-xyz' }).send({ to: 'a@example.com', subject: 's', text: 'code 564738' }).catch((e: unknown) => e);
  for (const err of [rejected, badAuth]) log.logger.error({ err }, 'mail failed');
  const raw = log.raw();
  t.notOk(raw.includes('564738'), 'no code');
  t.notOk(raw.includes('right-pass'), 'no password');
  t.notOk(raw.includes('wrong-pass-xyz'), 'no attempted password');
  t.notOk(raw.includes(Buffer.from('\0mailer\0wrong-pass-xyz').toString('base64')), 'no AUTH PLAIN blob');
});
