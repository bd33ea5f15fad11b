import t from 'tap';
import { RecoveryCodes } from '../../src/factors/recovery-codes.js';
import { cryptoRandom } from '../../src/util/random.js';
import { KEY, memoryStore, recording, secondFactor } from './helpers.js';

function setup(t: { teardown(fn: () => unknown): void }, count = 10) {
  const { store: inner } = memoryStore(t);
  const rec = recording(inner);
  return { rc: new RecoveryCodes(rec.store, secondFactor({ recovery_codes: { count } }).recovery_codes, KEY, cryptoRandom), ...rec };
}

void t.test('generates count codes shaped ABCD-EFGH-JK, hashed at rest', async (t) => {
  const { rc, written, keys } = setup(t);
  const codes = await rc.generate('alice');
  t.equal(codes.length, 10);
  t.equal(new Set(codes).size, 10);
  for (const c of codes) t.match(c, /^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{2}$/);
  t.equal(await rc.remaining('alice'), 10);
  for (const c of codes) {
    const raw = c.replace(/-/g, '');
    for (const v of [...written, ...keys]) if (v.includes(raw) || v.includes(c)) t.fail('plain code at rest');
  }
  t.equal((await setup(t, 4).rc.generate('bob')).length, 4);
});

void t.test('single use, normalised input, wrong codes false', async (t) => {
  const { rc } = setup(t);
  const codes = await rc.generate('alice');
  t.equal(await rc.consume('alice', codes[0]!), true);
  t.equal(await rc.consume('alice', codes[0]!), false, 'used');
  t.equal(await rc.remaining('alice'), 9);
  t.equal(await rc.consume('alice', ` ${codes[1]!.toLowerCase().replace(/-/g, ' ')} `), true, 'lower case, spaces');
  t.equal(await rc.consume('bob', codes[2]!), false, 'another user');
  for (const bad of ['', 'AAAA-AAAA-AA', 'x'.repeat(1000), codes[2]!.slice(0, 9)]) t.equal(await rc.consume('alice', bad), false);
  t.equal(await rc.remaining('alice'), 8);
});

void t.test('parallel consume of the same code: one true', async (t) => {
  const { rc } = setup(t);
  const [code] = await rc.generate('alice');
  const results = await Promise.all(Array.from({ length: 20 }, () => rc.consume('alice', code!)));
  t.equal(results.filter(Boolean).length, 1);
  t.equal(await rc.remaining('alice'), 9);
});

void t.test('regenerate replaces the old set; remove clears', async (t) => {
  const { rc } = setup(t);
  const old = await rc.generate('alice');
  const fresh = await rc.generate('alice');
  t.equal(await rc.consume('alice', old[0]!), false);
  t.equal(await rc.remaining('alice'), 10);
  await rc.remove('alice');
  t.equal(await rc.remaining('alice'), 0);
  t.equal(await rc.consume('alice', fresh[0]!), false);
});
