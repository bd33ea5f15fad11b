/**
 * One suite, every SecondFactor implementation (STYLE §10): the same behaviour is asked of each method
 * through the interface alone. A per-method adapter knows only how to enrol a user and how the user's
 * device (an app, a mailbox, a sheet of codes) would answer.
 */
import t from 'tap';
import { Secret, TOTP } from 'otpauth';
import type { SecondFactor } from '../../src/factors/factor.js';
import type { UserRecord } from '../../src/users/directory.js';
import { factorsFor } from '../factors/helpers.js';
import { SoftAuthenticator } from '../factors/soft-authenticator.js';

type Built = ReturnType<typeof factorsFor>;

interface Adapter {
  method: string;
  factor(b: Built): SecondFactor;
  /** Makes `user` able to use the method. */
  enrol(b: Built, user: UserRecord): Promise<void>;
  /** After `challenge` for `flowId`: the right answer, as the user's device would give it. */
  answer(b: Built, user: UserRecord, flowId: string): string | Promise<string>;
  /** A well-formed wrong answer. */
  wrong: string;
}

const alice = (): UserRecord => ({ username: 'alice', groups: [], disabled: false, source: 'file', displayName: 'Alice' });
const secrets = new Map<string, string>();
const sheets = new Map<string, string[]>();
const passkeys = new Map<string, SoftAuthenticator>();
const ORIGIN = 'https://gw.example.org';

const codeFrom = (b: Built, to: string) => /\b([0-9]{6})\b/.exec(b.outbox.latest(to)?.text ?? '')?.[1] ?? '';

const adapters: Adapter[] = [
  {
    method: 'totp',
    factor: (b) => b.totp,
    async enrol(b, user) {
      const e = await b.totp.beginEnrolment(user.username, user.username);
      secrets.set(user.username, e.secretBase32);
      const ok = await b.totp.confirmEnrolment(user.username, TOTP.generate({ secret: Secret.fromBase32(e.secretBase32), timestamp: b.clock.now() }));
      if (!ok) throw new Error('enrolment failed');
      b.clock.advance(30_000); // the enrolment's own step is used
    },
    answer(b, user) {
      return TOTP.generate({ secret: Secret.fromBase32(secrets.get(user.username)!), timestamp: b.clock.now() });
    },
    wrong: '000000',
  },
  {
    method: 'email',
    factor: (b) => b.registry.get('email')!,
    async enrol(b, user) {
      await b.registry.state.setEmail(user.username, `${user.username}@example.org`, true);
    },
    answer: (b, user) => codeFrom(b, `${user.username}@example.org`),
    wrong: '000000',
  },
  {
    method: 'sms',
    factor: (b) => b.registry.get('sms')!,
    async enrol(b, user) {
      await b.registry.state.setPhone(user.username, '+4915112345678', true);
    },
    answer: (b) => codeFrom(b, '+4915112345678'),
    wrong: '000000',
  },
  {
    method: 'webauthn',
    factor: (b) => b.webauthn,
    async enrol(b, user) {
      const auth = new SoftAuthenticator();
      const o = (await b.webauthn.creationOptions(user))!;
      if (!(await b.webauthn.finishRegistration(user.username, 'Laptop', auth.register({ challenge: o.challenge, origin: ORIGIN, rpId: o.rp.id! })))) throw new Error('enrolment failed');
      passkeys.set(user.username, auth);
    },
    async answer(b, user, flowId) {
      // The challenge the factor made for the flow, as the browser would have it from the options.
      const pending = JSON.parse((await b.store.get(`webauthn:ch:${flowId}`))!) as { challenge: string; rpId: string };
      return JSON.stringify(passkeys.get(user.username)!.assert({ challenge: pending.challenge, origin: ORIGIN, rpId: pending.rpId }));
    },
    wrong: JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' }, clientExtensionResults: {} }),
  },
  {
    method: 'recovery_code',
    factor: (b) => b.recovery,
    async enrol(b, user) {
      sheets.set(user.username, await b.recovery.generate(user.username));
    },
    answer: (_b, user) => sheets.get(user.username)!.shift()!,
    wrong: 'AAAA-BBBB-CC',
  },
];

for (const a of adapters) {
  void t.test(`SecondFactor conformance: ${a.method}`, (t) => {
    const setup = (t: { teardown(fn: () => unknown): void }) => {
      const b = factorsFor(t, { server: { public_url: ORIGIN }, second_factor: { code: { resend_after: 0 } } });
      return { b, f: a.factor(b) };
    };
    const start = async (b: Built, f: SecondFactor, user: UserRecord, flowId: string) => {
      const state = await b.registry.state.get(user.username);
      const e = await f.enrolled(user, state);
      return f.challenge({ flowId, user, ...(e?.address ? { address: e.address } : {}), lang: 'en' });
    };

    void t.test('declares its method, kind and amr, and is in the registry', (t) => {
      const { b, f } = setup(t);
      t.equal(f.method, a.method);
      t.match(f.kind, /^(secret|destination|backup)$/);
      t.ok(f.amr.length > 0);
      t.equal(b.registry.get(a.method), f);
      t.equal(b.registry.amr(a.method), f.amr);
      t.end();
    });

    void t.test('not enrolled: not usable, and nothing verifies', async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      t.equal(await f.enrolled(user, await b.registry.state.get('alice')), undefined);
      t.equal((await f.verify('flow-aaaaaaaaaaaaaaaa', 'alice', a.wrong)).result === 'ok', false);
    });

    void t.test('enrolled: the right answer works once; a replay and a wrong answer do not', async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      await a.enrol(b, user);
      const e = await f.enrolled(user, await b.registry.state.get('alice'));
      t.match(e, { type: a.method, kind: f.kind });
      const flowId = 'flow-bbbbbbbbbbbbbbbb';
      await start(b, f, user, flowId);
      t.not((await f.verify(flowId, 'alice', a.wrong)).result, 'ok', 'a wrong answer');
      const right = await a.answer(b, user, flowId);
      t.same(pick(await f.verify(flowId, 'alice', right)), { result: 'ok' }, 'the right answer');
      t.not((await f.verify(flowId, 'alice', right)).result, 'ok', 'the same answer again (replay)');
    });

    void t.test("one user's answer never completes another user's step", async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      await a.enrol(b, user);
      const flowId = 'flow-cccccccccccccccc';
      await start(b, f, user, flowId);
      const right = await a.answer(b, user, flowId);
      t.not((await f.verify(flowId, 'mallory', right)).result, 'ok');
    });

    void t.test('empty, huge and hostile answers are refused without throwing', async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      await a.enrol(b, user);
      const flowId = 'flow-dddddddddddddddd';
      await start(b, f, user, flowId);
      for (const bad of ['', ' ', 'x'.repeat(100_000), '\u0000\r\n', '１２３４５６', '-1e9']) t.not((await f.verify(flowId, 'alice', bad)).result, 'ok', JSON.stringify(bad.slice(0, 12)));
    });

    void t.test('remove: the method is no longer usable and its answers stop working', async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      await a.enrol(b, user);
      await f.remove('alice');
      t.equal(await f.enrolled(user, await b.registry.state.get('alice')), undefined);
    });

    void t.test('registry reset removes it with everything else', async (t) => {
      const { b, f } = setup(t);
      const user = alice();
      await a.enrol(b, user);
      await b.registry.reset('alice');
      t.equal(await f.enrolled(user, await b.registry.state.get('alice')), undefined);
    });
    t.end();
  });
}

function pick(v: { result: string }): { result: string } {
  return { result: v.result };
}
