/**
 * AccessDecider.decideCached: the synchronous decision the proxy path takes first (issue 15: no promise per
 * request). It answers only what memory can (deny/bypass rules, a cached session) and must then answer
 * exactly what `decide` answers; everything else is left to `decide` (undefined), never guessed.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import type { AccessRequest, AccessResult } from '../../src/auth/access.js';
import type { ManualClock } from '../../src/util/clock.js';
import { startStack } from '../fixtures/gateway.js';

const KEY = 'k'.repeat(40);

void t.test('decideCached answers bypass, deny and cached sessions as decide does, and defers the rest', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', public_url: 'http://vms.example.com' },
      access: {
        default_policy: 'two_factor',
        rules: [
          { paths: ['/public/**'], policy: 'bypass' },
          { paths: ['/closed/**'], policy: 'deny' },
          { paths: ['/ops/**'], groups: ['operators'], policy: 'two_factor' },
          { paths: ['/ops/**'], policy: 'deny' },
          { paths: ['/light/**'], policy: 'one_factor' },
        ],
      },
      api_clients: [{ name: 'nvr', api_key: { sha256: createHash('sha256').update(KEY).digest('hex') } }],
    },
  });
  t.teardown(() => stack.close());
  const login = async (username: string, password: string): Promise<string> => {
    const res = await request(`${stack.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return ((await res.body.json()) as { token: string }).token;
  };
  const svc = await login('svc', 'svc-password-1'); // no second factor: signed in at once

  const access = stack.gateway.gateway.compiled.access;
  const ask = (path: string, headers: IncomingHttpHeaders, host = 'vms.example.com'): AccessRequest => ({ headers, host, path, method: 'GET', clientIp: '127.0.0.1', upstream: 'app', requestId: 'r' });
  const same = async (label: string, input: AccessRequest, kind: AccessResult['kind'] | undefined): Promise<void> => {
    const now = access.decideCached(input);
    t.notOk(now instanceof Promise, `${label}: synchronous`);
    t.equal(now?.kind, kind, `${label}: ${kind ?? 'left to decide'}`);
    const later = await access.decide(input);
    if (now) t.same(later, now, `${label}: what decide answers`);
    return undefined;
  };

  // Warm the cache through the proxy path: a request with each session.
  for (const token of [svc]) await (await request(`${stack.url}/x`, { headers: { authorization: `Bearer ${token}` } })).body.dump();

  await same('bypass, anonymous', ask('/public/a', {}), 'allow');
  await same('deny for everyone', ask('/closed/a', { authorization: `Bearer ${svc}` }), 'deny');
  await same('cached session, bearer', ask('/x', { authorization: `Bearer ${svc}` }), 'allow');
  await same('cached session, cookie', ask('/x', { cookie: `portcullis_session=${svc}` }), 'allow');
  await same('one_factor path, same session', ask('/light/a', { authorization: `Bearer ${svc}` }), 'allow');
  await same('a group rule walked again with the subject (svc is not an operator)', ask('/ops/a', { authorization: `Bearer ${svc}` }), 'deny');
  t.same((access.decideCached(ask('/x', { authorization: `Bearer ${svc}` })) as { subject?: { user: string } }).subject?.user, 'svc', 'the subject is the session\'s user');

  // What memory cannot answer is left to decide, which still answers it.
  await same('no credential', ask('/x', {}), undefined);
  t.equal((await access.decide(ask('/x', {}))).kind, 'unauthenticated');
  await same('an API key', ask('/x', { 'x-api-key': KEY }), undefined);
  t.equal((await access.decide(ask('/x', { 'x-api-key': KEY }))).kind, 'allow', 'decide lets the API client in');
  await same('an unknown token', ask('/x', { authorization: `Bearer ${svc.slice(0, -2)}xx` }), undefined);
  t.not((await access.decide(ask('/x', { authorization: `Bearer ${svc.slice(0, -2)}xx` }))).kind, 'allow', 'decide refuses it');
  t.ok(access.decideCached(ask('/x', { authorization: `Bearer ${svc}` }, 'other.example.com')), 'a bearer token is not bound to a host');

  // Past session.cache_ttl the cache steps aside: decide reads the store, and caches again.
  (stack.clock as ManualClock).advance(5_000);
  await same('a session past the cache ttl', ask('/x', { authorization: `Bearer ${svc}` }), undefined);
  t.equal((await access.decide(ask('/x', { authorization: `Bearer ${svc}` }))).kind, 'allow');
  await same('cached again after decide read it', ask('/x', { authorization: `Bearer ${svc}` }), 'allow');

  // After logout the session is no longer found, cached or not.
  const out = await request(`${stack.url}/_gateway/api/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${svc}`, 'content-type': 'application/json' }, body: '{}' });
  t.equal(out.statusCode, 204);
  await same('a session that ended', ask('/x', { authorization: `Bearer ${svc}` }), undefined);
  t.equal((await access.decide(ask('/x', { authorization: `Bearer ${svc}` }))).kind, 'unauthenticated');
});
