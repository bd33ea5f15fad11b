import t from 'tap';
import type { ConfigInput } from '../../src/config/schema/index.js';
import type { FactorStateRecord } from '../../src/factors/enrolment.js';
import { CodeFactor } from '../../src/factors/code.js';
import type { Enrolled, FactorKind } from '../../src/factors/factor.js';
import { resolveSecondFactor, type SecondFactorInput } from '../../src/factors/methods.js';
import type { UserRecord } from '../../src/users/directory.js';
import { secondFactor } from './helpers.js';

type SF = NonNullable<ConfigInput['second_factor']>;

function user(over: Partial<UserRecord> = {}): UserRecord {
  return { username: 'alice', groups: [], disabled: false, source: 'file', ...over };
}

const KINDS: Record<string, FactorKind> = { totp: 'secret', webauthn: 'secret', email: 'destination', sms: 'destination', recovery_code: 'backup' };
// Only `enrolled` is used here: it reads the user and the state, nothing else.
const email = new CodeFactor('email', undefined as never, undefined as never, undefined as never, () => secondFactor({}).code);
const sms = new CodeFactor('sms', undefined as never, undefined as never, undefined as never, () => secondFactor({}).code);

async function resolve(o: { user?: Partial<UserRecord>; cfg?: SF; state?: FactorStateRecord; totp?: boolean; passkeys?: number; recovery?: number }) {
  const u = user(o.user);
  const state = o.state ?? {};
  const enrolled: Enrolled[] = [
    ...(o.totp ? [{ type: 'totp' as const, kind: 'secret' as const }] : []),
    ...[await email.enrolled(u, state), await sms.enrolled(u, state)].filter((e): e is Enrolled => e !== undefined),
    ...((o.passkeys ?? 0) > 0 ? [{ type: 'webauthn' as const, kind: 'secret' as const }] : []),
    ...((o.recovery ?? 0) > 0 ? [{ type: 'recovery_code' as const, kind: 'backup' as const }] : []),
  ];
  const input: SecondFactorInput = { user: u, cfg: secondFactor(o.cfg ?? {}), state, enrolled, kindOf: (m) => KINDS[m] };
  return resolveSecondFactor(input);
}

const types = (r: Awaited<ReturnType<typeof resolve>>) => r.methods.map((m) => m.type);

void t.test('policy off: never required', async (t) => {
  t.same((await resolve({ cfg: { policy: 'off' }, user: { email: 'a@x.org' }, totp: true })), { required: false, methods: [], mustEnrol: false });
});

void t.test('per-user enabled:false: password-only service account (seed 002)', async (t) => {
  const r = (await resolve({ user: { secondFactor: { enabled: false }, email: 'svc@x.org' }, totp: true, cfg: { policy: 'required' } }));
  t.same(r, { required: false, methods: [], mustEnrol: false });
});

void t.test('default: the first usable method in cfg.methods order; recovery only as an alternative', async (t) => {
  const r = (await resolve({ user: { email: 'a@x.org', phone: '+4915112345678' }, recovery: 3 }));
  t.equal(r.required, true);
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'default');
  t.same(types(r), ['email', 'sms', 'recovery_code']);
  t.same(r.methods[0], { type: 'email', kind: 'destination', address: 'a@x.org', source: 'directory' });
  const order = (await resolve({ cfg: { methods: ['sms', 'email'] }, user: { email: 'a@x.org', phone: '+4915112345678' }, recovery: 3 }));
  t.same(types(order), ['sms', 'email'], 'order from cfg.methods; recovery_code not listed, not offered');
  const withPasskey = await resolve({ user: { email: 'a@x.org' }, totp: true, passkeys: 1 });
  t.same(types(withPasskey), ['webauthn', 'totp', 'email'], 'a passkey comes first, the rest in cfg.methods order');
  t.equal(withPasskey.chosenBy, 'passkey');
});

void t.test('a passkey is offered first whatever the remembered preference; an operator assignment still wins', async (t) => {
  const r = await resolve({ user: { email: 'a@x.org' }, totp: true, passkeys: 1, state: { preferred: 'email' } });
  t.equal(r.preferred, 'webauthn');
  t.same(types(r), ['webauthn', 'email', 'totp'], 'the preferred email right after it');
  const assigned = await resolve({ cfg: { assignments: [{ user: 'alice', method: 'email' }] }, user: { email: 'a@x.org' }, passkeys: 1 });
  t.equal(assigned.preferred, 'email', 'the operator chose email for alice');
});

void t.test('usability: verified user-entered details count, unverified do not', async (t) => {
  const unverified = (await resolve({ state: { email: { address: 'me@x.org', verified: false }, phone: { number: '+491', verified: false } } }));
  t.same(types(unverified), []);
  const verified = (await resolve({ state: { email: { address: 'me@x.org', verified: true }, phone: { number: '+491', verified: true } } }));
  t.same(verified.methods, [
    { type: 'email', kind: 'destination', address: 'me@x.org', source: 'user' },
    { type: 'sms', kind: 'destination', address: '+491', source: 'user' },
  ]);
  const directoryWins = (await resolve({ user: { email: 'dir@x.org' }, state: { email: { address: 'me@x.org', verified: true } } }));
  t.equal(directoryWins.methods[0]!.address, 'dir@x.org');
});

void t.test("the user's own preference comes before the default", async (t) => {
  const r = (await resolve({ user: { email: 'a@x.org' }, totp: true, state: { preferred: 'email' } }));
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'preference');
  t.same(types(r), ['email', 'totp']);
  const unusable = (await resolve({ user: { email: 'a@x.org' }, state: { preferred: 'sms' } }));
  t.equal(unusable.preferred, 'email', 'an unusable preference falls back to the default');
  const recovery = (await resolve({ user: { email: 'a@x.org' }, state: { preferred: 'recovery_code' }, recovery: 5 }));
  t.equal(recovery.preferred, 'email', 'recovery codes are never primary');
});

void t.test('group assignment (seed 000), first match wins', async (t) => {
  const cfg: SF = {
    assignments: [
      { group: 'operators', method: 'email' },
      { user: 'alice', method: 'sms' },
    ],
  };
  const r = (await resolve({ cfg, user: { groups: ['operators'], email: 'a@x.org', phone: '+491' }, totp: true, recovery: 2 }));
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'assignment');
  t.same(types(r), ['email', 'recovery_code'], 'an operator choice is exclusive');
  const byUser = (await resolve({ cfg, user: { email: 'a@x.org', phone: '+491' } }));
  t.equal(byUser.preferred, 'sms');
  const other = (await resolve({ cfg, user: { username: 'bob', groups: ['viewers'], email: 'b@x.org' } }));
  t.equal(other.chosenBy, 'default');
});

void t.test('per-user method overrides assignments and preferences', async (t) => {
  const r = (await resolve({
    cfg: { assignments: [{ group: 'operators', method: 'email' }] },
    user: { groups: ['operators'], email: 'a@x.org', phone: '+491', secondFactor: { method: 'sms' } },
    state: { preferred: 'email' },
  }));
  t.equal(r.preferred, 'sms');
  t.equal(r.chosenBy, 'user');
  t.same(types(r), ['sms']);
});

void t.test('an assigned method not in cfg.methods is ignored', async (t) => {
  const r = (await resolve({ cfg: { methods: ['email', 'totp'] }, user: { secondFactor: { method: 'sms' }, email: 'a@x.org', phone: '+491' } }));
  t.equal(r.preferred, 'email');
  t.equal(r.chosenBy, 'default');
});

void t.test('required with nothing usable: mustEnrol', async (t) => {
  const r = (await resolve({}));
  t.match(r, { required: true, mustEnrol: true, enrolMethod: 'totp', methods: [] });
  t.match((await resolve({ cfg: { methods: ['recovery_code', 'sms', 'totp'] } })), { mustEnrol: true, enrolMethod: 'sms' });
  t.match((await resolve({ user: { secondFactor: { method: 'totp' }, email: 'a@x.org' } })), { mustEnrol: true, enrolMethod: 'totp', methods: [] }, 'assigned totp not enrolled');
  t.match((await resolve({ cfg: { assignments: [{ group: 'ops', method: 'sms' }] }, user: { groups: ['ops'], email: 'a@x.org' } })), { mustEnrol: true, enrolMethod: 'sms' });
  const withRecovery = (await resolve({ recovery: 2 }));
  t.match(withRecovery, { mustEnrol: true, enrolMethod: 'totp' });
  t.same(types(withRecovery), ['recovery_code'], 'recovery code offered before enrolling');
  t.match((await resolve({ user: { email: 'a@x.org' } })), { mustEnrol: false, preferred: 'email' });
});

void t.test('policy optional: only when opted in, enrolled or assigned', async (t) => {
  const cfg: SF = { policy: 'optional' };
  const plain = (await resolve({ cfg, user: { email: 'a@x.org' } }));
  t.equal(plain.required, false);
  t.equal(plain.mustEnrol, false);
  t.same(types(plain), ['email'], 'methods still listed (account page)');
  t.equal((await resolve({ cfg })).mustEnrol, false, 'nothing usable, not opted in: no enrolment forced');
  t.equal((await resolve({ cfg, user: { email: 'a@x.org' }, state: { optedIn: true } })).required, true);
  t.equal((await resolve({ cfg, totp: true })).required, true);
  t.equal((await resolve({ cfg, passkeys: 1 })).required, true);
  t.equal((await resolve({ cfg, recovery: 3, user: { email: 'a@x.org' } })).required, false, 'recovery codes alone do not opt in');
  t.equal((await resolve({ cfg, user: { email: 'a@x.org', secondFactor: { method: 'email' } } })).required, true, 'per-user method');
  t.match((await resolve({ cfg, state: { optedIn: true } })), { required: true, mustEnrol: true });
});
