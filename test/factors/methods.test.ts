import t from 'tap';
import type { ConfigInput } from '../../src/config/schema/index.js';
import type { FactorStateRecord } from '../../src/factors/enrolment.js';
import { resolveSecondFactor, type SecondFactorInput } from '../../src/factors/methods.js';
import type { UserRecord } from '../../src/users/directory.js';
import { secondFactor } from './helpers.js';

type SF = NonNullable<ConfigInput['second_factor']>;

function user(over: Partial<UserRecord> = {}): UserRecord {
  return { username: 'alice', groups: [], disabled: false, source: 'file', ...over };
}

function resolve(o: { user?: Partial<UserRecord>; cfg?: SF; state?: FactorStateRecord; totp?: boolean; passkeys?: number; recovery?: number }) {
  const input: SecondFactorInput = {
    user: user(o.user),
    cfg: secondFactor(o.cfg ?? {}),
    state: o.state ?? {},
    totpEnrolled: o.totp ?? false,
    webauthnCount: o.passkeys ?? 0,
    recoveryCodesLeft: o.recovery ?? 0,
  };
  return resolveSecondFactor(input);
}

const types = (r: ReturnType<typeof resolve>) => r.methods.map((m) => m.type);

t.test('policy off: never required', async (t) => {
  t.same(resolve({ cfg: { policy: 'off' }, user: { email: 'a@x.org' }, totp: true }), { required: false, methods: [], mustEnrol: false });
});

t.test('per-user enabled:false: password-only service account (seed 002)', async (t) => {
  const r = resolve({ user: { secondFactor: { enabled: false }, email: 'svc@x.org' }, totp: true, cfg: { policy: 'required' } });
  t.same(r, { required: false, methods: [], mustEnrol: false });
});

t.test('default: the first usable method in cfg.methods order; recovery only as an alternative', async (t) => {
  const r = resolve({ user: { email: 'a@x.org', phone: '+4915112345678' }, recovery: 3 });
  t.equal(r.required, true);
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'default');
  t.same(types(r), ['email', 'sms', 'recovery_code']);
  t.same(r.methods[0], { type: 'email', destination: 'a@x.org', address: 'a@x.org', source: 'directory' });
  const order = resolve({ cfg: { methods: ['sms', 'email'] }, user: { email: 'a@x.org', phone: '+4915112345678' }, recovery: 3 });
  t.same(types(order), ['sms', 'email'], 'order from cfg.methods; recovery_code not listed, not offered');
  t.same(types(resolve({ user: { email: 'a@x.org' }, totp: true, passkeys: 1 })), ['totp', 'email', 'webauthn']);
});

t.test('usability: verified user-entered details count, unverified do not', async (t) => {
  const unverified = resolve({ state: { email: { address: 'me@x.org', verified: false }, phone: { number: '+491', verified: false } } });
  t.same(types(unverified), []);
  const verified = resolve({ state: { email: { address: 'me@x.org', verified: true }, phone: { number: '+491', verified: true } } });
  t.same(verified.methods, [
    { type: 'email', destination: 'me@x.org', address: 'me@x.org', source: 'user' },
    { type: 'sms', destination: '+491', address: '+491', source: 'user' },
  ]);
  const directoryWins = resolve({ user: { email: 'dir@x.org' }, state: { email: { address: 'me@x.org', verified: true } } });
  t.equal(directoryWins.methods[0]!.destination, 'dir@x.org');
});

t.test("the user's own preference comes before the default", async (t) => {
  const r = resolve({ user: { email: 'a@x.org' }, totp: true, state: { preferred: 'email' } });
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'preference');
  t.same(types(r), ['email', 'totp']);
  const unusable = resolve({ user: { email: 'a@x.org' }, state: { preferred: 'sms' } });
  t.equal(unusable.preferred, 'email', 'an unusable preference falls back to the default');
  const recovery = resolve({ user: { email: 'a@x.org' }, state: { preferred: 'recovery_code' }, recovery: 5 });
  t.equal(recovery.preferred, 'email', 'recovery codes are never primary');
});

t.test('group assignment (seed 000), first match wins', async (t) => {
  const cfg: SF = {
    assignments: [
      { group: 'operators', method: 'email' },
      { user: 'alice', method: 'sms' },
    ],
  };
  const r = resolve({ cfg, user: { groups: ['operators'], email: 'a@x.org', phone: '+491' }, totp: true, recovery: 2 });
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'assignment');
  t.same(types(r), ['email', 'recovery_code'], 'an operator choice is exclusive');
  const byUser = resolve({ cfg, user: { email: 'a@x.org', phone: '+491' } });
  t.equal(byUser.preferred, 'sms');
  const other = resolve({ cfg, user: { username: 'bob', groups: ['viewers'], email: 'b@x.org' } });
  t.equal(other.chosenBy, 'default');
});

t.test('per-user method overrides assignments and preferences', async (t) => {
  const r = resolve({
    cfg: { assignments: [{ group: 'operators', method: 'email' }] },
    user: { groups: ['operators'], email: 'a@x.org', phone: '+491', secondFactor: { method: 'sms' } },
    state: { preferred: 'email' },
  });
  t.equal(r.preferred, 'sms');
  t.equal(r.chosenBy, 'user');
  t.same(types(r), ['sms']);
});

t.test('an assigned method not in cfg.methods is ignored', async (t) => {
  const r = resolve({ cfg: { methods: ['email', 'totp'] }, user: { secondFactor: { method: 'sms' }, email: 'a@x.org', phone: '+491' } });
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'default');
});

t.test('required with nothing usable: mustEnrol', async (t) => {
  const r = resolve({});
  t.match(r, { required: true, mustEnrol: true, enrolMethod: 'totp', methods: [] });
  t.match(resolve({ cfg: { methods: ['recovery_code', 'sms', 'totp'] } }), { mustEnrol: true, enrolMethod: 'sms' });
  t.match(resolve({ user: { secondFactor: { method: 'totp' }, email: 'a@x.org' } }), { mustEnrol: true, enrolMethod: 'totp', methods: [] }, 'assigned totp not enrolled');
  t.match(resolve({ cfg: { assignments: [{ group: 'ops', method: 'sms' }] }, user: { groups: ['ops'], email: 'a@x.org' } }), { mustEnrol: true, enrolMethod: 'sms' });
  const withRecovery = resolve({ recovery: 2 });
  t.match(withRecovery, { mustEnrol: true, enrolMethod: 'totp' });
  t.same(types(withRecovery), ['recovery_code'], 'recovery code offered before enrolling');
  t.match(resolve({ user: { email: 'a@x.org' } }), { mustEnrol: false, preferred: 'email' });
});

t.test('policy optional: only when opted in, enrolled or assigned', async (t) => {
  const cfg: SF = { policy: 'optional' };
  const plain = resolve({ cfg, user: { email: 'a@x.org' } });
  t.equal(plain.required, false);
  t.equal(plain.mustEnrol, false);
  t.same(types(plain), ['email'], 'methods still listed (account page)');
  t.equal(resolve({ cfg }).mustEnrol, false, 'nothing usable, not opted in: no enrolment forced');
  t.equal(resolve({ cfg, user: { email: 'a@x.org' }, state: { optedIn: true } }).required, true);
  t.equal(resolve({ cfg, totp: true }).required, true);
  t.equal(resolve({ cfg, passkeys: 1 }).required, true);
  t.equal(resolve({ cfg, recovery: 3, user: { email: 'a@x.org' } }).required, false, 'recovery codes alone do not opt in');
  t.equal(resolve({ cfg, user: { email: 'a@x.org', secondFactor: { method: 'email' } } }).required, true, 'per-user method');
  t.match(resolve({ cfg, state: { optedIn: true } }), { required: true, mustEnrol: true });
});
