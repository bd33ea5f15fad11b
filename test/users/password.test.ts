import t from 'tap';
import { isPortcullisError } from '../../src/errors/index.js';
import { hashKind, hashPassword, PasswordVerifier, verifyPassword } from '../../src/users/password.js';

/** Hashes made by other implementations, each with where it comes from. */
const VECTORS: Array<{ name: string; hash: string; password: string }> = [
  // phc-winner-argon2 src/test.c (the reference implementation).
  { name: 'argon2id reference', hash: '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', password: 'password' },
  // phc-winner-argon2 README: `echo -n password | argon2 somesalt -t 2 -m 16 -p 4 -l 24`.
  { name: 'argon2i reference CLI', hash: '$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', password: 'password' },
  // passlib test_handlers_argon2.py (argon2_cffi).
  { name: 'argon2d passlib', hash: '$argon2d$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$cZn5d+rFh+ZfuRhm2iGUGgcrW5YLeM6q7L3vBsdmFA0', password: 'password' },
  // RFC 7914 §12 vector 2 (scrypt("password", "NaCl", N=1024, r=8, p=16, 64)), written as a PHC string;
  // the key is the RFC's fdbabe1c…cc0640 in base64 (also reproduced with Python's hashlib.scrypt).
  {
    name: 'scrypt RFC 7914',
    hash: '$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA',
    password: 'password',
  },
  // Openwall crypt_blowfish wrapper.c test vectors, $2a$ and $2y$.
  { name: 'bcrypt $2a$ openwall', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', password: 'U*U' },
  { name: 'bcrypt $2y$ openwall', hash: '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', password: 'U*U' },
  // libxcrypt via Python: crypt.crypt('correct horse', '$2b$04$abcdefghijklmnopqrstuu').
  { name: 'bcrypt $2b$ libxcrypt', hash: '$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e', password: 'correct horse' },
];

void t.test('hashes made by other implementations verify', async (t) => {
  for (const v of VECTORS) {
    t.equal(await verifyPassword(v.hash, v.password), true, `${v.name}: right password`);
    t.equal(await verifyPassword(v.hash, `${v.password}x`), false, `${v.name}: wrong password`);
  }
});

for (const algorithm of ['argon2id', 'scrypt', 'bcrypt'] as const) {
  void t.test(`${algorithm}: hashPassword then verifyPassword`, async (t) => {
    const password = 'Tr0ub4dor&3 ünïcødé';
    const hash = await hashPassword(password, algorithm);
    t.equal(hashKind(hash), algorithm === 'argon2id' ? 'argon2' : algorithm);
    t.equal(await verifyPassword(hash, password), true);
    t.equal(await verifyPassword(hash, 'Tr0ub4dor&3 unicode'), false);
    t.equal(await verifyPassword(hash, ''), false);
    t.not(await hashPassword(password, algorithm), hash, 'salted: a second hash differs');
  });
}

void t.test('default parameters are the documented ones', async (t) => {
  t.match(await hashPassword('x'), /^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  t.match(await hashPassword('x', 'scrypt'), /^\$scrypt\$ln=16,r=8,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  t.match(await hashPassword('x', 'bcrypt'), /^\$2b\$12\$/);
});

void t.test('hashPassword refuses an empty password and an unknown algorithm', async (t) => {
  await t.rejects(hashPassword(''), TypeError);
  await t.rejects(hashPassword('x', 'md5' as never), /unknown hash algorithm/);
});

void t.test('malformed and unknown hashes verify as false, with one warning each and no hash in it', async (t) => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const bad = [
    '',
    'password',
    '{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=',
    '$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0',
    '$argon2id$v=19$m=65536',
    '$argon2id$v=19$m=65536,t=2,p=1$c29t!ZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m=65536,t=2,p=1$c2E$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', // salt too short for argon2
    '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', // 4 GiB: over the limit
    '$argon2id$v=19$m=65536,t=1000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', // 1000 passes
    '$scrypt$ln=10,r=8$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI',
    '$scrypt$ln=40,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI',
    '$scrypt$ln=10,r=8,p=1,p=2$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI',
    '$scrypt$ln=10,r=8,p=1$TmFDbA$c2hvcnQ',
    '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe',
  ];
  for (const hash of bad) t.equal(await verifyPassword(hash, 'password', warn), false, JSON.stringify(hash));
  t.equal(warnings.length, bad.length, 'one warning per bad hash');
  for (const hash of bad) t.equal(await verifyPassword(hash, 'password', warn), false);
  t.equal(warnings.length, bad.length, 'no second warning for the same hash');
  for (const w of warnings) for (const hash of bad.filter((h) => h.length > 8)) t.notOk(w.includes(hash), 'the hash is not in the warning');
  t.equal(await verifyPassword(undefined as never, 'x', warn), false);
  t.equal(await verifyPassword(VECTORS[0]!.hash, undefined as never, warn), false);
});

void t.test('PasswordVerifier: right, wrong, and the dummy verification for an unknown user', async (t) => {
  const verifier = new PasswordVerifier({ concurrency: 2, queue: 10, warn: () => {} });
  const hash = await hashPassword('s3cret', 'scrypt');
  t.equal(await verifier.verify(hash, 's3cret'), true);
  t.equal(await verifier.verify(hash, 'nope'), false);
  t.equal(verifier.stats.dummy, 0);
  t.equal(await verifier.verify(undefined, 's3cret'), false, 'unknown user: false');
  t.equal(verifier.stats.dummy, 1, 'unknown user: the dummy hash was verified');
  t.equal(await verifier.verify(hash, 's'.repeat(5000)), false, 'overlong password: false');
  t.equal(verifier.stats.dummy, 2, 'overlong password: dummy work instead');
  t.equal(verifier.stats.verifications, 4);
  t.match(await verifier.prepare(), /^\$argon2id\$v=19\$m=65536,t=3,p=4\$/, 'the dummy has the default argon2id cost');
});

void t.test('PasswordVerifier: a full queue answers OVERLOADED and the queued work still finishes', async (t) => {
  const verifier = new PasswordVerifier({ concurrency: 1, queue: 1 });
  const hash = VECTORS[0]!.hash;
  const first = verifier.verify(hash, 'password');
  const second = verifier.verify(hash, 'password');
  t.equal(verifier.pending, 1);
  const third = verifier.verify(hash, 'password');
  const err = await third.catch((e: unknown) => e);
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_OVERLOADED'), 'third: OVERLOADED');
  t.equal(verifier.stats.rejectedOverloaded, 1);
  t.same(await Promise.all([first, second]), [true, true]);
  t.equal(await verifier.verify(hash, 'password'), true, 'accepts work again once drained');
});
