import t from 'tap';
import { parseCookies, removeCookie, removeCookies, serializeCookie } from '../../src/http/cookies.js';

void t.test('parses cookies tolerantly; the first occurrence wins', (t) => {
  const m = parseCookies('a=1; b="quoted"; junk; =novalue; c=x%20y; a=2;d=bad%zz;  e = spaced ');
  t.equal(m.get('a'), '1');
  t.equal(m.get('b'), 'quoted');
  t.equal(m.get('c'), 'x y');
  t.equal(m.get('d'), 'bad%zz');
  t.equal(m.get('e'), 'spaced');
  t.notOk(m.has('junk'));
  t.equal(parseCookies(undefined).size, 0);
  t.equal(parseCookies('').size, 0);
  t.end();
});

void t.test('parsing is bounded in pairs and length', (t) => {
  const many = Array.from({ length: 500 }, (_, i) => `k${i}=v`).join('; ');
  t.equal(parseCookies(many).size, 100);
  const long = `a=1; b=${'x'.repeat(100_000)}; c=3`;
  t.notOk(parseCookies(long).has('c'));
  t.end();
});

void t.test('serialises with every attribute and rejects bad names and attributes', (t) => {
  t.equal(
    serializeCookie('portcullis_session', 'abc', { maxAge: 3600, domain: 'example.com', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }),
    'portcullis_session=abc; Max-Age=3600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax',
  );
  t.equal(serializeCookie('x', 'a b;c'), 'x=a%20b%3Bc');
  t.equal(serializeCookie('x', '', { maxAge: 0 }), 'x=; Max-Age=0');
  t.equal(serializeCookie('x', 'v', { sameSite: 'None' }), 'x=v; Secure; SameSite=None', 'None implies Secure');
  t.throws(() => serializeCookie('bad name', 'v'));
  t.throws(() => serializeCookie('x', 'v', { domain: 'a;b' }));
  t.throws(() => serializeCookie('x', 'v', { path: '/a;b' }));
  t.throws(() => serializeCookie('x', 'v', { maxAge: Number.NaN }));
  t.end();
});

void t.test('removes one cookie, keeping every other one byte for byte', (t) => {
  t.equal(removeCookie('a=1; portcullis_session=x; b="2 3"', 'portcullis_session'), 'a=1; b="2 3"');
  t.equal(removeCookie('portcullis_session=x; a=1', 'portcullis_session'), 'a=1');
  t.equal(removeCookie('a=1;portcullis_session=x', 'portcullis_session'), 'a=1');
  t.equal(removeCookie('a=%7B%7D;  b=c=d;portcullis_session=x;e', 'portcullis_session'), 'a=%7B%7D;  b=c=d;e');
  t.equal(removeCookie('portcullis_session=x', 'portcullis_session'), undefined);
  t.equal(removeCookie('portcullis_session=x; portcullis_session=y', 'portcullis_session'), undefined);
  t.equal(removeCookie('a=1; b=2', 'portcullis_session'), 'a=1; b=2', 'untouched when absent');
  t.equal(removeCookie('xportcullis_session=1; portcullis_sessionx=2', 'portcullis_session'), 'xportcullis_session=1; portcullis_sessionx=2');
  t.equal(removeCookies('a=1; s=2; d=3; b=4', ['s', 'd']), 'a=1; b=4');
  t.end();
});
