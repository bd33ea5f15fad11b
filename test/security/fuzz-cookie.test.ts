/**
 * Property-based: the cookie codec (session/cookie.ts). Every id signs and verifies back (also under
 * rotation: a value signed with the old secret verifies while the old secret is listed); any mutation of
 * a signed value — a changed, inserted or deleted character, a truncation, an extension, a swapped
 * signature, another purpose's key — fails; and verify never throws, whatever it is given.
 */
import t from 'tap';
import fc from 'fast-check';
import { Keyring } from '../../src/keys/keyring.js';
import { MAX_SIGNED_VALUE_LENGTH, signer as signerOf } from '../../src/session/cookie.js';
import { fuzzParameters } from './fuzz.js';

const NEW = 'fuzz-secret-new-0123456789abcdefghijklmnopqrstuvwxyz';
const OLD = 'fuzz-secret-old-0123456789abcdefghijklmnopqrstuvwxyz';
/** A signer over the keyring's cookie keys for these secrets (as the gateway builds them). */
const signer = (secrets: string[], purpose: 'session' | 'device' = 'session') => signerOf(new Keyring(secrets).cookie(purpose));
const current = signer([NEW]);
const rotating = signer([NEW, OLD]);
const old = signer([OLD]);
const device = signer([NEW], 'device');

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const id = fc.array(fc.constantFrom(...B64URL), { minLength: 16, maxLength: 128 }).map((c) => c.join(''));
/** Characters a mutation may put in: the value's own alphabet, the separator, and some that are not. */
const anyChar = fc.oneof(fc.constantFrom(...B64URL, '.', '=', '+', '/', '%', ' ', '\0', '\u00e9'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));

type Mutation = { kind: 'replace' | 'insert' | 'delete'; at: number; ch: string } | { kind: 'truncate'; at: number } | { kind: 'append'; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const, 'delete' as const), at: fc.nat(), ch: anyChar }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), text: fc.string({ minLength: 1, maxLength: 8 }) }),
);

function mutate(value: string, m: Mutation): string {
  if (m.kind === 'append') return value + m.text;
  const at = m.at % value.length;
  if (m.kind === 'truncate') return value.slice(0, at);
  if (m.kind === 'delete') return value.slice(0, at) + value.slice(at + 1);
  if (m.kind === 'insert') return value.slice(0, at) + m.ch + value.slice(at);
  return value.slice(0, at) + m.ch + value.slice(at + 1);
}

void t.test('fuzz: sign then verify gives the id back, also across a rotation', (t) => {
  fc.assert(
    fc.property(id, (i) => {
      const v = current.sign(i);
      if (current.verify(v) !== i) throw new Error('roundtrip failed');
      if (rotating.verify(v) !== i) throw new Error('the new secret does not verify under rotation');
      if (rotating.verify(old.sign(i)) !== i) throw new Error('the old secret does not verify under rotation');
      if (current.verify(old.sign(i)) !== undefined) throw new Error('a retired secret still verifies');
      if (v.length > MAX_SIGNED_VALUE_LENGTH) throw new Error('a signed value is longer than verify accepts');
    }),
    fuzzParameters(500),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: any mutation of a signed value fails', (t) => {
  fc.assert(
    fc.property(id, mutation, (i, m) => {
      const v = rotating.sign(i);
      const changed = mutate(v, m);
      if (changed === v) return; // a mutation that changed nothing (same character) is not a mutation
      const got = rotating.verify(changed);
      if (got !== undefined) throw new Error(`mutated ${JSON.stringify(changed)} verified as ${got}`);
    }),
    fuzzParameters(1000),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: signatures do not transfer between ids or purposes', (t) => {
  fc.assert(
    fc.property(id, id, (a, b) => {
      const sigA = current.sign(a).split('.')[1]!;
      if (a !== b && current.verify(`${b}.${sigA}`) !== undefined) throw new Error('a signature verified for another id');
      if (current.verify(device.sign(a)) !== undefined) throw new Error('a device-cookie signature verified as a session');
      if (device.verify(current.sign(a)) !== undefined) throw new Error('a session signature verified as a device cookie');
    }),
    fuzzParameters(500),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: verify never throws and accepts nothing unsigned', (t) => {
  const arbitrary = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.tuple(id, fc.string({ maxLength: 60 })).map(([i, s]) => `${i}.${s}`),
    fc.tuple(id, fc.constantFrom(...B64URL), fc.nat({ max: 60 })).map(([i, c, n]) => `${i}.${c.repeat(n)}`),
    fc.constantFrom(undefined, null, '', '.', '..', 'a.b', `${'A'.repeat(16)}.${'A'.repeat(43)}`),
  );
  fc.assert(
    fc.property(arbitrary, (value) => {
      if (rotating.verify(value) !== undefined) throw new Error(`unsigned ${JSON.stringify(value)} verified`);
    }),
    fuzzParameters(1000),
  );
  // Non-string values from a careless caller (a repeated header parsed into an array) are refused too.
  for (const value of [42, {}, ['a.b'], Symbol('x'), () => 'x']) t.equal(rotating.verify(value as unknown as string), undefined);
  t.end();
});

void t.test('fuzz: sign refuses what is not an id, and never signs it', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      let signed: string | undefined;
      try {
        signed = current.sign(s);
      } catch (err) {
        if (!/id must be/.test((err as Error).message)) throw err;
        return;
      }
      if (current.verify(signed) !== s) throw new Error(`${JSON.stringify(s)} signed but does not verify`);
    }),
    fuzzParameters(500),
  );
  t.pass('property held');
  t.end();
});
