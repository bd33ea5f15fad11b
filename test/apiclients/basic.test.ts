import t from 'tap';
import { PortcullisError, isPortcullisError } from '../../src/errors/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { basicHeader, build, CountingDirectory, TinyRegulation } from './helpers.js';

function setup(extra: Record<string, unknown> = {}) {
  const directory = new CountingDirectory({ 'svc-export': { password: 's3cret:with:colons', groups: ['exporters'] }, alice: { password: 'alice-pw' }, gone: { password: 'pw', disabled: true } });
  const regulation = new TinyRegulation(3);
  const clock = new ManualClock();
  const auth = build([{ name: 'legacy-export', basic: { users: ['svc-export', 'gone'], cache_ttl: '60s' }, ...extra }], { directory, regulation, clock });
  return { directory, regulation, clock, auth };
}

t.test('a listed user with the right password is accepted, and the success is cached', async (t) => {
  const { directory, regulation, clock, auth } = setup();
  const req = { headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' };
  const r = await auth.authenticate(req);
  t.same(r, { kind: 'ok', client: 'legacy-export', method: 'basic', subject: 'svc-export', groups: ['exporters'], stripHeaders: ['authorization'] });
  t.equal(directory.calls, 1);
  t.equal(regulation.successes, 1);
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

t.test('concurrent first requests share one directory call', async (t) => {
  const { directory, auth } = setup();
  const req = { headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' };
  const results = await Promise.all([auth.authenticate(req), auth.authenticate(req), auth.authenticate(req)]);
  for (const r of results) t.equal(r.kind, 'ok');
  t.equal(directory.calls, 1);
});

t.test('a wrong password is 401, is not cached, and is regulated', async (t) => {
  const { directory, regulation, auth } = setup();
  const bad = { headers: { authorization: basicHeader('svc-export', 'wrong') }, clientIp: '10.0.0.5' };
  for (let i = 0; i < 3; i++) t.same(await auth.authenticate(bad), { kind: 'denied', reason: 'invalid_credentials', status: 401 });
  t.equal(directory.calls, 3);
  t.equal(regulation.failures.get('svc-export'), 3);
  const blocked = await auth.authenticate(bad);
  t.same(blocked, { kind: 'denied', reason: 'rate_limited', status: 429, retryAfter: 60_000 });
  t.equal(directory.calls, 3, 'blocked before the directory is asked');
  const good = await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' });
  t.match(good, { kind: 'denied', status: 429 }, 'the right password is blocked too while locked');
});

t.test('a changed password misses the cache', async (t) => {
  const { directory, auth } = setup();
  await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '10.0.0.5' });
  t.match(await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colonsX') }, clientIp: '10.0.0.5' }), { kind: 'denied', status: 401 });
  t.equal(directory.calls, 2);
});

t.test('disabled users and unlisted users', async (t) => {
  const { directory, auth } = setup();
  t.match(await auth.authenticate({ headers: { authorization: basicHeader('gone', 'pw') }, clientIp: '10.0.0.5' }), { kind: 'denied', status: 401 });
  t.same(await auth.authenticate({ headers: { authorization: basicHeader('alice', 'alice-pw') }, clientIp: '10.0.0.5' }), { kind: 'none' }, 'unlisted user: the upstream’s own Basic auth, not ours');
  t.equal(directory.calls, 1, 'an unlisted user is never checked against the directory');
  t.same(await auth.authenticate({ headers: { authorization: 'Basic !!!notbase64' }, clientIp: '10.0.0.5' }), { kind: 'none' });
});

t.test('network restriction on a Basic client', async (t) => {
  const { auth } = setup({ networks: ['10.0.0.0/8'] });
  t.same(await auth.authenticate({ headers: { authorization: basicHeader('svc-export', 's3cret:with:colons') }, clientIp: '8.8.8.8' }), { kind: 'denied', reason: 'network_not_allowed', status: 403 });
});

t.test('directory outage is a typed 503 error, not a pass', async (t) => {
  const directory = new CountingDirectory({});
  directory.authenticate = async () => {
    throw new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE');
  };
  const auth = build([{ name: 'b', basic: { users: ['svc'] } }], { directory });
  let caught: unknown;
  try {
    await auth.authenticate({ headers: { authorization: basicHeader('svc', 'x') }, clientIp: '10.0.0.5' });
  } catch (err) {
    caught = err;
  }
  t.ok(isPortcullisError(caught, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE'));
});
