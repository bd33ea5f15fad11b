import t from 'tap';
import { deliveryFailureReason } from '../../src/delivery/failure.js';
import { TwilioSmsSender } from '../../src/delivery/sms.js';
import { RebasingRequestClient } from '../../src/delivery/twilio-http.js';
import { startFakeTwilio, type FakeTwilio } from '../fixtures/twilio.js';
import { deliveryConfig, failure } from './helpers.js';

function sender(fake: FakeTwilio, extra: Record<string, unknown> = {}): TwilioSmsSender {
  const config = deliveryConfig({
    sms: {
      provider: 'twilio',
      twilio: { account_sid: fake.accountSid, auth_token: fake.authToken, from: '+15005550006', api_base_url: fake.url, timeout: '5s', ...extra },
    },
  });
  const s = new TwilioSmsSender(config.sms.twilio!);
  t.teardown(() => s.close());
  return s;
}

void t.test('sends through the real twilio SDK to the API base URL', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake);
  await s.send({ to: '+4915112345678', text: '123456 is your code' });
  t.equal(fake.messages.length, 1);
  const m = fake.messages[0]!;
  t.equal(m.to, '+4915112345678');
  t.equal(m.from, '+15005550006');
  t.equal(m.body, '123456 is your code');
  t.equal(m.messagingServiceSid, undefined);
  t.equal(m.accountSid, fake.accountSid);
  t.equal(m.auth, 'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64'), 'HTTP Basic with sid:token');
});

void t.test('messaging_service_sid is sent instead of From', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake, { from: undefined, messaging_service_sid: 'MG0123456789abcdef0123456789abcdef' });
  await s.send({ to: '+14155550100', text: 'hi' });
  t.equal(fake.messages[0]?.messagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
  t.equal(fake.messages[0]?.from, undefined);
});

void t.test('wrong credentials are an api_error', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake, { auth_token: 'wrong-token' });
  const err = await failure(t, s.send({ to: '+14155550100', text: 'x' }));
  t.equal(deliveryFailureReason(err), 'api_error');
  t.equal(fake.messages.length, 0);
  t.notMatch(err.message, /wrong-token/);
});

void t.test('Twilio errors map to audit reasons', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake);
  fake.failNext(400, 21211);
  t.equal(deliveryFailureReason(await failure(t, s.send({ to: '+14155550100', text: 'x' }))), 'invalid_number', '21211');
  fake.failNext(400, 21602);
  t.equal(deliveryFailureReason(await failure(t, s.send({ to: '+14155550100', text: 'x' }))), 'api_error', 'other 400');
  fake.failNext(500);
  const e500 = await failure(t, s.send({ to: '+14155550100', text: 'x' }));
  t.equal(deliveryFailureReason(e500), 'api_error', '500');
  t.equal((e500.cause as { status?: number }).status, 500, 'the cause keeps the status');
  fake.failAll(503);
  t.equal(deliveryFailureReason(await failure(t, s.send({ to: '+14155550100', text: 'x' }))), 'api_error', 'failAll');
  fake.recover();
  await s.send({ to: '+14155550100', text: 'ok again' });
  t.equal(fake.messages.length, 1);
});

void t.test('a number that is not E.164 is refused before any request', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake);
  for (const bad of ['015112345678', '+0123456789', '+49 151 1234', 'alice@example.com', '', '+1234567890123456']) {
    t.equal(deliveryFailureReason(await failure(t, s.send({ to: bad, text: 'x' }))), 'invalid_number', JSON.stringify(bad));
  }
  t.equal(fake.requests, 0);
});

void t.test('an unreachable provider is a network failure', async (t) => {
  const fake = await startFakeTwilio();
  const url = fake.url;
  await fake.stop();
  const config = deliveryConfig({
    sms: { provider: 'twilio', twilio: { account_sid: fake.accountSid, auth_token: fake.authToken, from: '+15005550006', api_base_url: url, timeout: '5s' } },
  });
  const s = new TwilioSmsSender(config.sms.twilio!);
  t.teardown(() => s.close());
  t.equal(deliveryFailureReason(await failure(t, s.send({ to: '+14155550100', text: 'x' }))), 'network');
});

void t.test('a provider that does not answer in time is a timeout', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const s = sender(fake, { timeout: '200ms' });
  fake.setDelay(3000);
  const err = await failure(t, s.send({ to: '+14155550100', text: 'x' }));
  t.equal(deliveryFailureReason(err), 'timeout');
});

void t.test('check() fetches the account with the credentials', async (t) => {
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  await sender(fake).check();
  const bad = sender(fake, { auth_token: 'nope' });
  t.equal(deliveryFailureReason(await failure(t, bad.check())), 'api_error');
});

void t.test('an account sid the SDK refuses is a config error', (t) => {
  const config = deliveryConfig({ sms: { provider: 'twilio', twilio: { account_sid: 'XX123', auth_token: 'x', from: '+15005550006' } } });
  t.throws(() => new TwilioSmsSender(config.sms.twilio!), { code: 'PORTCULLIS_ERR_CONFIG' });
  t.end();
});

void t.test('the request client re-roots only Twilio URLs, keeping path and query', (t) => {
  const c = new RebasingRequestClient({ baseUrl: 'https://sms.example.net/twilio/', timeout: 1000 });
  t.teardown(() => c.destroy());
  t.equal(c.rebase('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1'), 'https://sms.example.net/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1');
  t.equal(c.rebase('https://api.dublin.ie1.twilio.com/2010-04-01/x'), 'https://sms.example.net/twilio/2010-04-01/x');
  t.equal(c.rebase('https://evil.example/x'), 'https://evil.example/x');
  const plain = new RebasingRequestClient({ timeout: 1000 });
  t.teardown(() => plain.destroy());
  t.equal(plain.rebase('https://api.twilio.com/a'), 'https://api.twilio.com/a');
  t.end();
});

void t.test('a logged failure carries no code, body or credential', async (t) => {
  const { captureLogger } = await import('./helpers.js');
  const fake = await startFakeTwilio();
  t.teardown(() => fake.stop());
  const log = captureLogger();
  const s = sender(fake, { timeout: '200ms' });
  const code = '918273';
  fake.failNext(500);
  const apiErr = await s.send({ to: '+14155550100', text: `${code} is your code` }).catch((e: unknown) => e);
  fake.setDelay(3000);
  const timeoutErr = await s.send({ to: '+14155550100', text: `${code} is your code` }).catch((e: unknown) => e);
  fake.setDelay(0);
  const url = fake.url;
  await fake.stop();
  const down = new TwilioSmsSender(
    deliveryConfig({ sms: { provider: 'twilio', twilio: { account_sid: fake.accountSid, auth_token: fake.authToken, from: '+15005550006', api_base_url: url, timeout: '1s' } } }).sms.twilio!,
  );
  t.teardown(() => down.close());
  const networkErr = await down.send({ to: '+14155550100', text: `${code} is your code` }).catch((e: unknown) => e);
  for (const err of [apiErr, timeoutErr, networkErr]) log.logger.error({ err }, 'sms failed');
  const raw = log.raw();
  t.equal(log.lines().length, 3);
  t.notOk(raw.includes(code), 'no code');
  t.notOk(raw.includes(fake.authToken), 'no auth token');
  t.notOk(raw.includes(Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')), 'no Basic credentials');
  t.same(
    [apiErr, timeoutErr, networkErr].map((e) => deliveryFailureReason(e)),
    ['api_error', 'timeout', 'network'],
  );
});
