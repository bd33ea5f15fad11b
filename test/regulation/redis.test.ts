/** Regulation on a real redis-server, two store instances standing for two gateway instances. */
import t from 'tap';
import { isPortcullisError, type PortcullisError } from '../../src/errors/index.js';
import { Regulator } from '../../src/regulation/regulator.js';
import { ManualClock } from '../../src/util/clock.js';
import { redisAvailable } from '../fixtures/redis.js';
import { config, redisPair } from '../factors/helpers.js';

void t.test('regulation on Redis', { skip: !redisAvailable() && 'redis-server is not on PATH' }, async (t) => {
  const { a, b } = (await redisPair(t, 'reg-test:'))!;
  const cfg = config({
    regulation: { max_failures: 5, max_failures_per_client: 10, window: '10m', block: '5m' },
    second_factor: { lockout: { max_failures: 4, window: '15m', duration: 0 } },
  });
  const rc = { regulation: cfg.regulation, lockout: cfg.second_factor.lockout };
  const clock = new ManualClock(Date.now());
  const regA = new Regulator(a, rc, clock);
  const regB = new Regulator(b, rc, clock);

  void t.test('password failures counted exactly across instances', async (t) => {
    await Promise.all(Array.from({ length: 4 }, (_, i) => (i % 2 ? regA : regB).passwordFailed('alice', `10.0.0.${i}`)));
    await regA.checkPassword('alice', '10.0.1.1');
    await regB.passwordFailed('alice', '10.0.0.9');
    const err = await regA.checkPassword('alice', '10.0.1.1').catch((e: PortcullisError) => e);
    t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED'));
    t.ok((err as PortcullisError).details.retry_after as number > 290);
    t.ok((await a.ttl(`reg:pw:ip:10.0.0.9`)) > 0, 'counters expire');
    await regB.passwordSucceeded('alice');
  });

  void t.test('per-client limit across instances', async (t) => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? regA : regB).passwordFailed(`u${i}`, '198.51.100.1')));
    await t.rejects(regB.checkPassword('fresh', '198.51.100.1'), { code: 'PORTCULLIS_ERR_RATE_LIMITED' });
    await regB.checkPassword('fresh', '198.51.100.2');
  });

  void t.test('parallel code failures lock once, notify once, stay locked', async (t) => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? regA : regB).codeFailed('bob')));
    t.equal(results.filter((r) => r.newlyLocked).length, 1);
    t.same(results.map((r) => r.failures).sort((x, y) => x - y), Array.from({ length: 12 }, (_, i) => i + 1));
    t.equal(await regA.isLocked('bob'), true);
    t.equal(await a.ttl('lock:bob'), -1, 'duration 0: no expiry');
    await regB.unlock('bob');
    t.equal(await regA.isLocked('bob'), false);
    t.equal((await regA.codeFailed('bob')).failures, 1);
  });

  void t.test('a password block does not lock codes, a lockout does not block passwords', async (t) => {
    for (let i = 0; i < 5; i++) await regA.passwordFailed('carol', '10.2.0.1');
    t.equal(await regB.isLocked('carol'), false);
    for (let i = 0; i < 4; i++) await regA.codeFailed('dave');
    await regB.checkPassword('dave', '10.2.0.2');
  });
});
