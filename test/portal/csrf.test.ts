import t from 'tap';
import { csrfToken, newLoginCsrf, verifyCsrf, verifyLoginCsrf } from '../../src/portal/csrf.js';

const SECRET = 'session-csrf-secret-0123456789abcdef';

void t.test('in-session token: valid for its secret and action', (t) => {
  const tok = csrfToken(SECRET);
  t.ok(verifyCsrf(SECRET, tok));
  t.ok(tok.length < 100);
  t.not(csrfToken(SECRET), tok, 'a fresh nonce each time');
  t.ok(verifyCsrf(SECRET, csrfToken(SECRET)), 'every fresh token verifies');
  const bound = csrfToken(SECRET, 'logout');
  t.ok(verifyCsrf(SECRET, bound, 'logout'));
  t.notOk(verifyCsrf(SECRET, bound, 'verify'), 'bound to the action');
  t.notOk(verifyCsrf(SECRET, bound), 'not valid without the action');
  t.end();
});

void t.test('in-session token: invalid, tampered, other secret, oversized', (t) => {
  const tok = csrfToken(SECRET);
  t.notOk(verifyCsrf('another-secret-of-enough-length-xx', tok), 'other secret');
  t.notOk(verifyCsrf(SECRET, undefined));
  t.notOk(verifyCsrf(SECRET, ''));
  t.notOk(verifyCsrf(SECRET, 'garbage'));
  t.notOk(verifyCsrf(SECRET, '.abc'));
  t.notOk(verifyCsrf(SECRET, `${tok}x`));
  const [nonce, mac] = tok.split('.') as [string, string];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  t.notOk(verifyCsrf(SECRET, `${flip(nonce)}.${mac}`), 'tampered nonce');
  t.notOk(verifyCsrf(SECRET, `${nonce}.${flip(mac)}`), 'tampered mac');
  t.notOk(verifyCsrf(SECRET, `${nonce}.${mac}.x`));
  t.notOk(verifyCsrf(SECRET, `${nonce}.${mac}`.padEnd(300, 'A')), 'oversized');
  t.notOk(verifyCsrf(SECRET, 'a'.repeat(1_000_000)), 'huge');
  t.notOk(verifyCsrf('', tok), 'empty secret never verifies');
  t.notOk(verifyCsrf(SECRET, 42 as unknown as string));
  t.throws(() => csrfToken(''));
  t.end();
});

const KEY = Buffer.alloc(32, 7);
const T0 = Date.UTC(2026, 0, 1);
const MAX = 30 * 60_000;

void t.test('login CSRF: double submit with a signed, time-stamped cookie', (t) => {
  const { cookieValue, token } = newLoginCsrf(KEY, T0);
  t.match(cookieValue, /^[0-9a-z]+\.[\w-]+\.[\w-]+$/);
  t.notOk(cookieValue.includes(token), 'the token is not in the cookie');
  t.ok(verifyLoginCsrf(KEY, cookieValue, token, T0, MAX));
  t.ok(verifyLoginCsrf(KEY, cookieValue, token, T0 + MAX, MAX), 'valid up to max age');
  t.notOk(verifyLoginCsrf(KEY, cookieValue, token, T0 + MAX + 1, MAX), 'expired');
  t.notOk(verifyLoginCsrf(KEY, cookieValue, token, T0 - 2 * 60_000, MAX), 'from the future');
  t.ok(verifyLoginCsrf(KEY, cookieValue, token, T0 - 30_000, MAX), 'small clock skew allowed');
  const other = newLoginCsrf(KEY, T0);
  t.not(other.token, token);
  t.notOk(verifyLoginCsrf(KEY, cookieValue, other.token, T0, MAX), 'token of another cookie');
  t.notOk(verifyLoginCsrf(KEY, other.cookieValue, token, T0, MAX));
  t.notOk(verifyLoginCsrf(Buffer.alloc(32, 8), cookieValue, token, T0, MAX), 'other key');
  t.end();
});

void t.test('login CSRF: tampered, missing, malformed, oversized', (t) => {
  const { cookieValue, token } = newLoginCsrf(KEY, T0);
  const [issued, nonce, sig] = cookieValue.split('.') as [string, string, string];
  const later = (T0 + 10 * MAX).toString(36);
  t.notOk(verifyLoginCsrf(KEY, `${later}.${nonce}.${sig}`, token, T0 + 10 * MAX, MAX), 'cannot renew the timestamp');
  t.notOk(verifyLoginCsrf(KEY, `${issued}.${nonce}x.${sig}`, token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, `${issued}.${nonce}.${sig.slice(1)}`, token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, cookieValue, `${token.slice(1)}A`, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, undefined, token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, cookieValue, undefined, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, cookieValue, '', T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, '', token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, 'a.b', token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, `${cookieValue}.x`, token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, `-1.${nonce}.${sig}`, token, T0, MAX));
  t.notOk(verifyLoginCsrf(KEY, cookieValue, 'A'.repeat(10_000), T0, MAX), 'oversized token');
  t.notOk(verifyLoginCsrf(KEY, cookieValue.padEnd(10_000, 'A'), token, T0, MAX), 'oversized cookie');
  t.notOk(verifyLoginCsrf(Buffer.alloc(4), cookieValue, token, T0, MAX), 'short key');
  t.throws(() => newLoginCsrf(Buffer.alloc(4), T0));
  t.end();
});
