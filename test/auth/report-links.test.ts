import t from 'tap';
import { ReportLinks } from '../../src/auth/report-links.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

const KEY = Buffer.alloc(32, 7);
const DAY = 24 * 3_600_000;

function setUp() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  t.teardown(() => store.close());
  return { clock, store, links: new ReportLinks(store, KEY, clock) };
}

void t.test('a link is valid until used, once; concurrent uses: one wins', async (t) => {
  const { links } = setUp();
  const { token } = links.create('alice', DAY);
  t.match(await links.peek(token), { status: 'valid', user: 'alice' });
  t.match(await links.peek(token), { status: 'valid' }, 'peeking uses nothing up');
  const results = await Promise.all([links.consume(token, DAY), links.consume(token, DAY), links.consume(token, DAY)]);
  t.equal(results.filter((r) => r.status === 'valid').length, 1, 'one of three concurrent uses wins');
  t.same(await links.consume(token, DAY), { status: 'used' });
  t.same(await links.peek(token), { status: 'used' });
});

void t.test('using one link voids every link of the user issued before it, not later ones, not other users', async (t) => {
  const { links, clock } = setUp();
  const first = links.create('alice', DAY).token;
  clock.advance(1000);
  const second = links.create('alice', DAY).token;
  const bobs = links.create('bob', DAY).token;
  clock.advance(1000);
  t.match(await links.consume(second, DAY), { status: 'valid' });
  t.same(await links.peek(first), { status: 'used' }, 'an older link of alice is void');
  t.match(await links.peek(bobs), { status: 'valid' }, "bob's link is not touched");
  clock.advance(1000);
  const later = links.create('alice', DAY).token;
  t.match(await links.peek(later), { status: 'valid' }, 'a link made after the report works');
  clock.advance(DAY - 2500);
  t.same(await links.peek(first), { status: 'expired' }, 'and the old one expires as it would have');
});

void t.test('expired, tampered, foreign-key, truncated, oversized and malformed tokens are refused', async (t) => {
  const { links, clock, store } = setUp();
  const { token, expiresAt } = links.create('alice', 60_000);
  t.equal(expiresAt, clock.now() + 60_000);
  const [body, sig] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  const forge = (c: Record<string, unknown>) => `${Buffer.from(JSON.stringify(c)).toString('base64url')}.${sig}`;
  for (const [label, bad] of [
    ['another user', forge({ ...claims, u: 'bob' })],
    ['a later expiry', forge({ ...claims, x: Number(claims.x) + DAY })],
    ['a changed signature', `${body}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`],
    ['a truncated signature', `${body}.${sig.slice(0, 40)}`],
    ['no signature', body],
    ['another key', new ReportLinks(store, Buffer.alloc(32, 8), clock).create('alice', 60_000).token],
    ['oversized', `${'A'.repeat(2000)}.${sig}`],
    ['not base64url', `${body}!.${sig}`],
    ['empty', ''],
  ] as const) {
    t.same(await links.peek(bad), { status: 'invalid' }, label);
    t.same(await links.consume(bad, DAY), { status: 'invalid' }, `${label}: cannot be used`);
  }
  clock.advance(60_000);
  t.same(await links.consume(token, DAY), { status: 'expired' });
  t.throws(() => links.create('alice', 0), RangeError);
  t.throws(() => new ReportLinks(store, Buffer.alloc(8), clock), TypeError);
});
