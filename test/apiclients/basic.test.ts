import t from 'tap';
import { PortcullisError, isPortcullisError } from '../../src/errors/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { basicHeader, build, CountingDirectory, passwordsFor } from './helpers.js';

function setup(extra: Record<string, unknown> = {}) {
  const directory = new CountingDirectory({ 'svc-export': { password: 's3cret:with:colons', groups: ['exporters'] }, alice: { password: 'alice-pw' }, gone: { password: 'pw', disabled: true } });
  const clock = new ManualClock();
  const auth = build([{ name: 'legacy-export', basic: { users: ['svc-export', 'gone'], cache_ttl: '60s' }, ...extra }], { passwords: passwordsFor(directory, clock, 3), clock });
  return { directory, clock, auth };
}

void t.test('a listed user with the right password is accepted, and the success is cached', async (t) => {
  const { directory, clock, auth } = setup();
  const req = { headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' };
  const r = await auth.authenticate(req);
  t.same(r, { kind: 'ok', client: 'legacy-export', method: 'basic', subject: 'svc-export', groups: ['exporters'], stripHeaders: ['authorization'] });
  t.equal(directory.calls, 1);
  await auth.authenticate(req);
  await auth.authenticate(req);
  t.equal(directory.calls, 1, 'cached');
  clock.advance(59_000);
  await auth.authenticate(req);
  t.equal(directory.calls, 1, 'still cached just before cache_ttl');
  clock.advance(2_000);
  t.match(await auth.authenticate(req), { kind: 'ok' });
  t.equal(directory.calls, 2, 'checked again after cache_ttl');
});

void t.test('concurrent first requests share one directory call', async (t) => {
  const { directory, auth } = setup();
  const req = { headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' };
  const results = await Promise.all([auth.authenticate(req), auth.authenticate(req), auth.authenticate(req)]);
  for (const r of results) t.equal(r.kind, 'ok');
  t.equal(directory.calls, 1);
});

void t.test('a wrong password is 401, is not cached, and is regulated', async (t) => {
  const { directory, auth } = setup();
  const bad = { headers: { authorization: basicHeader('svc-export', 'wrong') }, clientIp: '10.0.0.5' };
  for (let i = 0; i < 3; i++) t.same(await auth.authenticate(bad), { kind: 'denied', reason: 'invalid_credentials', status: 401, asMissing: true });
  t.equal(directory.calls, 3);
  const blocked = await auth.authenticate(bad);
  t.same(blocked, { kind: 'denied', reason: 'rate_limited', status: 429, retryAfter: 60_000 });
  t.equal(directory.calls, 3, 'blocked before the directory is asked');
  const good = await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' });
  t.match(good, { kind: 'denied', status: 429 }, 'the right password is blocked too while locked');
});

void t.test('a changed password misses the cache', async (t) => {
  const { directory, auth } = setup();
  await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' });
  t.match(await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colonsX') }, clientIp: '10.0.0.5' }), { kind: 'denied', status: 401 });
  t.equal(directory.calls, 2);
});

void t.test('disabled users and unlisted users', async (t) => {
  const { directory, auth } = setup();
  t.match(await auth.authenticate({ headers: { authorization: basicHeader('gone', 'pw') }, clientIp: '10.0.0.5' }), { kind: 'denied', status: 401 });
  t.same(await auth.authenticate({ headers: { authorization: basicHeader('alice', 'alice-pw') }, clientIp: '10.0.0.5' }), { kind: 'none' }, 'unlisted user: the upstream’s own Basic auth, not ours');
  t.equal(directory.calls, 1, 'an unlisted user is never checked against the directory');
  t.same(await auth.authenticate({ headers: { authorization: 'Basic !!!notbase64' }, clientIp: '10.0.0.5' }), { kind: 'none' });
});

void t.test('network restriction on a Basic client', async (t) => {
  const { auth } = setup({ networks: ['10.0.0.0/8'] });
  t.same(await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '8.8.8.8' }), { kind: 'denied', reason: 'network_not_allowed', status: 403 });
});

void t.test('directory outage is a typed 503 error, not a pass', async (t) => {
  const directory = new CountingDirectory({});
  directory.authenticate = () => {
    throw new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE');
  };
  const auth = build([{ name: 'b', basic: { users: ['svc'] } }], { passwords: passwordsFor(directory) });
  let caught: unknown;
  try {
    await auth.authenticate({ headers: { authorization: basicHeader('svc', 'x') }, clientIp: '10.0.0.5' });
  } catch (err) {
    caught = err;
  }
  t.ok(isPortcullisError(caught, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'));
});

void t.test('a cached right password does not get through while the user is blocked (issue 17: no oracle, no unlimited guessing)', async (t) => {
  const { directory, auth } = setup();
  const good = { headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' };
  t.match(await auth.authenticate(good), { kind: 'ok' }, 'the legitimate client warms the cache');
  const attacker = { clientIp: '10.0.0.9' };
  for (let i = 0; i < 3; i++) t.match(await auth.authenticate({ ...attacker, headers: { authorization: basicHeader('svc-export', `guess-${i}`) } }), { kind: 'denied', status: 401 });
  for (const guess of ['guess-9', 's3cret:with:colons']) {
    t.match(await auth.authenticate({ ...attacker, headers: { authorization: basicHeader('svc-export', guess) } }), { kind: 'denied', status: 429 }, `blocked: ${guess === 'guess-9' ? 'a wrong guess' : 'the right password'} gets 429 too`);
  }
  t.match(await auth.authenticate(good), { kind: 'denied', status: 429 }, 'the cache does not skip the block');
  t.equal(directory.calls, 4, 'no directory call while blocked');
});
