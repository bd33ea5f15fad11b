import t from 'tap';
import { closestKey, levenshtein, RENAMED_KEYS, unknownKeyMessage } from '../../src/config/hints.js';
import { keyPaths } from '../../src/config/introspect.js';
import { configSchema } from '../../src/config/schema/index.js';

void t.test('levenshtein distance', (t) => {
  t.equal(levenshtein('listen', 'listen'), 0);
  t.equal(levenshtein('listn', 'listen'), 1);
  t.equal(levenshtein('ulr', 'url'), 2);
  t.equal(levenshtein('', 'abc'), 3);
  t.end();
});

void t.test('closest key: typos, case and dashes, prefixes, and nothing when far', (t) => {
  const known = ['listen', 'tls', 'public_url', 'trusted_proxies', 'workers'];
  t.equal(closestKey('listn', known), 'listen');
  t.equal(closestKey('Public-URL', known), 'public_url');
  t.equal(closestKey('trusted_proxy', known), 'trusted_proxies');
  t.equal(closestKey('banana', known), undefined);
  t.equal(closestKey('cert', ['cert_file', 'key_file']), 'cert_file');
  t.equal(closestKey('password', ['bind_password', 'password_hash']), undefined, 'ambiguous: no guess');
  t.end();
});

void t.test('messages', (t) => {
  t.equal(unknownKeyMessage('server.listn', 'listn', ['listen']), "unknown key; did you mean 'listen'?");
  t.equal(unknownKeyMessage('session.expiration', 'expiration', ['lifetime']), "unknown key; it is now 'session.lifetime'");
  t.equal(unknownKeyMessage('x.qqq', 'qqq', ['a', 'b']), 'unknown key (known keys: a, b)');
  t.equal(unknownKeyMessage('qqq', 'qqq', []), 'unknown key');
  t.end();
});

void t.test('every renamed key points at a key that exists', (t) => {
  const paths = new Set(keyPaths(configSchema));
  for (const [old, now] of Object.entries(RENAMED_KEYS)) {
    t.ok(paths.has(now), `${old} → ${now}`);
    t.notOk(paths.has(old), `${old} is not a key any more`);
  }
  t.end();
});
