import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { Browser } from '../fixtures/browser.js';
import { SECRET, type TestUser } from '../fixtures/gateway.js';
import { startRedis } from '../fixtures/redis.js';
import { inProcess } from '../cli/operator-helpers.js';
import { mailedCode, postCode, startMailStack, toVerifyPage, wrong, type MailStack } from '../fixtures/second-factor.js';
import { wsText } from '../fixtures/ws-text.js';
import { openStream, openWebSocket, startStreamingUpstream, within } from '../fixtures/streams.js';
import { hashPassword } from '../../src/users/password.js';
import { ManualClock } from '../../src/util/clock.js';

/** "Closed within 2 s": the bound we wait for the close event (a bound, not a timing assertion). */
const BOUND = 3000;
const IDLE = 10 * 60_000;

const exempt = (n: string): TestUser => ({ password: `${n}-password-1`, groups: [], second_factor: { enabled: false } });
const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', email: 'alice@example.com', groups: [] },
  dora: { password: 'dora-password-1', email: 'dora@example.com', groups: [] },
  ...Object.fromEntries(['cli', 'everywhere', 'lifetime', 'idle', 'disabled', 'rotate', 'single'].map((n) => [n, exempt(n)])),
};

const redis = await startRedis();
t.teardown(() => redis.stop());
const upstream = await startStreamingUpstream();
t.teardown(() => upstream.close());
const clock = new ManualClock(Date.now());
const config = {
  session: { store: 'redis' as const, redis: { url: redis.url, key_prefix: 'rev:' }, idle_timeout: '10m', lifetime: '30m' },
  upstreams: [{ name: 'vms', url: upstream.url, websocket: true }],
  // Three wrong codes lock (one code's own attempts: also three).
  second_factor: { lockout: { max_failures: 3 } },
};
const a: MailStack = await startMailStack({ users: USERS, clock, config });
t.teardown(() => a.close());
const b: MailStack = await startMailStack({ users: USERS, clock, config });
t.teardown(() => b.close());

async function signIn(url: string, user: string): Promise<Browser> {
  const br = new Browser(url);
  await br.get('/_gateway/login');
  const res = await br.post('/_gateway/login', { username: user, password: `${user}-password-1`, csrf: br.csrf(), rd: '/' });
  if (res.status !== 303) throw new Error(`sign-in of ${user} answered ${res.status}`);
  return br;
}

/** A WebSocket and an MJPEG stream opened through A with the browser's cookies. */
async function openBoth(br: Browser) {
  const headers = { cookie: br.cookieHeader() };
  const ws = await openWebSocket(a.url, headers);
  const mjpeg = await openStream(a.url, '/mjpeg', headers);
  return { ws, mjpeg };
}

async function closedMetric(stack: MailStack, kind: string, reason: string): Promise<number> {
  const text = await (await request(`${stack.gateway.adminUrl!}/metrics`)).body.text();
  const m = new RegExp(`portcullis_connections_closed_by_revocation_total\\{kind="${kind}",reason="${reason}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

async function assertClosed(t: Test, s: Awaited<ReturnType<typeof openBoth>>, what: string): Promise<void> {
  const code = await within(s.ws.closed, BOUND, `${what}: the WebSocket`);
  t.equal(code, 1008, `${what}: the WebSocket is closed with 1008 (a close frame between the upstream's 64 KiB frames)`);
  await within(s.mjpeg.closed, BOUND, `${what}: the MJPEG stream`);
  t.pass(`${what}: the MJPEG stream is closed`);
}

void t.test('`portcullis sessions revoke --user U` (another process on the same Redis) closes the streams U opened through A', async (t) => {
  const br = await signIn(a.url, 'cli');
  const s = await openBoth(br);
  const sse = await openStream(a.url, '/sse', { cookie: br.cookieHeader() });
  const before = await closedMetric(a, 'websocket', 'revoked');
  const file = join(a.dir, 'cli.yaml');
  await writeFile(file, stringify({ server: { listen: '127.0.0.1:0' }, session: { store: 'redis', secret: SECRET, redis: { url: redis.url, key_prefix: 'rev:' } }, users: { file: a.usersFile }, upstreams: [{ name: 'vms', url: upstream.url }] }));
  const out = await inProcess(['sessions', 'revoke', '--user', 'cli', '--config', file]);
  t.equal(out.code, 0, out.stderr);
  await assertClosed(t, s, 'sessions revoke');
  await within(sse.closed, BOUND, 'sessions revoke: the SSE stream');
  t.pass('sessions revoke: the SSE stream is closed');
  t.equal(await closedMetric(a, 'websocket', 'revoked'), before + 1, 'the metric counts the WebSocket closed by revocation');
  t.ok((await closedMetric(a, 'stream', 'revoked')) >= 2, 'and the streams');
  t.equal((await br.get('/x')).status, 302, 'the cookie no longer works');
});

void t.test('"sign out everywhere" in another browser on B closes the streams the first browser opened through A', async (t) => {
  const first = await signIn(a.url, 'everywhere');
  const s = await openBoth(first);
  const other = await signIn(b.url, 'everywhere');
  await other.get('/_gateway/account');
  const res = await other.post('/_gateway/logout?everywhere=1', { csrf: other.csrf() });
  t.equal(res.status, 303, 'signed out everywhere from the other browser');
  await assertClosed(t, s, 'sign out everywhere');
});

void t.test('a plain logout closes only what that session opened', async (t) => {
  const first = await signIn(a.url, 'single');
  const second = await signIn(a.url, 'single');
  const s1 = await openBoth(first);
  const s2 = await openBoth(second);
  await first.get('/_gateway/account');
  t.equal((await first.post('/_gateway/logout', { csrf: first.csrf() })).status, 303, 'the first browser signs out');
  await assertClosed(t, s1, 'logout');
  const echoed = new Promise<string>((r) => s2.ws.ws.on('message', (m, binary) => !binary && r(wsText(m))));
  s2.ws.ws.send('still here');
  t.equal(await within(echoed, BOUND, 'echo'), 'still here', "the other session's WebSocket stays open");
  const bytes = s2.mjpeg.bytes();
  await new Promise((r) => setTimeout(r, 200));
  t.ok(s2.mjpeg.bytes() > bytes, "the other session's stream keeps flowing");
  s2.ws.ws.close();
  s2.mjpeg.destroy();
});

void t.test('a lockout on B (wrong codes) closes the streams opened through A', async (t) => {
  const br = new Browser(a.url);
  await toVerifyPage(br, 'alice', 'alice-password-1');
  const done = await postCode(br, await mailedCode(a, 'alice@example.com'));
  t.equal(done.status, 303, 'alice is signed in on A');
  const s = await openBoth(br);
  const attacker = new Browser(b.url);
  await toVerifyPage(attacker, 'alice', 'alice-password-1');
  const code = await mailedCode(b, 'alice@example.com');
  let last;
  for (let i = 0; i < 3; i++) last = await postCode(attacker, wrong(code, i));
  t.equal(last?.status, 303, 'the third wrong code locks the account');
  t.ok(await b.gateway.gateway.core.regulator.isLocked('alice'), 'alice is locked');
  await assertClosed(t, s, 'lockout');
  await b.gateway.gateway.core.operator.unlock('alice');
});

void t.test('a stream open at the session lifetime is closed at expiry (manual clock)', async (t) => {
  const br = await signIn(a.url, 'lifetime');
  const s = await openBoth(br);
  const before = await closedMetric(a, 'stream', 'expired');
  // Requests every 8 minutes keep the session from going idle (10m) until its lifetime (30m) runs out.
  for (let i = 0; i < 3; i++) {
    clock.advance(8 * 60_000);
    t.equal((await br.get('/x')).status, 200, `still signed in after ${(i + 1) * 8} minutes`);
  }
  t.ok(s.mjpeg.bytes() > 0 && s.ws.received() > 0, 'both streams flowed');
  clock.advance(8 * 60_000);
  await assertClosed(t, s, 'lifetime expiry');
  t.equal(await closedMetric(a, 'stream', 'expired'), before + 1, 'counted as expired');
});

void t.test('idle expiry: streams of a session with no request for idle_timeout are closed, and the session ends', async (t) => {
  const br = await signIn(a.url, 'idle');
  const s = await openBoth(br);
  clock.advance(IDLE / 2);
  t.equal((await br.get('/x')).status, 200, 'a request half-way keeps the session alive');
  clock.advance(IDLE / 2 + 1000);
  // Not idle yet: the request above moved the deadline.
  await new Promise((r) => setTimeout(r, 600));
  const flowing = s.mjpeg.bytes();
  await new Promise((r) => setTimeout(r, 200));
  t.ok(s.mjpeg.bytes() > flowing, 'the stream is still open after the first deadline passed');
  clock.advance(IDLE / 2);
  await assertClosed(t, s, 'idle expiry');
  t.ok((await closedMetric(a, 'websocket', 'idle')) >= 1, 'counted as idle');
  t.equal((await br.get('/x')).status, 302, 'the idle session has ended');
});

void t.test('a session id rotated after the stream opened: revoking the new id still closes it', async (t) => {
  const br = await signIn(a.url, 'rotate');
  const s = await openBoth(br);
  const core = a.gateway.gateway.core;
  const found = await core.lookup.find({ cookie: br.cookieHeader() });
  if (!found) throw new Error('no session');
  const rotated = await core.sessions.rotate(found.id);
  const echoed = new Promise<string>((r) => s.ws.ws.on('message', (m, binary) => !binary && r(wsText(m))));
  s.ws.ws.send('after rotation');
  t.equal(await within(echoed, BOUND, 'echo'), 'after rotation', 'rotation does not close the WebSocket');
  await b.gateway.gateway.core.sessions.revokeById(rotated.ref);
  await assertClosed(t, s, 'revoking the rotated id on B');
});

void t.test('`disabled: true` in the users file: cookies and bearer tokens stop working, streams close, devices are forgotten', async (t) => {
  const br = await signIn(a.url, 'disabled');
  const s = await openBoth(br);
  const login = await new Browser(b.url).json('/_gateway/api/v1/login', { username: 'disabled', password: 'disabled-password-1' });
  t.equal(login.status, 200, 'a bearer token from the JSON API on B');
  const token = login.json<{ token: string }>().token;
  const viaBearer = () => request(`${b.url}/x`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => (await r.body.text(), r.statusCode));
  t.equal(await viaBearer(), 200, 'the bearer token works before');
  const users: Record<string, Record<string, unknown>> = {};
  for (const [name, u] of Object.entries(USERS)) {
    const { password, ...rest } = u;
    users[name] = { ...rest, password: await hashPassword(password, 'argon2id'), ...(name === 'disabled' ? { disabled: true } : {}) };
  }
  await writeFile(a.usersFile, stringify({ users }));
  await assertClosed(t, s, 'disabled: true');
  const refused = async () => (await br.get('/x')).status === 302 && (await viaBearer()) === 401;
  let ok = false;
  for (let i = 0; i < 40 && !ok; i++) {
    ok = await refused();
    if (!ok) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(ok, 'the cookie (on A) and the bearer token (on B, whose users file did not change) stop working');
  t.same(await a.gateway.gateway.core.sessions.list('disabled'), [], 'no session of the user is left in the store');
  // The audit line follows the revocation (devices are forgotten in between): wait for it, bounded.
  const audited = () => a.logs.audits('sessions_revoked').some((l) => l.user === 'disabled' && l.reason === 'disabled');
  for (let i = 0; i < 40 && !audited(); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(audited(), 'audited');
});
