import t from 'tap';
import { FactorState } from '../../src/factors/enrolment.js';
import { RecoveryCodes } from '../../src/factors/recovery-codes.js';
import { TotpFactor } from '../../src/factors/totp.js';
import { cryptoRandom } from '../../src/util/random.js';
import { KEY, memoryStore, secondFactor } from './helpers.js';

t.test('get/set per-user choices', async (t) => {
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

t.test('an unknown preferred method in the store is ignored', async (t) => {
  const { store } = memoryStore(t);
  await store.hashSet('fs:alice', { preferred: 'carrier-pigeon' }, 0);
  t.same(await new FactorState(store).get('alice'), {});
});

t.test('reset removes TOTP, recovery codes, user-entered details and preference; keeps the opt-in', async (t) => {
  const { store, clock } = memoryStore(t);
  const sf = secondFactor();
  const totp = new TotpFactor(store, sf.totp, KEY, clock);
  const rc = new RecoveryCodes(store, sf.recovery_codes, KEY, cryptoRandom);
  const removed: string[] = [];
  const passkeys = { remove: async (user: string) => void removed.push(user) };
  const fs = new FactorState(store, [totp, rc, passkeys]);
  await store.set('totp:alice', 'sealed', 0);
  await rc.generate('alice');
  await fs.setPhone('alice', '+4915112345678', true);
  await fs.setEmail('alice', 'a@example.org', true);
  await fs.setPreferred('alice', 'totp');
  await fs.setOptedIn('alice', true);
  await fs.reset('alice');
  t.equal(await store.get('totp:alice'), null);
  t.equal(await rc.remaining('alice'), 0);
  t.same(removed, ['alice']);
  t.same(await fs.get('alice'), { optedIn: true });
});
