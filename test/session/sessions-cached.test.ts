/** SessionManager.getCached: the synchronous fast path of the proxy (no store round trip, no promise). */
import t, { type Test } from 'tap';
import { configSchema, type Config } from '../../src/config/schema/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SessionManager, type NewSession } from '../../src/session/sessions.js';
import { ManualClock } from '../../src/util/clock.js';
import { countingStore } from './counting-store.js';

const SECRET = 'fast-path-secret-'.padEnd(40, 'f');

function sessionConfig(extra: Record<string, unknown> = {}): Config['session'] {
  return configSchema.parse({ session: { secret: SECRET, ...extra } }).session;
}

function newSession(user = 'alice'): NewSession {
  return { user, displayName: 'Alice', email: `${user}@example.com`, groups: ['operators'], authenticatedAt: 0, factors: [{ method: 'password', at: 0 }], level: 'one_factor' };
}

function setup(t: Test, extra: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const store = countingStore(new MemoryStore());
  const manager = new SessionManager(store, sessionConfig(extra), { clock });
  t.teardown(() => manager.close());
  return { clock, store, manager };
}

void t.test('a cached session is answered synchronously, with no store call, as a copy', async (t) => {
  const { manager, store } = setup(t);
  const issued = await manager.create(newSession());
  store.reset();
  const got = manager.getCached(issued.cookie);
  t.equal(got?.id, issued.id);
  t.equal(got?.ref, issued.ref);
  t.same(got?.session, issued.session);
  got!.session.groups.push('admins');
  t.same(manager.getCached(issued.cookie)?.session.groups, ['operators'], 'callers cannot change the cached copy');
  t.equal(store.total(), 0);
});

void t.test('bad, foreign or unknown values are refused', async (t) => {
  const { manager } = setup(t);
  const issued = await manager.create(newSession());
  const [id, sig] = issued.cookie.split('.') as [string, string];
  const tampered = `${id}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  const foreign = new SessionManager(new MemoryStore(), sessionConfig({ secret: 'another-secret-'.padEnd(40, 'a') })).signer.sign(id);
  for (const bad of [tampered, foreign, manager.signer.sign('A'.repeat(43)), 'x'.repeat(5000), '', undefined, null]) t.equal(manager.getCached(bad), undefined);
  t.ok(manager.getCached(issued.cookie), 'the genuine value still works after the bad ones');
});

void t.test('past cache_ttl, the fast path steps aside and get() reads the store', async (t) => {
  const { manager, store, clock } = setup(t);
  const issued = await manager.create(newSession());
  clock.advance(1000);
  t.equal(manager.getCached(issued.cookie), undefined);
  store.reset();
  t.ok(await manager.get(issued.cookie));
  t.ok(store.total() > 0);
  t.ok(manager.getCached(issued.cookie), 'cached again after the read');
});

void t.test('revocation, expiry, idle timeout and a due last-seen refresh all leave the fast path', async (t) => {
  {
    const { manager } = setup(t);
    const issued = await manager.create(newSession());
    await manager.revoke(issued.id);
    t.equal(manager.getCached(issued.cookie), undefined, 'revoked');
    t.equal(await manager.get(issued.cookie), undefined);
  }
  {
    const { manager, clock } = setup(t, { lifetime: '500ms' });
    const issued = await manager.create(newSession());
    clock.advance(500);
    t.equal(manager.getCached(issued.cookie), undefined, 'expired');
  }
  {
    const { manager, clock } = setup(t, { idle_timeout: '5s', cache_ttl: '1m' });
    const issued = await manager.create(newSession());
    clock.advance(499);
    t.ok(manager.getCached(issued.cookie), 'before the refresh interval (idle/10)');
    clock.advance(1);
    t.equal(manager.getCached(issued.cookie), undefined, 'a last-seen refresh is due: get() does it');
    t.ok(await manager.get(issued.cookie));
    t.ok(manager.getCached(issued.cookie), 'refreshed');
  }
});

void t.test('a revocation by another instance reaches the cache through the channel', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const a = new SessionManager(store, sessionConfig({ cache_ttl: '1m' }), { clock });
  const b = new SessionManager(store, sessionConfig({ cache_ttl: '1m' }), { clock });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.ready, b.ready]);
  const issued = await a.create(newSession());
  t.ok(await b.get(issued.cookie));
  t.ok(b.getCached(issued.cookie));
  await a.revoke(issued.id);
  for (let i = 0; i < 50 && b.getCached(issued.cookie); i++) await new Promise((r) => setImmediate(r));
  t.equal(b.getCached(issued.cookie), undefined);
});

void t.test('verifiedId: the id a signature verifies to, live or not, and nothing for a bad, foreign or tampered value', async (t) => {
  const { manager, store } = setup(t);
  const issued = await manager.create(newSession());
  store.reset();
  t.equal(manager.verifiedId(issued.cookie), issued.id);
  t.equal(manager.verifiedId(issued.cookie), issued.id, 'asked again (from the memo)');
  const [id, sig] = issued.cookie.split('.') as [string, string];
  const tampered = `${id}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  const foreign = new SessionManager(new MemoryStore(), sessionConfig({ secret: 'another-secret-'.padEnd(40, 'a') })).signer.sign(id);
  for (const bad of [tampered, foreign, `${issued.cookie}x`, 'x'.repeat(5000), '', undefined, null]) {
    t.equal(manager.verifiedId(bad), undefined);
    t.equal(manager.verifiedId(bad), undefined, 'and again: a refused value is not remembered as good');
  }
  const unknown = manager.signer.sign('B'.repeat(43));
  t.equal(manager.verifiedId(unknown), 'B'.repeat(43), 'a genuine signature over an id no session has still verifies (the token is the gateway’s)');
  await manager.revoke(issued.id);
  t.equal(manager.verifiedId(issued.cookie), issued.id, 'an ended session’s token still verifies (it is never forwarded either way)');
  t.equal(await manager.get(issued.cookie), undefined, 'while the session itself is gone');
});
