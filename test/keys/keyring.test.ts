import t from 'tap';
import { hkdfSync } from 'node:crypto';
import { configSchema } from '../../src/config/schema/index.js';
import { Keyring, sessionSecrets } from '../../src/keys/keyring.js';

const OLD = 'old-secret-'.padEnd(40, 'o');
const NEW = 'new-secret-'.padEnd(40, 'n');

void t.test('sessionSecrets prefers secrets over secret', (t) => {
  const one = configSchema.parse({ session: { secret: OLD } }).session;
  t.same(sessionSecrets(one), [OLD]);
  const two = configSchema.parse({ session: { secret: OLD, secrets: [NEW, OLD] } }).session;
  t.same(sessionSecrets(two), [NEW, OLD]);
  t.same(Keyring.fromSession(two).secrets, [NEW, OLD]);
  t.throws(() => new Keyring([]), /session.secret is required/);
  t.end();
});

void t.test('keys for data at rest come from the oldest secret, signing keys from the newest', (t) => {
  const rotated = new Keyring([NEW, OLD]);
  const before = new Keyring([OLD]);
  t.same(rotated.atRest('totp-at-rest'), before.atRest('totp-at-rest'), 'rotation keeps stored seeds readable');
  t.notSame(rotated.signing('login-csrf'), before.signing('login-csrf'), 'the newest secret signs');
  t.same(rotated.signing('login-csrf'), new Keyring([NEW]).signing('login-csrf'));
  t.equal(rotated.atRest('one-time-codes').length, 32);
  t.end();
});

void t.test('derivations are stable (stored data and issued cookies stay valid across versions)', (t) => {
  const k = new Keyring([NEW, OLD]);
  t.same(k.atRest('totp-at-rest'), Buffer.from(hkdfSync('sha256', OLD, 'portcullis', 'totp-at-rest', 32)));
  t.same(k.signing('login-csrf'), Buffer.from(hkdfSync('sha256', NEW, 'portcullis', 'login-csrf', 32)));
  t.same(k.cookie('session')[1], Buffer.from(hkdfSync('sha256', OLD, 'portcullis-cookie-v1', 'portcullis session cookie', 32)));
  t.equal(k.cookie('device').length, 2, 'one cookie key per secret');
  t.end();
});

void t.test('purposes never share a key, and each key is derived once', (t) => {
  const k = new Keyring([NEW]);
  const all = [k.atRest('one-time-codes'), k.atRest('totp-at-rest'), k.atRest('recovery-codes'), k.atRest('invites'), k.signing('login-csrf'), k.cookie('session')[0]!, k.cookie('device')[0]!];
  t.equal(new Set(all.map((b) => b.toString('hex'))).size, all.length);
  t.equal(k.atRest('invites'), k.atRest('invites'), 'the same Buffer: derived once');
  t.equal(k.cookie('session'), k.cookie('session'));
  t.end();
});
