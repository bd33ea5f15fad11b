import t from 'tap';
import { isPortcullisError, PortcullisError } from '../../src/errors/index.js';
import { ipKey } from '../../src/regulation/keys.js';
import { Regulator } from '../../src/regulation/regulator.js';
import { config, memoryStore, recording } from '../factors/helpers.js';

const cfg = config({
  regulation: { max_failures: 3, max_failures_per_client: 5, window: '10m', block: '5m' },
  second_factor: { lockout: { max_failures: 4, window: '15m', duration: 0 } },
});
const regCfg = { regulation: cfg.regulation, lockout: cfg.second_factor.lockout };

async function rejection(p: Promise<unknown>): Promise<PortcullisError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PortcullisError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

void t.test('per-user password limit blocks with 429 and retry_after, then expires', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 2; i++) {
    await reg.checkPassword('alice', '10.0.0.1');
    await reg.passwordFailed('alice', '10.0.0.1');
  }
  await reg.checkPassword('alice', '10.0.0.1');
  await reg.passwordFailed('alice', '10.0.0.1'); // third: limit reached
  const err = await rejection(reg.checkPassword('alice', '10.0.0.2'));
  t.equal(err.code, 'PORTCULLIS_ERR_RATE_LIMITED');
  t.equal(err.status, 429);
  t.equal(err.details.retry_after, 300);
  clock.advance(60_000);
  t.equal((await rejection(reg.checkPassword('alice', '10.0.0.3'))).details.retry_after, 240);
  // Another user from the same address is not blocked.
  await reg.checkPassword('bob', '10.0.0.1');
  clock.advance(240_000);
  await reg.checkPassword('alice', '10.0.0.1');
  t.pass('block over');
});

void t.test('the per-user counter ignores case and odd characters make no odd keys', async (t) => {
  const { store: inner, clock } = memoryStore(t);
  const { store, keys } = recording(inner);
  const reg = new Regulator(store, regCfg, clock);
  for (const name of ['Alice', 'ALICE', ' alice ']) await reg.passwordFailed(name, '10.0.0.1');
  t.ok(isPortcullisError(await rejection(reg.checkPassword('alice', '10.9.9.9')), 'PORTCULLIS_ERR_RATE_LIMITED'));
  await reg.passwordFailed('x:y\r\n*{}'.repeat(100), 'not-an-ip\n');
  t.ok(keys.size > 0);
  for (const key of keys) {
    t.notOk(key.toLowerCase().includes('alice'), `${key}: the user name is hashed`);
    t.match(key, /^[a-z:]+[0-9a-f.:]*(h:[0-9a-f]{32})?$/, `key ${key} is plain`);
    t.ok(key.length < 64);
  }
});

void t.test('per-client limit blocks every user from that address', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 5; i++) await reg.passwordFailed(`user${i}`, '192.0.2.7');
  const err = await rejection(reg.checkPassword('someone-else', '192.0.2.7'));
  t.equal(err.code, 'PORTCULLIS_ERR_RATE_LIMITED');
  t.equal(err.details.retry_after, 300);
  await reg.checkPassword('someone-else', '192.0.2.8');
});

void t.test('failures outside the window do not add up; success clears the user counter', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  await reg.passwordFailed('carol', '10.0.0.1');
  await reg.passwordFailed('carol', '10.0.0.1');
  clock.advance(10 * 60_000 + 1);
  await reg.passwordFailed('carol', '10.0.0.1');
  await reg.passwordFailed('carol', '10.0.0.1');
  await reg.checkPassword('carol', '10.0.0.1');
  await reg.passwordSucceeded('carol');
  await reg.passwordFailed('carol', '10.0.0.1');
  await reg.passwordFailed('carol', '10.0.0.1');
  await reg.checkPassword('carol', '10.0.0.1');
  t.pass('never blocked');
});

void t.test('code lockout at max_failures within the window; duration 0 stays locked until unlock', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await reg.codeFailed('dave'));
  t.same(
    results.map((r) => [r.locked, r.failures, r.newlyLocked]),
    [
      [false, 1, false],
      [false, 2, false],
      [false, 3, false],
      [true, 4, true],
    ],
  );
  t.equal(await reg.isLocked('dave'), true);
  t.equal((await reg.lockInfo('dave'))?.reason, 'code_failures');
  t.same(await reg.codeFailed('dave'), { locked: true, failures: 5, newlyLocked: false }, 'notified once');
  clock.advance(365 * 24 * 3600_000);
  t.equal(await reg.isLocked('dave'), true, 'still locked a year later');
  await reg.unlock('dave');
  t.equal(await reg.isLocked('dave'), false);
  t.equal((await reg.codeFailed('dave')).failures, 1, 'unlock cleared the counter');
});

void t.test('code failures outside the lockout window do not lock; success clears', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 3; i++) await reg.codeFailed('erin');
  clock.advance(15 * 60_000 + 1);
  t.equal((await reg.codeFailed('erin')).locked, false);
  await reg.codeFailed('erin');
  await reg.codeSucceeded('erin');
  for (let i = 0; i < 3; i++) t.equal((await reg.codeFailed('erin')).locked, false);
});

void t.test('a lock with a duration expires', async (t) => {
  const { store, clock } = memoryStore(t);
  const c = config({ second_factor: { lockout: { max_failures: 2, duration: '30m' } } });
  const reg = new Regulator(store, { regulation: c.regulation, lockout: c.second_factor.lockout }, clock);
  await reg.codeFailed('frank');
  t.equal((await reg.codeFailed('frank')).locked, true);
  clock.advance(30 * 60_000 - 1);
  t.equal(await reg.isLocked('frank'), true);
  clock.advance(1);
  t.equal(await reg.isLocked('frank'), false);
});

void t.test('password and code counters are separate', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 3; i++) await reg.passwordFailed('gina', '10.0.0.1');
  await rejection(reg.checkPassword('gina', '10.0.0.2'));
  t.equal(await reg.isLocked('gina'), false, 'password block does not lock the second factor');
  t.equal((await reg.codeFailed('gina')).failures, 1, 'password failures not counted as code failures');

  for (let i = 0; i < 4; i++) await reg.codeFailed('hank');
  t.equal(await reg.isLocked('hank'), true);
  await reg.checkPassword('hank', '10.0.0.1');
  t.pass('code lockout does not rate-limit passwords');
  await reg.unlock('hank');
  await reg.checkPassword('gina', '10.0.0.9').then(
    () => t.fail('unlock must not be needed for, nor clear, the password block'),
    (err: unknown) => t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')),
  );
});

void t.test('manual lock and unlock', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  t.equal(await reg.lock('ivan', 'operator'), true);
  t.equal(await reg.lock('ivan', 'again'), false, 'already locked');
  t.equal((await reg.lockInfo('ivan'))?.reason, 'operator');
  await reg.unlock('ivan');
  t.equal(await reg.lockInfo('ivan'), null);
});

void t.test('store errors propagate (callers fail closed)', async (t) => {
  const { store, clock } = memoryStore(t);
  const failing = Object.create(store) as typeof store;
  const boom = () => {
    throw new PortcullisError('PORTCULLIS_ERR_STORE_UNAVAILABLE');
  };
  Object.assign(failing, { ttl: boom, incr: boom, get: boom, set: boom });
  const reg = new Regulator(failing, regCfg, clock);
  t.equal((await rejection(reg.checkPassword('a', '10.0.0.1'))).code, 'PORTCULLIS_ERR_STORE_UNAVAILABLE');
  t.equal((await rejection(reg.passwordFailed('a', '10.0.0.1'))).code, 'PORTCULLIS_ERR_STORE_UNAVAILABLE');
  t.equal((await rejection(reg.codeFailed('a'))).code, 'PORTCULLIS_ERR_STORE_UNAVAILABLE');
  t.equal((await rejection(reg.isLocked('a'))).code, 'PORTCULLIS_ERR_STORE_UNAVAILABLE');
});

void t.test('wrong codes per client: own counter and block, separate from passwords', async (t) => {
  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 4; i++) await reg.codeFailed(`user${i}`, '203.0.113.5');
  await reg.checkCode('203.0.113.5');
  await reg.checkPassword('anyone', '203.0.113.5');
  await reg.codeFailed('user9', '203.0.113.5'); // fifth: max_failures_per_client
  const err = await rejection(reg.checkCode('203.0.113.5'));
  t.equal(err.code, 'PORTCULLIS_ERR_RATE_LIMITED');
  t.equal(err.details.retry_after, 300);
  await reg.checkPassword('anyone', '203.0.113.5');
  await reg.checkCode('203.0.113.6');
  await reg.codeFailed('user0'); // without an address: the user counter only
  clock.advance(300_000);
  await reg.checkCode('203.0.113.5');
  t.pass('block over');
});

void t.test('client keys: IPv4-mapped folded, IPv6 counted per /64', async (t) => {
  t.equal(ipKey('::ffff:10.0.0.1'), '10.0.0.1');
  t.equal(ipKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(ipKey('2001:0db8:0001:0002::ffff'), '2001:db8:1:2::/64');
  t.equal(ipKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(ipKey('::1'), '0:0:0:0::/64');
  t.equal(ipKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.match(ipKey('not an ip'), /^h:[0-9a-f]{32}$/);

  const { store, clock } = memoryStore(t);
  const reg = new Regulator(store, regCfg, clock);
  for (let i = 0; i < 5; i++) await reg.passwordFailed(`u${i}`, `2001:db8:1:2::${i + 1}`);
  await t.rejects(reg.checkPassword('v', '2001:db8:1:2:ffff::9'), { code: 'PORTCULLIS_ERR_RATE_LIMITED' }, 'same /64');
  await reg.checkPassword('v', '2001:db8:1:3::1');
});
