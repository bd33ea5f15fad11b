import t from 'tap';
import { maskDestination, maskEmail, maskPhone } from '../../src/delivery/mask.js';
import { isE164 } from '../../src/delivery/phone.js';

void t.test('emails keep the first character and the domain', (t) => {
  t.equal(maskEmail('alice@example.com'), 'a***@example.com');
  t.equal(maskEmail('a@example.com'), 'a***@example.com');
  t.equal(maskEmail('  Bob.Smith@Example.org '), 'B***@Example.org');
  t.equal(maskEmail('weird@name@example.com'), 'w***@example.com', 'the last @ separates the domain');
  t.equal(maskEmail('élodie@exemple.fr'), 'é***@exemple.fr');
  t.end();
});

void t.test('odd email input never leaks the whole value', (t) => {
  for (const odd of ['', 'no-at-sign', '@example.com', 'alice@', undefined as unknown as string, null as unknown as string]) {
    t.equal(maskEmail(odd), '***', JSON.stringify(odd));
  }
  t.end();
});

void t.test('phones keep the country code and the last two digits', (t) => {
  t.equal(maskPhone('+4915112345678'), '+49 *** *** 78');
  t.equal(maskPhone('+14155550100'), '+1 *** *** 00');
  t.equal(maskPhone('+79161234567'), '+7 *** *** 67');
  t.equal(maskPhone('+31 6 1234 5678'), '+31 *** *** 78', 'spaces ignored');
  t.equal(maskPhone('+353861234567'), '+353 *** *** 67', 'three-digit country code');
  t.equal(maskPhone('015112345678'), '*** *** 78', 'no plus: no country code shown');
  t.end();
});

void t.test('odd phone input', (t) => {
  for (const odd of ['', '+49', '12345', 'abc', undefined as unknown as string]) t.equal(maskPhone(odd), '***', JSON.stringify(odd));
  t.end();
});

void t.test('maskDestination picks by shape', (t) => {
  t.equal(maskDestination('alice@example.com'), 'a***@example.com');
  t.equal(maskDestination('+4915112345678'), '+49 *** *** 78');
  t.end();
});

void t.test('E.164 validation', (t) => {
  for (const ok of ['+4915112345678', '+14155550100', '+441234567']) t.ok(isE164(ok), ok);
  for (const bad of ['4915112345678', '+0123456789', '+49 151', '+4915112345678901', '+49-151-123', '', '+12345']) t.notOk(isE164(bad), bad);
  t.end();
});
