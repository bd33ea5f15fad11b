import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { request } from 'undici';
import { redisAvailable, startRedis } from '../fixtures/redis.js';
import { BOB, advance, browser, mailedCode, postCode, postPassword, signInByMail, startMailStack, toVerifyPage } from '../fixtures/second-factor.js';

void t.test('Redis down: protected routes 503 (fail closed), bypass routes served; recovery without a restart', { skip: redisAvailable() ? false : 'redis-server is not installed' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const stack = await startMailStack({
    config: {
      session: { store: 'redis', redis: { url: redis.url, key_prefix: 'it-store:', command_timeout: '500ms', connect_timeout: '500ms' } },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/health'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());

  const b = browser(stack);
  t.equal((await signInByMail(stack, b, BOB.user, BOB.password, BOB.email, '/cams')).status, 303);
  t.equal((await b.get('/cams')).status, 200, 'signed in, through Redis');

  const waiting = browser(stack);
  await toVerifyPage(waiting, BOB.user, BOB.password, '/cams');
  const pendingCode = await mailedCode(stack, BOB.email);
  const waitingCsrf = waiting.csrf();

  await redis.kill();
  advance(stack, 2000); // past the session cache (cache_ttl 1s): every request asks the store
  const page = await b.get('/cams');
  t.equal(page.status, 503, 'a protected page fails closed');
  t.ok(Number(page.headers['retry-after']) > 0, 'with Retry-After');
  const json = await b.fetch('/cams', { headers: { accept: 'application/json' } });
  t.equal(json.status, 503);
  t.match(json.json(), { error: 'store_unavailable' });
  const anonymous = await browser(stack).fetch('/cams', { headers: { accept: 'application/json' } });
  t.equal(anonymous.status, 401, 'without a session cookie there is nothing to look up: sign in first');
  const health = await browser(stack).get('/health');
  t.equal(health.status, 200, 'the bypass route is still served');
  const ready = await request(`${stack.gateway.adminUrl!}/readyz`);
  t.equal(ready.statusCode, 503, 'readyz reports the store');
  await ready.body.dump();
  const healthSigned = await b.get('/health');
  t.equal(healthSigned.status, 200, 'also with a session cookie');
  const login = await postPassword(browser(stack), BOB.user, BOB.password, '/cams');
  t.equal(login.status, 503, 'sign-in answers 503, never a session');
  t.notOk(login.headers['set-cookie']?.toString().includes('portcullis_session='), 'no session cookie');
  const apiLogin = await browser(stack).json('/_gateway/api/v1/login', { username: BOB.user, password: BOB.password });
  t.equal(apiLogin.status, 503, 'the JSON sign-in too');
  t.ok(Number(apiLogin.headers['retry-after']) > 0);
  t.equal((await b.get('/_gateway/verify')).status, 503, 'the code step fails closed');
  const midway = await waiting.post('/_gateway/verify', { code: pendingCode, csrf: waitingCsrf, rd: '/cams' });
  t.equal(midway.status, 503, 'a right code while the store is down: 503, no session');
  t.notOk(String(midway.headers['set-cookie'] ?? '').includes('portcullis_session=s'), 'no new session cookie');
  const seen = stack.upstream.seen.filter((r) => r.url.startsWith('/cams')).length;
  t.equal(seen, 1, 'nothing protected reached the upstream while the store was down');

  await redis.restart();
  // ioredis reconnects with a backoff: poll (bounded) until a whole new sign-in works.
  const deadline = Date.now() + 15_000;
  let recovered = false;
  while (!recovered && Date.now() < deadline) {
    const probe = browser(stack);
    const res = await postPassword(probe, BOB.user, BOB.password, '/cams').catch(() => undefined);
    if (res?.status === 303) {
      recovered = true;
      await probe.get(res.location!);
      const done = await postCode(probe, await mailedCode(stack, BOB.email), '/cams');
      t.equal(done.status, 303, 'a new sign-in completes');
      t.equal((await probe.get('/cams')).status, 200, 'and reaches the upstream');
    } else {
      await sleep(200);
    }
  }
  t.ok(recovered, 'the gateway recovered by itself');
  const readyAgain = await request(`${stack.gateway.adminUrl!}/readyz`);
  t.equal(readyAgain.statusCode, 200);
  await readyAgain.body.dump();
  const late = await waiting.post('/_gateway/verify', { code: pendingCode, csrf: waitingCsrf, rd: '/cams' });
  t.not(late.location, '/cams', 'the half-finished sign-in does not survive the lost store data');
  const old = await b.get('/cams');
  t.equal(old.status, 302, 'the old session was lost with the store data: back to sign-in, not 503');
});
