import t from 'tap';
import { SmtpEmailSender } from '../../src/delivery/email.js';
import { extractCode, startSmtp } from '../fixtures/smtp.js';
import { startFakeTwilio } from '../fixtures/twilio.js';
import { deliveryConfig } from './helpers.js';

void t.test('smtp fixture: waitFor returns consecutive messages, filters and times out', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.stop());
  const config = deliveryConfig({ email: { transport: 'smtp', smtp: { host: '127.0.0.1', port: smtp.port, pool: false, timeout: '5s' } } });
  const s = new SmtpEmailSender(config.email.smtp!, config.email.from);
  t.teardown(() => s.close());
  const pending = smtp.waitFor((m) => m.subject === 'second');
  await s.send({ to: 'a@example.com', subject: 'first', text: 'one\n\n    111111\n' });
  await s.send({ to: 'b@example.com', subject: 'second', text: 'two' });
  t.equal((await pending).subject, 'second', 'a waiter wakes on the matching mail');
  t.equal((await smtp.waitFor()).subject, 'first', 'then the first unreturned one');
  await t.rejects(smtp.waitFor(undefined, 50), /no matching mail/);
  t.equal(extractCode(smtp.messages[0]!), '111111', 'extractCode reads the indented text line');
  t.throws(() => extractCode(smtp.messages[1]!), /no code/);
});

void t.test('twilio fixture: rejects bad requests the way Twilio does', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const auth = 'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64');
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
  const noAuth = await post('To=%2B14155550100&From=%2B15005550006&Body=x', { authorization: 'Basic eDp5' });
  t.equal(noAuth.status, 401);
  t.match(await noAuth.json(), { code: 20003, status: 401, more_info: /20003/ });
  const badTo = await post('To=0151&From=%2B15005550006&Body=x');
  t.match(await badTo.json(), { code: 21211, status: 400 });
  const noFrom = await post('To=%2B14155550100&Body=x');
  t.match(await noFrom.json(), { code: 21603 });
  const ok = await post('To=%2B14155550100&From=%2B15005550006&Body=hello');
  t.equal(ok.status, 201);
  t.match(await ok.json(), { sid: /^SM[0-9a-f]{32}$/, to: '+14155550100', body: 'hello', status: 'queued' });
  t.equal(fake.messages.length, 1);
  t.equal(fake.requests, 4);
});
