import t from 'tap';
import type { UserRecord } from '../../src/users/directory.js';
import { factorsFor } from './helpers.js';

const user = (over: Partial<UserRecord> = {}): UserRecord => ({ username: 'alice', groups: [], disabled: false, source: 'file', ...over });

void t.test('offers the configured methods in order; others are unknown to it', (t) => {
  const { registry } = factorsFor(t, { second_factor: { methods: ['sms', 'totp'] } });
  t.same(registry.offered().map((f) => f.method), ['sms', 'totp']);
  t.equal(registry.get('email'), undefined, 'not configured');
  t.equal(registry.get('carrier-pigeon'), undefined);
  t.equal(registry.get(undefined), undefined);
  t.equal(registry.amr('totp'), 'otp');
  t.equal(registry.amr('trusted_device'), undefined, 'not a second factor');
  t.end();
});

void t.test('snapshot: state, usable methods and the resolution', async (t) => {
  const { registry, recovery } = factorsFor(t);
  await recovery.generate('alice');
  const snap = await registry.snapshot(user({ email: 'a@example.org' }));
  t.same(snap.enrolled.map((e) => e.type), ['email', 'recovery_code']);
  t.equal(snap.resolution.preferred, 'email');
  t.same(snap.resolution.methods.map((m) => m.type), ['email', 'recovery_code']);
});

void t.test('enrollable: primary methods only, the operator choice alone when there is one', (t) => {
  const { registry } = factorsFor(t, { second_factor: { assignments: [{ group: 'ops', method: 'sms' }] } });
  t.same(registry.enrollable(user()), ['totp', 'email', 'sms', 'webauthn'], 'every primary method, passkeys included; recovery codes are a backup');
  t.same(registry.enrollable(user({ groups: ['ops'] })), ['sms']);
  t.equal(registry.operatorMethod(user({ groups: ['ops'] })), 'sms');
  t.equal(registry.operatorMethod(user({ secondFactor: { method: 'recovery_code' } })), undefined, 'a backup is never an operator choice');
  t.end();
});

void t.test('reset removes TOTP, recovery codes, user-entered details and preference; keeps the opt-in', async (t) => {
  const { registry, recovery, store } = factorsFor(t);
  await store.set('totp:alice', 'sealed', 0);
  await recovery.generate('alice');
  await registry.state.setPhone('alice', '+4915112345678', true);
  await registry.state.setEmail('alice', 'a@example.org', true);
  await registry.state.setPreferred('alice', 'totp');
  await registry.state.setOptedIn('alice', true);
  await registry.reset('alice');
  t.equal(await store.get('totp:alice'), null);
  t.equal(await recovery.remaining('alice'), 0);
  t.same(await registry.state.get('alice'), { optedIn: true });
});
