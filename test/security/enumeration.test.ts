/**
 * Adversarial table: user enumeration (issue 12) on every sign-in and recovery route — the portal form,
 * the JSON API login, an HTTP Basic API client at the proxy and at forward-auth, and the recovery-link
 * request (Basic also at the WebSocket upgrade). Rows: an unknown user, a known user with a wrong password, a locked user (right and wrong
 * password), a disabled user (right and wrong password), a listed client user missing from the directory.
 * Every row must get the same status, the same headers (but date and request id) and the same body (but
 * the request id, the CSRF token and the echoed username).
 *
 * Timing, without a wall-clock assertion (the project rule): the same work is done for every row. The
 * gateway's real password verifier counts its verifications (`stats`, users/password.ts): each row costs
 * exactly one argon2id verification — against the user's hash, or against the dummy hash of the same
 * cost for an unknown or disabled user. The wall-clock medians are printed as a diagnostic only.
 */
import t, { type Test } from 'tap';
import { Browser } from '../fixtures/browser.js';
import { DEFAULT_USERS, startStack, type Stack } from '../fixtures/gateway.js';
import type { DirectoryChain } from '../../src/users/chain.js';
import { comparableBody, comparableHeaders, through, type RawAnswer } from './tables.js';

interface Row {
  name: string;
  user: string;
  password: string;
  /** The verification runs against the dummy hash (no usable hash for this user). */
  dummy: boolean;
}

const ROWS: Row[] = [
  { name: 'unknown user', user: 'nobody', password: 'some-password-1', dummy: true },
  { name: 'known user, wrong password', user: 'alice', password: 'wrong-password-1', dummy: false },
  { name: 'locked user, right password', user: 'bob', password: 'bob-password-1', dummy: false },
  { name: 'locked user, wrong password', user: 'bob', password: 'wrong-password-1', dummy: false },
  { name: 'disabled user, right password', user: 'carol', password: 'carol-password-1', dummy: true },
  { name: 'disabled user, wrong password', user: 'carol', password: 'wrong-password-1', dummy: true },
  { name: 'unknown user with a known user’s password', user: 'alice2', password: 'alice-password-1', dummy: true },
];

interface Seen {
  status: number;
  headers: string[];
  body: string;
}

function verifier(stack: Stack) {
  return (stack.gateway.gateway.core.directory as DirectoryChain).verifier;
}

/** Runs `attempt` for every row: same answer for all, one verification each (dummy where expected). */
async function sameForAll(t: Test, stack: Stack, route: string, attempt: (row: Row) => Promise<Seen>, rows: readonly Row[] = ROWS): Promise<void> {
  const stats = verifier(stack).stats;
  let first: Seen | undefined;
  const timings = new Map<string, number[]>();
  for (const row of rows) {
    const before = { ...stats };
    const started = process.hrtime.bigint();
    const seen = await attempt(row);
    timings.set(row.name, [Number(process.hrtime.bigint() - started) / 1e6]);
    t.equal(stats.verifications - before.verifications, 1, `${route}: ${row.name}: exactly one password verification`);
    t.equal(stats.dummy - before.dummy, row.dummy ? 1 : 0, `${route}: ${row.name}: ${row.dummy ? 'against the dummy hash' : "against the user's hash"}`);
    if (!first) {
      first = seen;
      t.ok(seen.status === 401 || seen.status === 200, `${route}: ${row.name}: ${seen.status}`);
      continue;
    }
    t.equal(seen.status, first.status, `${route}: ${row.name}: same status`);
    t.same(seen.headers, first.headers, `${route}: ${row.name}: same headers`);
    t.equal(seen.body, first.body, `${route}: ${row.name}: same body`);
  }
  t.comment(`${route} wall clock (diagnostic, not asserted): ${[...timings].map(([k, v]) => `${k} ${v[0]!.toFixed(0)} ms`).join('; ')}`);
}

function fromRaw(a: RawAnswer): Seen {
  return { status: a.status, headers: comparableHeaders(a.headers), body: comparableBody(a.body) };
}

void t.test('enumeration: one answer and the same work for unknown, wrong, locked and disabled', async (t) => {
  const stack = await startStack({
    users: { ...DEFAULT_USERS },
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor' },
      // Enough budget that no row is throttled: the rows are about the answer, not the throttle.
      regulation: { max_failures: 1000, max_failures_per_client: 10_000, window: '10m', block: '5m' },
      api_clients: [{ name: 'nvr', basic: { users: ['alice', 'bob', 'carol', 'nobody', 'alice2'], cache_ttl: '1m' } }],
    },
  });
  t.teardown(() => stack.close());
  await verifier(stack).prepare();
  await stack.gateway.gateway.core.regulator.lock('bob', 'test');

  await t.test('portal sign-in form', (t) =>
    sameForAll(t, stack, 'POST /login', async (row) => {
      const b = new Browser(stack.url);
      await b.get('/_gateway/login?rd=%2Fcams');
      const res = await b.post('/_gateway/login', { username: row.user, password: row.password, csrf: b.csrf(), rd: '/cams' });
      const body = comparableBody(res.text).split(`value="${row.user}"`).join('value="USER"');
      return { status: res.status, headers: comparableHeaders(res.headers), body };
    }),
  );

  await t.test('JSON API login', (t) =>
    sameForAll(t, stack, 'POST /api/v1/login', async (row) => {
      const res = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: row.user, password: row.password });
      return { status: res.status, headers: comparableHeaders(res.headers), body: comparableBody(res.text) };
    }),
  );

  const basic = (row: Row): Array<[string, string]> => [['Authorization', `Basic ${Buffer.from(`${row.user}:${row.password}`).toString('base64')}`]];
  for (const entrance of ['proxy', 'websocket', 'authz path', 'authz full URL', 'traefik/caddy'] as const) {
    await t.test(`HTTP Basic API client at ${entrance}`, (t) => sameForAll(t, stack, `Basic at ${entrance}`, async (row) => fromRaw(await through(stack, entrance, '/cams', basic(row)))));
  }

  await t.test('Basic: a user no client lists gets the answer of a listed user with a wrong password (no verification: the credentials are the upstream’s)', async (t) => {
    const listed = fromRaw(await through(stack, 'proxy', '/cams', basic(ROWS[1]!)));
    const before = verifier(stack).stats.verifications;
    const unlisted = fromRaw(await through(stack, 'proxy', '/cams', [['Authorization', `Basic ${Buffer.from('svc:wrong-password-1').toString('base64')}`]]));
    t.same(unlisted, listed);
    t.equal(verifier(stack).stats.verifications, before, 'an unlisted user costs no verification (documented: the upstream checks it)');
  });

  // A longer look at the clock, for people (never asserted: the project has no timing assertions):
  // TIMING_SAMPLES=200 prints the median and p90 of each row's answer time on the JSON API login.
  const samples = Number(process.env.TIMING_SAMPLES ?? 0);
  if (Number.isSafeInteger(samples) && samples > 0) {
    await t.test(`timing diagnostic: ${samples} samples per row (printed, not asserted)`, async (t) => {
      const times = new Map<string, number[]>(ROWS.map((r) => [r.name, []]));
      for (let i = 0; i < samples; i++) {
        for (const row of ROWS) {
          const started = process.hrtime.bigint();
          await new Browser(stack.url).json('/_gateway/api/v1/login', { username: row.user, password: row.password });
          times.get(row.name)!.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }
      const at = (list: number[], q: number) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(q * list.length))]!;
      for (const [name, list] of times) t.comment(`${name}: median ${at(list, 0.5).toFixed(1)} ms, p90 ${at(list, 0.9).toFixed(1)} ms`);
      t.pass('printed');
    });
  }

  await t.test('recovery-link request: the same page for every row, and again when asked twice', async (t) => {
    const ask = async (user: string): Promise<Seen> => {
      const b = new Browser(stack.url);
      await b.get('/_gateway/recover');
      const res = await b.post('/_gateway/recover', { username: user, csrf: b.csrf() });
      return { status: res.status, headers: comparableHeaders(res.headers), body: comparableBody(res.text).split(`value="${user}"`).join('value="USER"') };
    };
    const users = ['nobody', 'alice', 'bob', 'carol', 'svc'];
    const first = await ask(users[0]!);
    t.equal(first.status, 200);
    for (const user of users.slice(1)) t.same(await ask(user), first, `first request for ${user}`);
    const again = await ask(users[0]!);
    t.equal(again.status, 429, 'a second request within resend_after is throttled');
    for (const user of users.slice(1)) t.same(await ask(user), again, `second request for ${user}: the same throttle`);
  });
});

void t.test('the password throttle answers the same sequence for a known and an unknown name', async (t) => {
  const stack = await startStack({ config: { regulation: { max_failures: 3, max_failures_per_client: 1000, window: '10m', block: '5m' } } });
  t.teardown(() => stack.close());
  const sequence = async (user: string): Promise<Seen[]> => {
    const out: Seen[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: user, password: `wrong-password-${i}` });
      out.push({ status: res.status, headers: comparableHeaders(res.headers), body: comparableBody(res.text) });
    }
    return out;
  };
  const known = await sequence('alice');
  t.same(known.map((s) => s.status), [401, 401, 401, 429, 429, 429], 'known: three wrong answers, then throttled');
  t.same(await sequence('nobody'), known, 'unknown: the same statuses, headers and bodies');
  t.same(await sequence('carol'), known, 'disabled: the same');
});
