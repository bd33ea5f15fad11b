import t from 'tap';
import { LiveConnections, type CloseReason, type LiveCheck, type LiveKind } from '../../src/session/live-connections.js';
import { ManualClock } from '../../src/util/clock.js';

const REF_A = 'a'.repeat(64);
const REF_B = 'b'.repeat(64);
const REF_C = 'c'.repeat(64);

function setUp(o: { idle?: number; revalidateMs?: number; check?: (ref: string) => Promise<LiveCheck> } = {}) {
  const clock = new ManualClock(1_000_000);
  const closed: Array<[LiveKind, CloseReason]> = [];
  const idled: string[] = [];
  const checks: string[] = [];
  const live = new LiveConnections({
    clock,
    idleTimeout: () => o.idle ?? 0,
    check: async (ref) => {
      checks.push(ref);
      return o.check ? o.check(ref) : { state: 'live', lastSeenAt: clock.now() };
    },
    onIdle: (ref) => idled.push(ref),
    onClosed: (kind, reason) => closed.push([kind, reason]),
    tickMs: 10,
    revalidateMs: o.revalidateMs ?? 1000,
  });
  t.teardown(() => live.close());
  return { clock, live, closed, idled, checks };
}

const tick = () => new Promise((r) => setTimeout(r, 40));
const session = (ref: string, user: string, expiresAt = 10_000_000) => ({ ref, user, expiresAt, lastSeenAt: 1_000_000 });

void t.test('ending a session closes its connections only; ending a user closes all of theirs; "all" closes everything', (t) => {
  const { live, closed } = setUp();
  const ended: string[] = [];
  live.open(session(REF_A, 'alice'), 'websocket', () => ended.push('a-ws'));
  live.open(session(REF_A, 'alice'), 'stream', () => ended.push('a-stream'));
  live.open(session(REF_B, 'alice'), 'stream', () => ended.push('b-stream'));
  live.open(session(REF_C, 'bob'), 'stream', () => ended.push('c-stream'));
  t.equal(live.size, 4);
  live.apply({ kind: 'ref', ref: REF_A });
  t.same(ended, ['a-ws', 'a-stream']);
  t.same(closed, [['websocket', 'revoked'], ['stream', 'revoked']], 'each counted once, by kind');
  live.apply({ kind: 'ref', ref: REF_A });
  t.equal(ended.length, 2, 'ending twice closes nothing more');
  live.apply({ kind: 'user', user: 'alice' });
  t.same(ended, ['a-ws', 'a-stream', 'b-stream']);
  live.apply({ kind: 'all' });
  t.same(ended, ['a-ws', 'a-stream', 'b-stream', 'c-stream']);
  t.equal(live.size, 0);
  t.end();
});

void t.test('a released connection is forgotten; setCloser replaces how it closes', (t) => {
  const { live } = setUp();
  const ended: string[] = [];
  const h1 = live.open(session(REF_A, 'alice'), 'stream', () => ended.push('first'));
  const h2 = live.open(session(REF_A, 'alice'), 'websocket', () => ended.push('destroy'));
  h2.setCloser(() => ended.push('close frame'));
  h1.release();
  h1.release();
  t.equal(live.size, 1);
  live.apply({ kind: 'user', user: 'alice' });
  t.same(ended, ['close frame']);
  t.end();
});

void t.test('a rotated id carries its connections: ending the new id closes them, the old id is nobody', (t) => {
  const { live } = setUp();
  const ended: string[] = [];
  live.open(session(REF_A, 'alice'), 'websocket', () => ended.push('ws'));
  live.apply({ kind: 'rotated', ref: REF_A, next: REF_B });
  live.apply({ kind: 'ref', ref: REF_A });
  t.same(ended, [], 'the old id no longer names it');
  live.open(session(REF_B, 'alice'), 'stream', () => ended.push('stream'));
  live.apply({ kind: 'ref', ref: REF_B });
  t.same(ended, ['ws', 'stream']);
  t.end();
});

void t.test('a rotation message arriving after the new id already opened connections here merges them', (t) => {
  const { live } = setUp();
  const ended: string[] = [];
  const old = live.open(session(REF_A, 'alice'), 'websocket', () => ended.push('old'));
  live.open(session(REF_B, 'alice'), 'stream', () => ended.push('new'));
  live.apply({ kind: 'rotated', ref: REF_A, next: REF_B });
  old.release();
  t.equal(live.size, 1, 'releasing a moved connection forgets it');
  live.apply({ kind: 'ref', ref: REF_B });
  t.same(ended, ['new']);
  t.equal(live.size, 0, 'nothing left behind');
  live.open(session(REF_C, 'alice'), 'stream', () => ended.push('c'));
  live.apply({ kind: 'user', user: 'alice' });
  t.same(ended, ['new', 'c'], 'the user index is intact');
  t.end();
});

void t.test('lifetime: closed once the clock passes the expiry, not before', async (t) => {
  const { live, clock, closed } = setUp();
  let ended = false;
  live.open(session(REF_A, 'alice', 2_000_000), 'stream', () => (ended = true));
  clock.advance(999_999);
  await tick();
  t.notOk(ended, 'one millisecond before expiry: open');
  clock.advance(1);
  await tick();
  t.ok(ended, 'at expiry: closed');
  t.same(closed, [['stream', 'expired']]);
});

void t.test('idle: the store is asked at the idle deadline; a session used since gets a new deadline, an idle one is closed and ended', async (t) => {
  let lastSeenAt = 1_000_000;
  let state: 'live' | 'idle' = 'live';
  const { live, clock, closed, idled, checks } = setUp({ idle: 60_000, revalidateMs: 600_000, check: () => Promise.resolve(state === 'idle' ? { state: 'idle' } : { state: 'live', lastSeenAt }) });
  let ended = false;
  live.open(session(REF_A, 'alice'), 'stream', () => (ended = true));
  await tick();
  t.same(checks, [], 'no store question before a deadline');
  clock.advance(60_000);
  lastSeenAt = clock.now() - 1000; // another request kept the session alive
  await tick();
  t.equal(checks.length, 1, 'asked at the deadline');
  t.notOk(ended);
  clock.advance(30_000);
  await tick();
  t.equal(checks.length, 1, 'the new deadline is a minute after the last use');
  clock.advance(30_000);
  state = 'idle';
  await tick();
  t.ok(ended, 'idle: closed');
  t.same(closed, [['stream', 'idle']]);
  t.same(idled, [REF_A], 'the caller is told to end the session');
});

void t.test('revalidation: a session ended while a fan-out message was lost is closed; a store that does not answer closes nothing', async (t) => {
  let answer: LiveCheck | Error = { state: 'unknown' };
  const { live, clock, closed } = setUp({
    check: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
  });
  let ended = false;
  live.open(session(REF_A, 'alice'), 'websocket', () => (ended = true));
  clock.advance(1000);
  await tick();
  answer = new Error('store down');
  clock.advance(1000);
  await tick();
  t.notOk(ended, 'unknown and failing checks close nothing');
  answer = { state: 'ended' };
  clock.advance(1000);
  await tick();
  t.ok(ended, 'an ended session is closed at the next revalidation');
  t.same(closed, [['websocket', 'revoked']]);
});

void t.test('after close() nothing is registered and the timer is gone', (t) => {
  const { live } = setUp();
  live.close();
  let ended = false;
  const h = live.open(session(REF_A, 'alice'), 'stream', () => (ended = true));
  live.apply({ kind: 'all' });
  h.release();
  t.notOk(ended);
  t.equal(live.size, 0);
  t.end();
});
