import t from 'tap';
import { FactorState } from '../../src/factors/enrolment.js';
import { memoryStore } from './helpers.js';

void t.test('get/set per-user choices', async (t) => {
  const { store } = memoryStore(t);
  const fs = new FactorState(store);
  t.same(await fs.get('alice'), {});
  await fs.setEmail('alice', 'a@example.org', false);
  await fs.setPhone('alice', '+4915112345678', true);
  await fs.setPreferred('alice', 'sms');
  await fs.setOptedIn('alice', true);
  t.same(await fs.get('alice'), {
    email: { address: 'a@example.org', verified: false },
    phone: { number: '+4915112345678', verified: true },
    preferred: 'sms',
    optedIn: true,
  });
  await fs.setEmail('alice', 'a@example.org', true);
  t.same((await fs.get('alice')).email, { address: 'a@example.org', verified: true });
  await fs.setOptedIn('alice', false);
  t.equal((await fs.get('alice')).optedIn, false);
  t.same(await fs.get('bob'), {}, 'per user');
});

void t.test('an unknown preferred method in the store is ignored', async (t) => {
  const { store } = memoryStore(t);
  await store.hashSet('fs:alice', { preferred: 'carrier-pigeon' }, 0);
  t.same(await new FactorState(store).get('alice'), {});
});

void t.test('clear forgets delivery details and preference, keeps the opt-in', async (t) => {
  const { store } = memoryStore(t);
  const fs = new FactorState(store);
  await fs.setPhone('alice', '+4915112345678', true);
  await fs.setPreferred('alice', 'totp');
  await fs.setOptedIn('alice', true);
  await fs.clear('alice');
  t.same(await fs.get('alice'), { optedIn: true });
  await fs.clear('bob');
  t.same(await fs.get('bob'), {}, 'no opt-in is invented');
});
