import t from 'tap';
import { ReverifyGrace, TrustedDevices } from '../../src/factors/devices.js';
import { memoryStore, recording, secondFactor } from './helpers.js';

const META = { name: 'Firefox on Linux', ip: '192.0.2.1', userAgent: 'Mozilla/5.0' };
const DAY = 24 * 3600_000;

function setup(t: { teardown(fn: () => unknown): void }, cfg = secondFactor().trusted_devices) {
  const { store: inner, clock } = memoryStore(t);
  const rec = recording(inner);
  return { devices: new TrustedDevices(rec.store, cfg, clock), clock, ...rec };
}

void t.test('trust, isTrusted, list with a short reference, id hashed at rest', async (t) => {
  const { devices, clock, keys, written } = setup(t);
  const deviceId = 'dev-0123456789abcdef0123456789abcdef';
  t.equal(await devices.isTrusted('alice', deviceId), false);
  const created = clock.now();
  await devices.trust('alice', deviceId, META);
  t.equal(await devices.isTrusted('alice', deviceId), true);
  t.equal(await devices.isTrusted('bob', deviceId), false, 'per user');
  t.equal(await devices.isTrusted('alice', 'other'), false);
  clock.advance(DAY);
  t.equal(await devices.isTrusted('alice', deviceId), true);
  const list = await devices.list('alice');
  t.equal(list.length, 1);
  t.match(list[0], { name: META.name, ip: META.ip, userAgent: META.userAgent, createdAt: created, lastUsedAt: created + DAY, expiresAt: created + 30 * DAY });
  t.match(list[0]!.id, /^[0-9a-f]{12}$/);
  for (const v of [...keys, ...written]) t.notOk(v.includes(deviceId), 'device id not stored');
});

void t.test('expires after the lifetime', async (t) => {
  const { devices, clock } = setup(t);
  await devices.trust('alice', 'd1', META);
  clock.advance(30 * DAY - 1);
  t.equal(await devices.isTrusted('alice', 'd1'), true);
  clock.advance(1);
  t.equal(await devices.isTrusted('alice', 'd1'), false);
  t.same(await devices.list('alice'), []);
});

void t.test('revoke one by reference, revokeAll', async (t) => {
  const { devices, clock } = setup(t);
  await devices.trust('alice', 'd1', META);
  clock.advance(1000);
  await devices.trust('alice', 'd2', { ...META, name: 'Phone' });
  await devices.trust('bob', 'd3', META);
  const [first, second] = await devices.list('alice');
  t.equal(first!.name, META.name);
  t.equal(second!.name, 'Phone');
  t.equal(await devices.revoke('alice', first!.id), true);
  t.equal(await devices.revoke('alice', first!.id), false, 'already gone');
  t.equal(await devices.revoke('alice', 'zz'), false, 'malformed reference');
  t.equal(await devices.revoke('bob', second!.id), false, "another user's device");
  t.equal(await devices.isTrusted('alice', 'd1'), false);
  t.equal(await devices.isTrusted('alice', 'd2'), true);
  await devices.revokeAll('alice');
  t.equal(await devices.isTrusted('alice', 'd2'), false);
  await devices.trust('bob', 'd4', META);
  await devices.remove('bob');
  t.same(await devices.list('bob'), [], 'remove = revokeAll');
  await devices.trust('bob', 'd3', META);
  t.same(await devices.list('alice'), []);
  t.equal(await devices.isTrusted('bob', 'd3'), true);
});

void t.test('disabled: nothing is trusted', async (t) => {
  const { devices } = setup(t, secondFactor({ trusted_devices: { enabled: false } }).trusted_devices);
  await devices.trust('alice', 'd1', META);
  t.equal(await devices.isTrusted('alice', 'd1'), false);
  t.same(await devices.list('alice'), []);
});

void t.test('bad device ids', async (t) => {
  const { devices } = setup(t);
  await devices.trust('alice', '', META);
  await devices.trust('alice', 'x'.repeat(257), META);
  t.same(await devices.list('alice'), []);
  t.equal(await devices.isTrusted('alice', ''), false);
});

void t.test('reverify grace: inside and outside the window, per user and device', async (t) => {
  const { store, clock } = memoryStore(t);
  const grace = new ReverifyGrace(store, 180_000);
  t.equal(await grace.within('alice', 'd1'), false);
  await grace.record('alice', 'd1');
  t.equal(await grace.within('alice', 'd1'), true);
  t.equal(await grace.within('alice', 'd2'), false, 'other device');
  t.equal(await grace.within('bob', 'd1'), false, 'other user');
  clock.advance(179_999);
  t.equal(await grace.within('alice', 'd1'), true);
  clock.advance(1);
  t.equal(await grace.within('alice', 'd1'), false);
  await grace.record('alice', 'd1');
  await grace.clear('alice', 'd1');
  t.equal(await grace.within('alice', 'd1'), false, 'cleared');
});

void t.test('reverify grace 0 is off', async (t) => {
  const { store } = memoryStore(t);
  const grace = new ReverifyGrace(store, 0);
  await grace.record('alice', 'd1');
  t.equal(await grace.within('alice', 'd1'), false);
});
