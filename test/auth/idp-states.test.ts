import t from 'tap';
import { SignInStates, SIGN_IN_STATE_TTL_MS, STARTS_PER_CLIENT_PER_MINUTE, type SignInState } from '../../src/auth/idp-states.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

const KEY = Buffer.alloc(32, 7);
const data: SignInState = { provider: 'entra', codeVerifier: 'v'.repeat(43), nonce: 'n'.repeat(43), rd: '/cams', redirectUri: 'https://vms.example.com/_gateway/oidc/entra/callback' };

function setup() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  return { clock, store, states: new SignInStates(store, KEY) };
}

void t.test('a state is bound to the browser that started it and is used once', async (t) => {
  const { store, states } = setup();
  const binding = states.newBinding();
  const { state, nonce, codeVerifier } = states.newChecks();
  for (const v of [binding, state, nonce, codeVerifier]) t.match(v, /^[A-Za-z0-9_-]{43}$/);
  t.not(state, nonce);
  await states.save(state, binding, data);
  t.equal(await store.get(`oidc-state:${state}`), null, 'the store key is an HMAC of the state, not the state');

  t.same(await states.take(state, states.newBinding()), { status: 'foreign' }, 'another browser');
  t.same(await states.take(state, undefined), { status: 'foreign' }, 'no binding cookie');
  t.same(await states.take(state, 'short'), { status: 'foreign' });
  t.same(await states.take(state, binding), { status: 'ok', state: data }, 'the owner, after the others tried');
  t.same(await states.take(state, binding), { status: 'missing' }, 'used once');
  t.same(await states.take(null, binding), { status: 'missing' });
  t.same(await states.take('x'.repeat(43), binding), { status: 'missing' });
  t.same(await states.take('bad state!', binding), { status: 'missing' });
});

void t.test('a state expires after ten minutes; concurrent callbacks: one wins', async (t) => {
  const { clock, states } = setup();
  const binding = states.newBinding();
  const a = states.newChecks().state;
  await states.save(a, binding, data);
  clock.advance(SIGN_IN_STATE_TTL_MS + 1);
  t.same(await states.take(a, binding), { status: 'missing' });

  const b = states.newChecks().state;
  await states.save(b, binding, data);
  const results = await Promise.all([states.take(b, binding), states.take(b, binding), states.take(b, binding)]);
  t.equal(results.filter((r) => r.status === 'ok').length, 1);
  await t.rejects(states.save('short', binding, data), TypeError);
  t.throws(() => new SignInStates(setup().store, Buffer.alloc(8)), TypeError);
  t.ok(SignInStates.wellFormed(binding));
  t.notOk(SignInStates.wellFormed(undefined));
  t.notOk(SignInStates.wellFormed(`${binding}x`));
});

void t.test('a state made with another key is unknown', async (t) => {
  const { store, states } = setup();
  const binding = states.newBinding();
  const { state } = states.newChecks();
  await states.save(state, binding, data);
  const rotated = new SignInStates(store, Buffer.alloc(32, 8));
  t.same(await rotated.take(state, binding), { status: 'missing' });
});

void t.test('starts are counted per client address (an IPv6 /64) and refused past the limit for a minute', async (t) => {
  const { clock, states } = setup();
  for (let i = 0; i < STARTS_PER_CLIENT_PER_MINUTE; i++) if (!(await states.admit('2001:db8::1'))) t.fail(`refused at ${i}`);
  t.notOk(await states.admit('2001:db8::2'), 'the same /64');
  t.ok(await states.admit('2001:db8:0:1::1'), 'another /64');
  t.ok(await states.admit('192.0.2.1'));
  clock.advance(60_001);
  t.ok(await states.admit('2001:db8::1'), 'a minute later');
});
