/**
 * Adversarial table: replay of second factors across two gateway instances on one Redis (issue 12) —
 * a mailed one-time code, a TOTP code and a recovery code, each used once on one instance and replayed
 * on the other (and on the first); and parallel guesses split across the two instances, where exactly
 * the allowed number is evaluated (`second_factor.code.max_attempts` for a code, the account lockout for
 * TOTP) and the right answer is dead afterwards. Two in-process servers share a real redis-server and
 * one clock; the JSON API is the entrance (the portal reaches the same SecondStep.verify).
 */
import t, { type Test } from 'tap';
import { Browser, type Response } from '../fixtures/browser.js';
import { startStack, type Stack, type StackOptions } from '../fixtures/gateway.js';
import { startRedis } from '../fixtures/redis.js';
import { ManualClock } from '../../src/util/clock.js';
import { totpCode } from '../integration/enroll-helpers.js';

type Login = { status: string; flow: string; method: string; methods: Array<{ type: string }> };

function api(stack: Stack, path: string, body: unknown): Promise<Response> {
  return new Browser(stack.url).json(`/_gateway/api/v1/${path}`, body);
}

async function login(stack: Stack, user = 'alice', password = 'alice-password-1'): Promise<Login> {
  const res = await api(stack, 'login', { username: user, password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return res.json<Login>();
}

/** The newest code `stack` sent to alice (each instance keeps its own console outbox). */
function mailed(stack: Stack): string {
  const list = stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === 'alice@example.com' || m.to === '+4915112345678');
  const m = /\b(\d{6})\b/.exec(list.at(-1)?.text ?? '');
  if (!m) throw new Error('no code in the outbox');
  return m[1]!;
}

async function pair(t: Test, prefix: string, extra: NonNullable<StackOptions['config']> = {}): Promise<[Stack, Stack, ManualClock]> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const clock = new ManualClock(Date.now());
  const config = { ...extra, session: { store: 'redis' as const, redis: { url: redis.url, key_prefix: `${prefix}:` } } };
  const a = await startStack({ config, clock });
  const b = await startStack({ config, clock });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  return [a, b, clock];
}

void t.test('one-time codes, TOTP and recovery codes are used once across two instances', async (t) => {
  const [a, b, clock] = await pair(t, 'replay', { second_factor: { lockout: { max_failures: 50 } }, regulation: { max_failures: 100, max_failures_per_client: 1000 } });

  await t.test('a mailed code: used on B, replayed on A and on B', async (t) => {
    const flow = await login(a);
    const code = mailed(a);
    t.equal((await api(b, 'verify', { flow: flow.flow, code })).status, 200, 'first use, on the other instance');
    for (const [name, stack] of [['A', a], ['B', b]] as const) {
      const again = await api(stack, 'verify', { flow: flow.flow, code });
      t.not(again.status, 200, `replayed on ${name}: ${again.status}`);
      t.notOk(again.json<{ token?: string }>().token, `replayed on ${name}: no token`);
    }
    const other = await login(b);
    const onNewFlow = await api(a, 'verify', { flow: other.flow, code });
    t.not(onNewFlow.status, 200, 'the used code on a new flow of the same user is refused');
  });

  await t.test('TOTP: a code used on A is refused on B within its window', async (t) => {
    const { secretBase32 } = await a.gateway.gateway.core.totp.beginEnrolment('alice', 'alice');
    clock.advance(30_000);
    t.ok(await a.gateway.gateway.core.totp.confirmEnrolment('alice', totpCode(secretBase32, clock.now())), 'enrolled');
    clock.advance(60_000); // a fresh time step: the enrolment's code is out of the way
    const code = totpCode(secretBase32, clock.now());
    const first = await login(a);
    t.ok(first.methods.some((m) => m.type === 'totp'), 'TOTP is offered');
    t.equal((await api(a, 'verify', { flow: first.flow, method: 'totp', code })).status, 200, 'first use on A');
    for (const [name, stack] of [['B', b], ['A', a]] as const) {
      const flow = await login(stack);
      const again = await api(stack, 'verify', { flow: flow.flow, method: 'totp', code });
      t.equal(again.status, 401, `replayed on ${name}: 401`);
    }
    clock.advance(30_000);
    const later = await login(b);
    t.equal((await api(b, 'verify', { flow: later.flow, method: 'totp', code: totpCode(secretBase32, clock.now()) })).status, 200, 'control: the next step’s code works on B');
  });

  await t.test('a recovery code: used on B, refused on A and on B', async (t) => {
    const codes = await a.gateway.gateway.core.recoveryCodes.generate('alice');
    const first = await login(b);
    t.equal((await api(b, 'verify', { flow: first.flow, method: 'recovery_code', code: codes[0] })).status, 200, 'first use on B');
    for (const [name, stack] of [['A', a], ['B', b]] as const) {
      const flow = await login(stack);
      t.equal((await api(stack, 'verify', { flow: flow.flow, method: 'recovery_code', code: codes[0] })).status, 401, `replayed on ${name}: 401`);
    }
    t.equal(await b.gateway.gateway.core.recoveryCodes.remaining('alice'), codes.length - 1, 'one code gone, on the shared store');
    const flow = await login(a);
    t.equal((await api(a, 'verify', { flow: flow.flow, method: 'recovery_code', code: codes[1] })).status, 200, 'control: another code works on A');
  });
});

void t.test('parallel guesses across two instances: exactly the allowed number is evaluated', async (t) => {
  const GUESSES = 120;

  await t.test(`a mailed code: ${GUESSES} wrong guesses at once, half on each instance → exactly max_attempts (3) evaluated`, async (t) => {
    const [a, b] = await pair(t, 'guess', { second_factor: { code: { max_attempts: 3 }, lockout: { max_failures: 50 } } });
    const flow = await login(a);
    const code = mailed(a);
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: GUESSES }, (_, i) => api(i % 2 ? b : a, 'verify', { flow: flow.flow, code: wrong(i) })));
    const evaluated = answers.filter((r) => r.status === 401 && r.json<{ error?: string }>().error === 'invalid_code').length;
    t.equal(evaluated, 3, `401 invalid_code answers: ${evaluated}`);
    t.notOk(answers.some((r) => r.status === 200), 'no guess got in');
    const audited = [a, b].flatMap((s) => s.logs.audits('second_factor')).filter((l) => l.reason === 'invalid_code').length;
    t.equal(audited, 3, 'audited wrong codes on both instances together');
    t.not((await api(b, 'verify', { flow: flow.flow, code })).status, 200, 'the right code is dead afterwards');
    t.ok(answers.every((r) => [401, 410, 429].includes(r.status)), 'the others: 410 (the code ran out), or 429 had a check waited too long');
  });

  await t.test(`TOTP: ${GUESSES} wrong guesses at once across two instances → exactly lockout.max_failures (4) evaluated`, async (t) => {
    const [a, b, clock] = await pair(t, 'totp-guess', { second_factor: { lockout: { max_failures: 4 } } });
    const { secretBase32 } = await a.gateway.gateway.core.totp.beginEnrolment('alice', 'alice');
    t.ok(await a.gateway.gateway.core.totp.confirmEnrolment('alice', totpCode(secretBase32, clock.now())));
    clock.advance(60_000);
    const flows = await Promise.all([login(a), login(b)]);
    const right = totpCode(secretBase32, clock.now());
    const wrong = (i: number) => String((Number(right) + 7 + i) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: GUESSES }, (_, i) => api(i % 2 ? b : a, 'verify', { flow: flows[i % 2]!.flow, method: 'totp', code: wrong(i) })));
    const evaluated = answers.filter((r) => r.status === 401).length;
    t.equal(evaluated, 3, `401 answers (evaluated and not yet locking): ${evaluated}`);
    t.equal(answers.filter((r) => r.status === 401 || r.status === 423 || r.status === 429).length, GUESSES, 'every other guess: 423 locked (the fourth wrong one locks), or 429 had a check waited too long');
    t.notOk(answers.some((r) => r.status === 200), 'no guess got in');
    const audited = [a, b].flatMap((s) => s.logs.audits('second_factor')).filter((l) => l.reason === 'invalid_code').length;
    t.equal(audited, 4, `exactly four wrong codes were evaluated on both instances together (${audited})`);
    t.equal([a, b].flatMap((s) => s.logs.audits('account_locked')).length, 1, 'one lockout, announced once');
    const after = await api(a, 'verify', { flow: flows[0].flow, method: 'totp', code: right });
    t.not(after.status, 200, 'the right code does not get in while locked');
  });
});
