import t from 'tap';
import { MAX_SIGNED_VALUE_LENGTH, newId, signer as signerOf } from '../../src/session/cookie.js';
import { Keyring, type CookiePurpose } from '../../src/keys/keyring.js';

/** A signer over the keyring's cookie keys for these secrets. */
function signer(secrets: string[], purpose: CookiePurpose = 'session') {
  return signerOf(new Keyring(secrets).cookie(purpose));
}

const OLD = 'old-secret-'.padEnd(40, 'o');
const NEW = 'new-secret-'.padEnd(40, 'n');

void t.test('ids are 256-bit base64url and unique', (t) => {
  const a = newId();
  t.match(a, /^[A-Za-z0-9_-]{43}$/);
  t.equal(Buffer.from(a, 'base64url').length, 32);
  const seen = new Set(Array.from({ length: 1000 }, () => newId()));
  t.equal(seen.size, 1000);
  t.end();
});

void t.test('sign then verify gives the id back', (t) => {
  const s = signer([NEW]);
  const id = newId();
  const value = s.sign(id);
  t.match(value, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
  t.equal(s.verify(value), id);
  t.end();
});

void t.test('tampered, truncated, foreign and malformed values are rejected', (t) => {
  const s = signer([NEW]);
  const id = newId();
  const value = s.sign(id);
  const [idPart, sig] = value.split('.') as [string, string];
  const flip = (str: string, i: number) => str.slice(0, i) + (str[i] === 'A' ? 'B' : 'A') + str.slice(i + 1);
  t.equal(s.verify(`${flip(idPart, 5)}.${sig}`), undefined, 'changed id');
  t.equal(s.verify(`${idPart}.${flip(sig, 5)}`), undefined, 'changed signature');
  t.equal(s.verify(`${idPart}.${sig.slice(0, -1)}`), undefined, 'short signature');
  t.equal(s.verify(`${idPart}.${sig}A`), undefined, 'long signature');
  t.equal(s.verify(`${idPart}.${sig}.x`), undefined, 'extra part');
  t.equal(s.verify(idPart), undefined, 'no signature');
  t.equal(s.verify(''), undefined);
  t.equal(s.verify(undefined), undefined);
  t.equal(s.verify(null), undefined);
  t.equal(s.verify(42 as unknown as string), undefined);
  t.equal(s.verify(`${idPart}.${sig.slice(0, -1)}=`), undefined, 'padding');
  t.equal(s.verify(`${idPart}.${sig.slice(0, -1)}+`), undefined, 'non-url alphabet');
  t.equal(signer([OLD]).verify(value), undefined, 'signed with another secret');
  t.equal(signer([NEW], 'device').verify(value), undefined, 'another purpose derives another key');
  // The last base64url character carries 2 spare bits: a non-canonical variant decodes to the same bytes.
  const last = sig[sig.length - 1]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const variant = alphabet[alphabet.indexOf(last) ^ 1]!;
  t.equal(s.verify(`${idPart}.${sig.slice(0, -1)}${variant}`), undefined, 'non-canonical encoding');
  t.end();
});

void t.test('oversized values are rejected before any work', (t) => {
  const s = signer([NEW]);
  t.equal(s.verify('a'.repeat(MAX_SIGNED_VALUE_LENGTH + 1)), undefined);
  t.equal(s.verify('a'.repeat(1_000_000) + '.' + 'b'.repeat(43)), undefined);
  const longId = 'a'.repeat(129);
  t.throws(() => s.sign(longId));
  t.throws(() => s.sign('short'));
  t.throws(() => s.sign('has.dot-in-it-xxxxxxxx'));
  t.end();
});

void t.test('key rotation: [new, old] verifies old cookies and signs with new; dropping old ends them', (t) => {
  const id = newId();
  const before = signer([OLD]).sign(id);
  const rotated = signer([NEW, OLD]);
  t.equal(rotated.verify(before), id, 'old cookie still good');
  const after = rotated.sign(id);
  t.not(after, before, 'new cookies use the new key');
  t.equal(signer([NEW]).verify(after), id);
  t.equal(signer([NEW]).verify(before), undefined, 'old key dropped');
  t.throws(() => signer([]));
  t.throws(() => signerOf([]));
  t.end();
});

