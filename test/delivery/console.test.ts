import t from 'tap';
import { ConsoleEmailSender, ConsoleSmsSender } from '../../src/delivery/console.js';
import { deliveryFailureReason } from '../../src/delivery/failure.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { ManualClock } from '../../src/util/clock.js';
import { captureLogger } from './helpers.js';

void t.test('console transports record into the outbox and log as dev delivery', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  const outbox = new Outbox({ clock });
  const { logger, lines } = captureLogger();
  const email = new ConsoleEmailSender(outbox, logger);
  const sms = new ConsoleSmsSender(outbox, logger);
  await email.send({ to: 'alice@example.com', subject: 'Your code', text: 'Code: 424242', html: '<p>424242</p>' });
  clock.advance(1000);
  await sms.send({ to: '+4915112345678', text: '515151 is your code' });
  t.same(outbox.list(), [
    { channel: 'email', to: 'alice@example.com', subject: 'Your code', text: 'Code: 424242', at: '2026-01-02T03:04:05.000Z' },
    { channel: 'sms', to: '+4915112345678', text: '515151 is your code', at: '2026-01-02T03:04:06.000Z' },
  ]);
  t.equal(outbox.latest()?.channel, 'sms');
  t.equal(outbox.latest('alice@example.com')?.text, 'Code: 424242');
  t.equal(outbox.latest('nobody@example.com'), undefined);
  const logged = lines();
  t.equal(logged.length, 2);
  for (const line of logged) {
    t.equal(line.dev_delivery, true);
    t.equal(line.level, 'info');
    t.equal(line.code, undefined, 'not under the redacted code key');
  }
  t.match(logged[0]?.text, /424242/, 'the log is the development channel');
  await email.check();
  await sms.check();
  await email.close();
  await sms.close();
});

void t.test('the outbox is bounded and returns copies', (t) => {
  const outbox = new Outbox({ capacity: 3 });
  for (let i = 0; i < 5; i++) outbox.add({ channel: 'sms', to: '+14155550100', text: `m${i}` });
  t.same(
    outbox.list().map((e) => e.text),
    ['m2', 'm3', 'm4'],
  );
  outbox.list()[0]!.text = 'changed';
  t.equal(outbox.list()[0]?.text, 'm2');
  outbox.clear();
  t.same(outbox.list(), []);
  const defaults = new Outbox();
  t.equal(defaults.capacity, 100);
  for (let i = 0; i < 150; i++) defaults.add({ channel: 'email', to: 'a@b.c', text: String(i) });
  t.equal(defaults.list().length, 100);
  t.equal(defaults.list()[0]?.text, '50');
  t.end();
});

void t.test('console transports refuse what the real ones refuse', async (t) => {
  const outbox = new Outbox();
  const { logger } = captureLogger();
  const err = await new ConsoleSmsSender(outbox, logger).send({ to: '0151 1234', text: 'x' }).catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err), 'invalid_number');
  const err2 = await new ConsoleEmailSender(outbox, logger).send({ to: 'not-an-address', subject: 's', text: 'x' }).catch((e: unknown) => e);
  t.equal(deliveryFailureReason(err2), 'invalid_address');
  t.same(outbox.list(), []);
});
