import t from 'tap';
import { CODE_CHARSETS } from '../../src/config/schema/second-factor.js';
import { PortcullisError } from '../../src/errors/index.js';
import { CHARSETS, normalizeCode } from '../../src/factors/charsets.js';
import { OneTimeCodes } from '../../src/factors/codes.js';
import { cryptoRandom, type Random } from '../../src/util/random.js';
import { KEY, memoryStore, recording, secondFactor } from './helpers.js';

const META = { user: 'alice', channel: 'email', destination: 'alice@example.com' };
const LOOK_ALIKES = /[ILOlo01]/;

void t.test('every charset and length 4..12 gives only allowed characters', (t) => {
  const { store, clock } = memoryStore(t);
  for (const charset of CODE_CHARSETS) {
    for (let length = 4; length <= 12; length++) {
      const codes = new OneTimeCodes(store, secondFactor({ code: { length, charset } }).code, KEY, clock, cryptoRandom);
      for (let i = 0; i < 50; i++) {
        const code = codes.generate();
        if (code.length !== length || ![...code].every((ch) => CHARSETS[charset].includes(ch))) t.fail(`${charset}/${length}: ${code}`);
      }
    }
    t.pass(`${charset}: lengths 4..12 and characters right`);
  }
  t.notMatch(CHARSETS.letters, /[ILO0-9a-z]/);
  t.notMatch(CHARSETS.alphanumeric, LOOK_ALIKES);
  t.notMatch(CHARSETS.alphanumeric_mixed_case, LOOK_ALIKES);
  t.match(CHARSETS.alphanumeric_mixed_case, /[a-z]/);
  t.equal(CHARSETS.digits, '0123456789');
  t.end();
});

void t.test('all characters of each charset appear over many draws', (t) => {
  const { store, clock } = memoryStore(t);
  for (const charset of CODE_CHARSETS) {
    const codes = new OneTimeCodes(store, secondFactor({ code: { length: 12, charset } }).code, KEY, clock, cryptoRandom);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) for (const ch of codes.generate()) seen.add(ch);
    t.equal(seen.size, CHARSETS[charset].length, charset);
  }
  t.end();
});

void t.test('draws use Random.int over the alphabet size (no modulo on bytes)', (t) => {
  const { store, clock } = memoryStore(t);
  const maxes: number[] = [];
  const random: Random = { bytes: () => Buffer.alloc(0), int: (max) => (maxes.push(max), max - 1) };
  const codes = new OneTimeCodes(store, secondFactor({ code: { length: 5, charset: 'alphanumeric' } }).code, KEY, clock, random);
  t.equal(codes.generate(), '99999');
  t.same(maxes, [31, 31, 31, 31, 31]);
  t.end();
});

void t.test('normalisation: spaces, dashes, case', (t) => {
  t.equal(normalizeCode(' 123-456 ', 'digits'), '123456');
  t.equal(normalizeCode('ab cd', 'letters'), 'ABCD');
  t.equal(normalizeCode('ab-cD', 'alphanumeric_mixed_case'), 'abcD');
  t.end();
});

function setup(t: { teardown(fn: () => unknown): void }, code = {}) {
  const { store: inner, clock } = memoryStore(t);
  const rec = recording(inner);
  const codes = new OneTimeCodes(rec.store, secondFactor({ code }).code, KEY, clock, cryptoRandom);
  return { codes, clock, ...rec };
}

void t.test('the code is hashed at rest', async (t) => {
  const { codes, written, keys } = setup(t);
  const { code } = await codes.issue('flow1', META);
  t.ok(written.length > 0);
  for (const v of written) t.notOk(v.includes(code), 'no plain code stored');
  for (const k of keys) t.notOk(k.includes(code));
});

void t.test('verify: ok once, with meta', async (t) => {
  const { codes, clock } = setup(t);
  const issued = await codes.issue('flow1', META);
  t.equal(issued.expiresAt, clock.now() + 300_000);
  t.equal(issued.resendAt, clock.now() + 30_000);
  t.same(await codes.verify('flow1', issued.code), { result: 'ok', meta: META });
  t.same(await codes.verify('flow1', issued.code), { result: 'expired' }, 'single use');
});

void t.test('verify: candidate normalised (spaces, dashes, case)', async (t) => {
  const { codes } = setup(t, { charset: 'alphanumeric', length: 8 });
  const { code } = await codes.issue('flow1', META);
  const typed = ` ${code.slice(0, 4).toLowerCase()}-${code.slice(4)} `;
  t.equal((await codes.verify('flow1', typed)).result, 'ok');
});

void t.test('verify: mixed case is case-sensitive', async (t) => {
  const random: Random = { bytes: () => Buffer.alloc(0), int: (max) => max - 30 }; // lowercase letters
  const { store, clock } = memoryStore(t);
  const codes = new OneTimeCodes(store, secondFactor({ code: { charset: 'alphanumeric_mixed_case' } }).code, KEY, clock, random);
  const { code } = await codes.issue('flow1', META);
  t.match(code, /^[a-z]+$/);
  t.same(await codes.verify('flow1', code.toUpperCase()), { result: 'invalid', attemptsLeft: 2 });
  t.equal((await codes.verify('flow1', code)).result, 'ok');
});

void t.test('verify: invalid with attemptsLeft, then exhausted even for the right code', async (t) => {
  const { codes } = setup(t);
  const { code } = await codes.issue('flow1', META);
  const wrong = code === '000000' ? '111111' : '000000';
  t.same(await codes.verify('flow1', wrong), { result: 'invalid', attemptsLeft: 2 });
  t.same(await codes.verify('flow1', 'garbage'), { result: 'invalid', attemptsLeft: 1 });
  t.same(await codes.verify('flow1', 'x'.repeat(10_000)), { result: 'invalid', attemptsLeft: 0 });
  t.same(await codes.verify('flow1', code), { result: 'exhausted' });
});

void t.test('verify: expired after ttl', async (t) => {
  const { codes, clock } = setup(t);
  const { code } = await codes.issue('flow1', META);
  clock.advance(300_000);
  t.same(await codes.verify('flow1', code), { result: 'expired' });
  t.same(await codes.verify('nope', code), { result: 'expired' }, 'unknown flow');
  t.same(await codes.verify('bad flow!', code), { result: 'expired' }, 'malformed flow');
});

void t.test('a re-issue replaces the code; resend cooldown with retry_after', async (t) => {
  const { codes, clock } = setup(t);
  const first = await codes.issue('flow1', META);
  clock.advance(10_000);
  const err = await codes.issue('flow1', META).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof PortcullisError);
  t.equal((err as PortcullisError).code, 'PORTCULLIS_ERR_RATE_LIMITED');
  t.equal((err as PortcullisError).details.retry_after, 20);
  clock.advance(20_000);
  let second = await codes.issue('flow1', META);
  while (second.code === first.code) {
    clock.advance(30_000);
    second = await codes.issue('flow1', META);
  }
  t.same(await codes.verify('flow1', first.code), { result: 'invalid', attemptsLeft: 2 }, 'old code dead');
  t.equal((await codes.verify('flow1', second.code)).result, 'ok');
});

void t.test('a damaged record fails closed', async (t) => {
  const { codes, store } = setup(t);
  const { code } = await codes.issue('flow1', META);
  await store.hashSet('code:flow1', { x: 'garbage' }, 60_000);
  t.same(await codes.verify('flow1', code), { result: 'expired' });
  await store.del('code:flow1');
  await store.hashSet('code:flow1', { a: '0', x: String(Date.UTC(2030, 0, 1)) }, 60_000);
  t.same(await codes.verify('flow1', code), { result: 'expired' }, 'no hash stored');
});

void t.test('a re-issue resets the attempts', async (t) => {
  const { codes, clock } = setup(t);
  await codes.issue('flow1', META);
  for (let i = 0; i < 3; i++) await codes.verify('flow1', 'zzzzzz');
  clock.advance(30_000);
  const { code } = await codes.issue('flow1', META);
  t.equal((await codes.verify('flow1', code)).result, 'ok');
});

void t.test('issue rejects a malformed flow', async (t) => {
  const { codes } = setup(t);
  for (const bad of ['', 'a b', 'a\nb', 'a/b', 'x'.repeat(161)]) await t.rejects(codes.issue(bad, META), { code: 'PORTCULLIS_ERR_BAD_REQUEST' }, JSON.stringify(bad));
  const { code } = await codes.issue('0123abcd:email', META);
  t.equal((await codes.verify('0123abcd:email', code)).result, 'ok', 'flow ids with a method suffix');
});

void t.test('invalidateUser kills every pending code of the user only', async (t) => {
  const { codes } = setup(t);
  const a1 = await codes.issue('flowA1', META);
  const a2 = await codes.issue('flowA2', { ...META, channel: 'sms', destination: '+4915112345678' });
  const b = await codes.issue('flowB', { ...META, user: 'bob' });
  t.equal(await codes.invalidateUser('alice'), 2);
  t.same(await codes.verify('flowA1', a1.code), { result: 'expired' });
  t.same(await codes.verify('flowA2', a2.code), { result: 'expired' });
  t.equal((await codes.verify('flowB', b.code)).result, 'ok');
});

void t.test('100 parallel wrong guesses get at most max_attempts comparisons', async (t) => {
  const { codes } = setup(t);
  const { code } = await codes.issue('flow1', META);
  const guesses = Array.from({ length: 100 }, (_, i) => String(i).padStart(6, '0')).filter((g) => g !== code);
  const results = await Promise.all(guesses.map((g) => codes.verify('flow1', g)));
  t.equal(results.filter((r) => r.result === 'invalid').length, 3);
  t.equal(results.filter((r) => r.result === 'exhausted').length, guesses.length - 3);
  t.same(await codes.verify('flow1', code), { result: 'exhausted' });
});

void t.test('two parallel right answers: exactly one ok', async (t) => {
  const { codes } = setup(t);
  const { code } = await codes.issue('flow1', META);
  const results = await Promise.all([codes.verify('flow1', code), codes.verify('flow1', code)]);
  t.equal(results.filter((r) => r.result === 'ok').length, 1);
});

void t.test('store errors propagate', async (t) => {
  const { store: inner, clock } = memoryStore(t);
  const failing = Object.create(inner) as typeof inner;
  const boom = () => {
    throw new PortcullisError('PORTCULLIS_ERR_STORE_UNAVAILABLE');
  };
  Object.assign(failing, { set: boom, hashIncr: boom, setMembers: boom });
  const codes = new OneTimeCodes(failing, secondFactor().code, KEY, clock, cryptoRandom);
  await t.rejects(codes.issue('flow1', META), { code: 'PORTCULLIS_ERR_STORE_UNAVAILABLE' });
  await t.rejects(codes.verify('flow1', '123456'), { code: 'PORTCULLIS_ERR_STORE_UNAVAILABLE' });
  await t.rejects(codes.invalidateUser('alice'), { code: 'PORTCULLIS_ERR_STORE_UNAVAILABLE' });
});
