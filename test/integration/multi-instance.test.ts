import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { SECRET, startStack } from '../fixtures/gateway.js';
import { startRedis } from '../fixtures/redis.js';

async function signIn(url: string): Promise<Browser> {
  const b = new Browser(url);
  await b.get('/_gateway/login');
  const res = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return b;
}

async function poll(fn: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return fn();
}

void t.test('two gateways sharing Redis behave as one: a session made on A works on B, a sign-out on A is honoured on B within a second', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const session = { store: 'redis' as const, redis: { url: redis.url, key_prefix: 'mi:' } };
  const a = await startStack({ config: { session } });
  const b = await startStack({ config: { session } });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const browser = await signIn(a.url);
  const onB = new Browser(b.url);
  for (const [k, v] of browser.cookies) onB.cookies.set(k, v);
  const first = await onB.get('/x');
  t.equal(first.status, 200, 'the session made on A is good on B');
  t.equal(first.json<{ headers: Record<string, string> }>().headers['remote-user'], 'svc');

  // B now holds the session in its in-process cache; A ends it.
  await browser.get('/_gateway/account');
  const out = await browser.post('/_gateway/logout', { csrf: browser.csrf() });
  t.equal(out.status, 303);
  const refused = await poll(async () => (await onB.get('/x')).status === 302, 1000);
  t.ok(refused, 'B refuses the revoked session within one second');
});

void t.test('rotating the session secret: [new, old] keeps old cookies valid; dropping old ends them', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const NEW = 'rotated-secret-abcdefghijklmnopqrstuvwxyz-0123';
  const redisCfg = { url: redis.url, key_prefix: 'rot:' };
  const before = await startStack({ config: { session: { store: 'redis', redis: redisCfg, secret: SECRET } } });
  const browser = await signIn(before.url);
  await before.close();

  const rotated = await startStack({ config: { session: { store: 'redis', redis: redisCfg, secrets: [NEW, SECRET], secret: undefined } } });
  const carried = new Browser(rotated.url);
  for (const [k, v] of browser.cookies) carried.cookies.set(k, v);
  t.equal((await carried.get('/x')).status, 200, 'a cookie signed with the old secret still works');
  const fresh = await signIn(rotated.url);
  await rotated.close();

  const dropped = await startStack({ config: { session: { store: 'redis', redis: redisCfg, secret: NEW } } });
  t.teardown(() => dropped.close());
  const old = new Browser(dropped.url);
  for (const [k, v] of browser.cookies) old.cookies.set(k, v);
  t.equal((await old.get('/x')).status, 302, 'the old secret no longer verifies');
  const renewed = new Browser(dropped.url);
  for (const [k, v] of fresh.cookies) renewed.cookies.set(k, v);
  t.equal((await renewed.get('/x')).status, 200, 'cookies signed with the new secret keep working');
});
