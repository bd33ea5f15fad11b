import t, { type Test } from 'tap';
import type { ManualClock } from '../../src/util/clock.js';
import { Browser } from '../fixtures/browser.js';
import { hasSession, startOidcStack, throughProvider, type OidcStack } from './oidc-helpers.js';

/** A callback URL with one parameter replaced (or removed with `null`). */
function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.href;
}

async function refusedAsState(t: Test, s: OidcStack, b: Browser, url: string, detail: string): Promise<void> {
  const res = await b.get(url);
  t.equal(res.status, 400);
  t.match(res.text, /expired or was already completed/);
  t.notOk(hasSession(b), 'no session');
  t.equal((await b.fetch('/_gateway/api/v1/session')).status, 401);
  t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'state', detail });
}

void t.test('state bound to the browser: missing, wrong, from another browser, replayed, expired; a callback works once', async (t) => {
  const s = await startOidcStack();
  t.teardown(() => s.close());
  s.idp.accounts.set('svc', { claims: { preferred_username: 'svc' } });
  const start = '/_gateway/oidc/test/start?rd=/app';

  await t.test('missing state', async (t) => {
    const b = new Browser(s.stack.url);
    const callback = await throughProvider(b, start, 'svc');
    await refusedAsState(t, s, b, withParam(callback, 'state', null), 'no_state');
  });

  await t.test('wrong state', async (t) => {
    const b = new Browser(s.stack.url);
    const callback = await throughProvider(b, start, 'svc');
    await refusedAsState(t, s, b, withParam(callback, 'state', 'A'.repeat(43)), 'unknown_state');
    await refusedAsState(t, s, b, withParam(callback, 'state', 'not even the right shape'), 'unknown_state');
  });

  await t.test('from another browser: refused there, and the owner can still finish', async (t) => {
    const owner = new Browser(s.stack.url);
    const callback = await throughProvider(owner, start, 'svc');
    const other = new Browser(s.stack.url);
    await refusedAsState(t, s, other, callback, 'foreign_browser');
    const thief = new Browser(s.stack.url);
    await throughProvider(thief, start, 'svc'); // has a binding cookie of its own
    await refusedAsState(t, s, thief, callback, 'foreign_browser');
    const res = await owner.get(callback);
    t.equal(res.status, 303);
    t.equal(res.location, '/app');
    t.ok(hasSession(owner));
  });

  await t.test('a callback used twice', async (t) => {
    const b = new Browser(s.stack.url);
    const callback = await throughProvider(b, start, 'svc');
    const first = await b.get(callback);
    t.equal(first.status, 303);
    const firstSession = b.cookies.get('portcullis_session');
    const again = await b.get(callback);
    t.equal(again.status, 400, 'the second use is refused');
    t.equal(b.cookies.get('portcullis_session'), firstSession, 'and makes no new session');
    t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'state', detail: 'unknown_state' });
    const elsewhere = new Browser(s.stack.url);
    t.equal((await elsewhere.get(callback)).status, 400, 'nor anywhere else');
    t.notOk(hasSession(elsewhere));
  });

  await t.test('a used state replayed with a fresh code', async (t) => {
    const b = new Browser(s.stack.url);
    const first = await throughProvider(b, start, 'svc');
    t.equal((await b.get(first)).status, 303);
    const second = await throughProvider(b, start, 'svc');
    const spliced = withParam(second, 'state', new URL(first).searchParams.get('state'));
    const res = await b.get(spliced);
    t.equal(res.status, 400);
    t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'state', detail: 'unknown_state' });
    t.equal((await b.get(second)).status, 303, "the fresh sign-in's own state still works");
  });

  await t.test('a state older than ten minutes', async (t) => {
    const b = new Browser(s.stack.url);
    const callback = await throughProvider(b, start, 'svc');
    (s.stack.clock as ManualClock).advance(10 * 60_000 + 1);
    await refusedAsState(t, s, b, callback, 'unknown_state');
  });

  await t.test('a code and state for another provider name in the path', async (t) => {
    const b = new Browser(s.stack.url);
    const callback = await throughProvider(b, start, 'svc');
    const res = await b.get(callback.replace('/oidc/test/', '/oidc/other/'));
    t.equal(res.status, 404);
    t.notOk(hasSession(b));
  });

  t.same(s.idp.errors, []);
});
