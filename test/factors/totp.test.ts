import { Secret, TOTP } from 'otpauth';
import t from 'tap';
import { TotpFactor } from '../../src/factors/totp.js';
import { KEY, memoryStore, recording, secondFactor } from './helpers.js';

const cfg = secondFactor().totp;

function codeAt(secretBase32: string, timestamp: number, opts: { digits?: number; algorithm?: string; period?: number } = {}): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), timestamp, digits: opts.digits ?? 6, algorithm: opts.algorithm ?? 'SHA1', period: opts.period ?? 30 });
}

function setup(t: { teardown(fn: () => unknown): void }, c = cfg) {
  const { store: inner, clock } = memoryStore(t);
  const rec = recording(inner);
  return { totp: new TotpFactor(rec.store, c, KEY, clock), clock, inner, ...rec };
}

void t.test('enrol: URI, QR code, confirm with the first code', async (t) => {
  const { totp, clock } = setup(t);
  const e = await totp.beginEnrolment('alice', 'alice@example.com');
  t.match(e.secretBase32, /^[A-Z2-7]{32}$/);
  t.match(e.uri, /^otpauth:\/\/totp\/Portcullis:alice%40example\.com\?/);
  t.match(e.uri, `secret=${e.secretBase32}`);
  t.match(e.uri, 'issuer=Portcullis');
  t.match(e.qrSvg, /^<svg[\s\S]*<\/svg>\s*$/);
  t.equal(await totp.isEnrolled('alice'), false, 'pending is not enrolled');
  t.equal(await totp.accepts('alice', codeAt(e.secretBase32, clock.now())), false, 'pending secret does not sign in');
  t.equal(await totp.confirmEnrolment('alice', '000000x'), false);
  clock.advance(30_000);
  t.equal(await totp.confirmEnrolment('alice', codeAt(e.secretBase32, clock.now())), true);
  t.equal(await totp.isEnrolled('alice'), true);
  t.equal(await totp.confirmEnrolment('alice', codeAt(e.secretBase32, clock.now())), false, 'pending consumed');
  clock.advance(30_000);
  t.equal(await totp.accepts('alice', codeAt(e.secretBase32, clock.now())), true);
});

void t.test('a wrong first code does not enrol; pending expires', async (t) => {
  const { totp, clock } = setup(t);
  const e = await totp.beginEnrolment('bob', 'bob');
  const right = codeAt(e.secretBase32, clock.now());
  t.equal(await totp.confirmEnrolment('bob', right === '123456' ? '654321' : '123456'), false);
  t.equal(await totp.isEnrolled('bob'), false);
  clock.advance(16 * 60_000);
  t.equal(await totp.confirmEnrolment('bob', codeAt(e.secretBase32, clock.now())), false, 'pending expired');
});

async function enrolled(t: { teardown(fn: () => unknown): void }, c = cfg) {
  const s = setup(t, c);
  const e = await s.totp.beginEnrolment('carol', 'carol');
  const period = c.period;
  if (!(await s.totp.confirmEnrolment('carol', codeAt(e.secretBase32, s.clock.now(), { digits: c.digits, algorithm: c.algorithm, period: period / 1000 })))) throw new Error('enrol failed');
  s.clock.advance(10 * period); // leave the confirmation's steps behind
  return { ...s, secret: e.secretBase32 };
}

void t.test('skew ±1 accepted, ±2 rejected', async (t) => {
  const { totp, clock, secret } = await enrolled(t);
  const now = clock.now();
  t.equal(await totp.accepts('carol', codeAt(secret, now - 60_000)), false, '-2 steps');
  t.equal(await totp.accepts('carol', codeAt(secret, now + 60_000)), false, '+2 steps');
  t.equal(await totp.accepts('carol', codeAt(secret, now - 30_000)), true, '-1 step');
  clock.advance(30_000);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now())), true, 'now');
  clock.advance(30_000);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now() + 30_000)), true, '+1 step');
});

void t.test('skew 0 accepts only the current step', async (t) => {
  const { totp, clock, secret } = await enrolled(t, { ...cfg, skew: 0 });
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now() - 30_000)), false);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now())), true);
});

void t.test('replay rejected, and older steps after a newer one', async (t) => {
  const { totp, clock, secret } = await enrolled(t);
  const code = codeAt(secret, clock.now());
  t.equal(await totp.accepts('carol', code), true);
  t.equal(await totp.accepts('carol', code), false, 'same code twice');
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now() - 30_000)), false, 'older step after a newer one');
  clock.advance(30_000);
  t.equal(await totp.accepts('carol', code), false, 'still refused one step later (inside the skew)');
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now())), true);
});

void t.test('parallel submissions of one code: one true', async (t) => {
  const { totp, clock, secret } = await enrolled(t);
  const code = codeAt(secret, clock.now());
  const results = await Promise.all(Array.from({ length: 10 }, () => totp.accepts('carol', code)));
  t.equal(results.filter(Boolean).length, 1);
});

void t.test('bad input is false', async (t) => {
  const { totp, clock, secret } = await enrolled(t);
  const code = codeAt(secret, clock.now());
  for (const bad of ['', 'abcdef', `${code}0`, code.slice(1), '１２３４５６']) t.equal(await totp.accepts('carol', bad), false, JSON.stringify(bad));
  t.equal(await totp.accepts('nobody', code), false, 'not enrolled');
  t.equal(await totp.accepts('carol', `${code.slice(0, 3)} ${code.slice(3)}`), true, 'space tolerated');
});

void t.test('8 digits and SHA256 from config', async (t) => {
  const c = { ...cfg, digits: 8 as const, algorithm: 'SHA256' as const, period: 60_000 };
  const { totp, clock, secret } = await enrolled(t, c);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now(), { digits: 8, algorithm: 'SHA256', period: 60 })), true);
});

void t.test('the secret is encrypted at rest; tampering fails closed', async (t) => {
  const { totp, clock, secret, written, inner, keys } = await enrolled(t);
  for (const v of written) {
    t.notOk(v.includes(secret), 'base32 secret not stored');
    t.notOk(v.includes(Buffer.from(Secret.fromBase32(secret).bytes).toString('hex')), 'nor its hex');
  }
  const key = [...keys].find((k) => k === 'totp:carol');
  t.ok(key);
  const sealed = (await inner.get('totp:carol'))!;
  t.match(sealed, /^v1\./);
  const parts = sealed.split('.');
  const ct = Buffer.from(parts[3]!, 'base64url');
  ct[0]! ^= 1;
  await inner.set('totp:carol', [parts[0], parts[1], parts[2], ct.toString('base64url')].join('.'), 0);
  t.equal(await totp.isEnrolled('carol'), false);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now())), false);
  await inner.set('totp:carol', 'garbage', 0);
  t.equal(await totp.isEnrolled('carol'), false);
  // A record moved to another user does not open either.
  await inner.set('totp:dave', sealed, 0);
  t.equal(await totp.isEnrolled('dave'), false);
  // Nor with another key.
  await inner.set('totp:carol', sealed, 0);
  const other = new TotpFactor(inner, cfg, Buffer.alloc(32, 9), clock);
  t.equal(await other.isEnrolled('carol'), false);
  t.equal(await totp.isEnrolled('carol'), true);
});

void t.test('remove', async (t) => {
  const { totp, clock, secret } = await enrolled(t);
  await totp.remove('carol');
  t.equal(await totp.isEnrolled('carol'), false);
  t.equal(await totp.accepts('carol', codeAt(secret, clock.now())), false);
});

void t.test('a key of the wrong size is refused', (t) => {
  const { store, clock } = memoryStore(t);
  t.throws(() => new TotpFactor(store, cfg, Buffer.alloc(16), clock));
  t.end();
});
