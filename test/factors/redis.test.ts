/**
 * The atomicity guarantees of the factors on a real redis-server, with two store instances standing
 * for two gateway instances sharing one Redis.
 */
import { Secret, TOTP } from 'otpauth';
import t from 'tap';
import type { PortcullisError } from '../../src/errors/index.js';
import { OneTimeCodes } from '../../src/factors/codes.js';
import { ReverifyGrace, TrustedDevices } from '../../src/factors/devices.js';
import { RecoveryCodes } from '../../src/factors/recovery-codes.js';
import { TotpFactor } from '../../src/factors/totp.js';
import { ManualClock } from '../../src/util/clock.js';
import { cryptoRandom } from '../../src/util/random.js';
import { redisAvailable } from '../fixtures/redis.js';
import { KEY, redisPair, secondFactor } from './helpers.js';

const META = { user: 'alice', channel: 'sms', destination: '+4915112345678' };

void t.test('factors on Redis', { skip: !redisAvailable() && 'redis-server is not on PATH' }, async (t) => {
  const pair = (await redisPair(t, 'factors-test:'))!;
  const { a, b } = pair;
  const clock = new ManualClock(Date.now());
  const sf = secondFactor();
  const codesA = new OneTimeCodes(a, sf.code, KEY, clock, cryptoRandom);
  const codesB = new OneTimeCodes(b, sf.code, KEY, clock, cryptoRandom);

  void t.test('code record hashed at rest, with a TTL', async (t) => {
    const { code } = await codesA.issue('rflow0', META);
    const raw = await a.hashGetAll('code:rflow0');
    t.ok(raw);
    for (const v of Object.values(raw!)) t.notOk(v.includes(code));
    const ttl = await a.ttl('code:rflow0');
    t.ok(ttl > 0 && ttl <= sf.code.ttl, `ttl ${ttl}`);
    t.ok((await a.ttl('code:u:alice')) > 0, 'user index expires too');
  });

  void t.test('100 parallel wrong guesses over two instances: at most max_attempts comparisons', async (t) => {
    const { code } = await codesA.issue('rflow1', META);
    const guesses = Array.from({ length: 100 }, (_, i) => String(i).padStart(6, '0')).filter((g) => g !== code);
    const results = await Promise.all(guesses.map((g, i) => (i % 2 ? codesA : codesB).verify('rflow1', g)));
    t.equal(results.filter((r) => r.result === 'invalid').length, sf.code.max_attempts);
    t.equal(results.filter((r) => r.result === 'exhausted').length, guesses.length - sf.code.max_attempts);
    t.same(await codesB.verify('rflow1', code), { result: 'exhausted' });
  });

  void t.test('two parallel right answers on two instances: exactly one ok', async (t) => {
    for (let round = 0; round < 10; round++) {
      const flow = `rflow2x${round}`;
      const { code } = await codesA.issue(flow, META);
      const results = await Promise.all([codesA.verify(flow, code), codesB.verify(flow, code)]);
      t.equal(results.filter((r) => r.result === 'ok').length, 1, `round ${round}`);
    }
  });

  void t.test('resend cooldown is shared; re-issue kills the old code; invalidateUser', async (t) => {
    const first = await codesA.issue('rflow3', META);
    await t.rejects(codesB.issue('rflow3', META), { code: 'PORTCULLIS_ERR_RATE_LIMITED' });
    const err = (await codesB.issue('rflow3', META).catch((e: unknown) => e)) as PortcullisError;
    const retry = err.details.retry_after as number;
    t.ok(retry >= 1 && retry <= 30, `retry_after ${retry}`);
    await a.del('code:rs:rflow3'); // the cooldown is over (without waiting 30 s)
    let second = await codesB.issue('rflow3', META);
    while (second.code === first.code) {
      await a.del('code:rs:rflow3');
      second = await codesB.issue('rflow3', META);
    }
    t.equal((await codesA.verify('rflow3', first.code)).result, 'invalid');
    t.ok((await codesA.invalidateUser('alice')) >= 1, 'pending codes of earlier subtests too');
    t.same(await a.setMembers('code:u:alice'), [], 'index gone');
    t.same(await codesB.verify('rflow3', second.code), { result: 'expired' });
  });

  void t.test('recovery codes: parallel consume on two instances, one true', async (t) => {
    const rcA = new RecoveryCodes(a, sf.recovery_codes, KEY, cryptoRandom);
    const rcB = new RecoveryCodes(b, sf.recovery_codes, KEY, cryptoRandom);
    const codes = await rcA.generate('alice');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? rcA : rcB).consume('alice', codes[0]!)));
    t.equal(results.filter(Boolean).length, 1);
    t.equal(await rcB.remaining('alice'), codes.length - 1);
    await rcB.remove('alice');
    t.equal(await rcA.remaining('alice'), 0);
  });

  void t.test('TOTP: enrol on one instance, verify on the other, replay refused across instances', async (t) => {
    const totpA = new TotpFactor(a, sf.totp, KEY, clock);
    const totpB = new TotpFactor(b, sf.totp, KEY, clock);
    const e = await totpA.beginEnrolment('alice', 'alice');
    const gen = (ts: number) => TOTP.generate({ secret: Secret.fromBase32(e.secretBase32), timestamp: ts });
    t.ok((await a.ttl('totp:p:alice')) > 0, 'pending enrolment expires');
    t.equal(await totpB.confirmEnrolment('alice', gen(clock.now())), true);
    t.equal(await a.ttl('totp:alice'), -1, 'active secret kept');
    clock.advance(120_000);
    const code = gen(clock.now());
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? totpA : totpB).accepts('alice', code)));
    t.equal(results.filter(Boolean).length, 1);
    await totpA.remove('alice');
    t.equal(await totpB.isEnrolled('alice'), false);
  });

  void t.test('trusted devices and grace are shared', async (t) => {
    const devA = new TrustedDevices(a, sf.trusted_devices, clock);
    const devB = new TrustedDevices(b, sf.trusted_devices, clock);
    await devA.trust('alice', 'device-1', { name: 'Firefox', ip: '192.0.2.1', userAgent: 'UA' });
    t.equal(await devB.isTrusted('alice', 'device-1'), true);
    const [d] = await devB.list('alice');
    t.ok(d);
    const ttl = await a.ttl(`dev:alice:${(await a.setMembers('devices:alice'))[0]}`);
    t.ok(ttl > 0 && ttl <= sf.trusted_devices.lifetime, 'device record expires');
    t.equal(await devA.revoke('alice', d!.id), true);
    t.equal(await devB.isTrusted('alice', 'device-1'), false);
    const graceA = new ReverifyGrace(a, 180_000);
    const graceB = new ReverifyGrace(b, 180_000);
    await graceA.record('alice', 'device-1');
    t.equal(await graceB.within('alice', 'device-1'), true);
  });
});
