/**
 * Adversarial table: sessions (issue 12) — tampered cookies and tokens, fixation, and half-signed-in
 * sessions (password only) on every route: the built-in proxy, a WebSocket upgrade, forward-auth in its
 * three forms, every portal page and action that needs a signed-in user, and every JSON API route.
 *
 * Tampering rows: flipped bits in the id or the signature, truncations, extensions, a signature by
 * another secret, the device cookie's key used for a session id, a bearer token of the same shapes, and
 * an expired session. (Equivalent encodings of the real value — percent-encoded, quoted — are the same
 * cookie to RFC 6265 parsers and are not tampering.) Each is refused at every entrance (401, never 200/101) and the upstream sees nothing.
 */
import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { SECRET, startStack, type Stack } from '../fixtures/gateway.js';
import { Keyring } from '../../src/keys/keyring.js';
import { signer } from '../../src/session/cookie.js';
import type { ManualClock } from '../../src/util/clock.js';
import { ENTRANCES, HOST, passed, through } from './tables.js';

const COOKIE = 'portcullis_session';

/** The newest code in the console outbox for alice (email or SMS, whichever the step chose). */
function aliceCode(stack: Stack): string {
  const list = stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === 'alice@example.com' || m.to === '+4915112345678');
  const m = /\b(\d{6})\b/.exec(list.at(-1)?.text ?? '');
  if (!m) throw new Error('no code for alice in the outbox');
  return m[1]!;
}

/** Alice's password step in `b` (which may carry a planted cookie); answers the session cookie value after it. */
async function passwordOnly(b: Browser): Promise<string> {
  await b.get('/_gateway/login?rd=%2Fcams');
  const res = await b.post('/_gateway/login', { username: 'alice', password: 'alice-password-1', csrf: b.csrf(), rd: '/cams' });
  if (res.status !== 303 || !res.location?.startsWith('/_gateway/verify')) throw new Error(`password step: ${res.status} ${res.location ?? ''}`);
  await b.get(res.location);
  return b.cookies.get(COOKIE)!;
}

/** Completes the second step on the verify page loaded last. */
async function secondStep(stack: Stack, b: Browser): Promise<void> {
  const res = await b.post('/_gateway/verify', { code: aliceCode(stack), csrf: b.csrf(), rd: '/cams' });
  if (res.status !== 303 || res.location !== '/cams') throw new Error(`verify: ${res.status} ${res.location ?? ''}`);
}

void t.test('sessions: tampering, fixation and half-signed-in sessions on every route', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] }, access: { default_policy: 'two_factor' } } });
  t.teardown(() => stack.close());
  const cookie = (value: string): Array<[string, string]> => [['Cookie', `${COOKIE}=${value}`]];
  const bearer = (value: string): Array<[string, string]> => [['Authorization', `Bearer ${value}`]];

  const signedIn = new Browser(stack.url, { host: HOST });
  await passwordOnly(signedIn);
  await secondStep(stack, signedIn);
  const good = signedIn.cookies.get(COOKIE)!;
  const token = (await new Browser(stack.url, { host: HOST }).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' })).json<{ token: string }>().token;

  await t.test('control: the real cookie and the real bearer token pass at every entrance', async (t) => {
    for (const entrance of ENTRANCES) {
      t.ok(passed(entrance, await through(stack, entrance, '/ws', cookie(good))), `${entrance}: cookie`);
      t.ok(passed(entrance, await through(stack, entrance, '/ws', bearer(token))), `${entrance}: bearer`);
    }
  });

  const [id, sig] = good.split('.') as [string, string];
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const other = signer(new Keyring(['another-secret-0123456789-abcdefghijklmnopqrstuvwxyz']).cookie('session'));
  const deviceKey = signer(new Keyring([SECRET]).cookie('device'));
  const TAMPERED: Array<[string, string]> = [
    ['first bit of the id flipped', `${flip(id, 0)}.${sig}`],
    ['last character of the id flipped', `${flip(id, id.length - 1)}.${sig}`],
    ['first character of the signature flipped', `${id}.${flip(sig, 0)}`],
    ['last character of the signature flipped', `${id}.${flip(sig, sig.length - 1)}`],
    ['signature truncated by one', `${id}.${sig.slice(0, -1)}`],
    ['signature dropped', `${id}.`],
    ['the id alone', id],
    ['id truncated, signature kept', `${id.slice(0, -1)}.${sig}`],
    ['extended', `${good}A`],
    ['a second signature appended', `${good}.${sig}`],
    ['the same id signed with another secret', other.sign(id)],
    ['the same id signed with the device cookie key', deviceKey.sign(id)],
    ['a fresh id signed with another secret', other.sign('A'.repeat(43))],
    ['empty', ''],
    ['overlong (300 characters)', `${good}${'A'.repeat(300)}`],
  ];
  for (const [name, value] of TAMPERED) {
    await t.test(`tampered: ${name}`, async (t) => {
      for (const entrance of ENTRANCES) {
        for (const [how, headers] of [['cookie', cookie(value)], ['bearer', bearer(value)]] as const) {
          if (how === 'bearer' && value === '') continue; // `Bearer ` with nothing is no credential at all
          const seen = stack.upstream.seen.length;
          const res = await through(stack, entrance, '/ws', headers);
          t.notOk(passed(entrance, res), `${entrance} ${how}: not let through`);
          t.equal(res.status, 401, `${entrance} ${how}: 401`);
          t.equal(stack.upstream.seen.length, seen, `${entrance} ${how}: the upstream saw nothing`);
        }
      }
      const api = await new Browser(stack.url, { host: HOST }).fetch('/_gateway/api/v1/session', { headers: { cookie: `${COOKIE}=${value}` } });
      t.equal(api.status, 401, 'JSON API session: 401');
    });
  }

  await t.test('fixation: a planted session id is never the one signed in', async (t) => {
    // An attacker's own pre-sign-in session (bob, password only), planted in the victim's browser.
    const attacker = new Browser(stack.url, { host: HOST });
    await attacker.get('/_gateway/login');
    await attacker.post('/_gateway/login', { username: 'bob', password: 'bob-password-1', csrf: attacker.csrf(), rd: '/' });
    const planted = attacker.cookies.get(COOKIE)!;
    for (const value of [planted, 'attacker-chosen-value-0123456789abcdef', `${'B'.repeat(43)}.${'C'.repeat(43)}`]) {
      const victim = new Browser(stack.url, { host: HOST });
      victim.cookies.set(COOKIE, value);
      const half = await passwordOnly(victim);
      t.not(half, value, 'the password step issues a new id');
      await secondStep(stack, victim);
      const full = victim.cookies.get(COOKIE)!;
      t.not(full, value, 'the second step issues a new id');
      t.not(full, half, 'the id changes again when the second step is done');
      const asPlanted = await through(stack, 'proxy', '/x', cookie(value));
      const user = asPlanted.status === 200 ? (JSON.parse(asPlanted.body) as { headers: Record<string, string> }).headers['remote-user'] : undefined;
      t.not(user, 'alice', 'the planted value never carries the victim');
      const asHalf = await through(stack, 'proxy', '/x', cookie(half));
      t.equal(asHalf.status, 401, 'the password-only id is not upgraded in place: it no longer gets in');
      t.equal((await through(stack, 'proxy', '/x', cookie(full))).status, 200, 'control: the new id works');
    }
  });

  await t.test('half-signed-in (password only): refused on every route', async (t) => {
    const b = new Browser(stack.url, { host: HOST });
    const half = await passwordOnly(b);
    const csrf = b.csrf();
    for (const entrance of ENTRANCES) {
      const seen = stack.upstream.seen.length;
      const res = await through(stack, entrance, '/ws', cookie(half));
      t.notOk(passed(entrance, res), `${entrance}: not let through (${res.status})`);
      t.equal(res.status, 401, `${entrance}: 401`);
      t.equal(stack.upstream.seen.length, seen, `${entrance}: the upstream saw nothing`);
    }
    const toStep = (location: string | undefined) => /^\/_gateway\/(verify|login)\b/.test(location ?? '');
    for (const page of ['/_gateway/account', '/_gateway/account/', '/_gateway/enroll', '/_gateway/enroll/', '/_gateway/enroll/totp', '/_gateway/enroll/email', '/_gateway/enroll/sms', '/_gateway/enroll/recovery-codes', '/_gateway']) {
      const res = await b.get(page);
      t.ok(res.status === 302 || res.status === 303, `GET ${page}: a redirect (${res.status})`);
      if (page !== '/_gateway') t.ok(toStep(res.location), `GET ${page}: to the second step or sign-in (${res.location ?? ''})`);
      t.notMatch(res.text, /alice@example\.com|Alice Operator/, `GET ${page}: nothing of the account shown`);
    }
    const actions: Array<[string, Record<string, string>]> = [
      ['/_gateway/account/methods/remove', { id: 'email' }],
      ['/_gateway/account/devices/remove', { id: 'x' }],
      ['/_gateway/account/sessions/remove', { id: 'x' }],
      ['/_gateway/account/second-factor/disable', {}],
      ['/_gateway/enroll/totp', { code: '123456' }],
      ['/_gateway/enroll/email', { address: 'attacker@example.com' }],
      ['/_gateway/enroll/sms', { phone: '+15005550006' }],
      ['/_gateway/enroll/recovery-codes', {}],
    ];
    const audits = stack.logs.lines.length;
    for (const [path, fields] of actions) {
      const res = await b.post(path, { ...fields, csrf });
      t.ok(res.status >= 300 && res.status < 500 && res.status !== 200, `POST ${path}: refused or sent on (${res.status})`);
      if (res.status === 302 || res.status === 303) t.ok(toStep(res.location), `POST ${path}: to the second step or sign-in (${res.location ?? ''})`);
    }
    const changed = stack.logs.lines.slice(audits).filter((l) => l.audit === true && l.result === 'success' && /factor|recovery|device|session_revoked|enrol/.test(String(l.event)));
    t.same(changed, [], 'no action succeeded');
    t.equal(await stack.gateway.gateway.core.recoveryCodes.remaining('alice'), 0, 'no recovery codes were made');
    t.notOk(await stack.gateway.gateway.core.totp.isEnrolled('alice'), 'no authenticator was enrolled');

    const api = (path: string, method = 'GET') => b.fetch(`/_gateway/api/v1/${path}`, { method, headers: { accept: 'application/json', 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
    t.equal((await api('session')).status, 401, 'JSON API session: 401');
    t.equal((await b.fetch('/_gateway/api/v1/session', { headers: { authorization: `Bearer ${half}` } })).status, 401, 'JSON API session with the id as a bearer token: 401');
    for (const path of ['verify', 'resend']) t.not((await api(path, 'POST')).status, 200, `JSON API ${path} without a flow: not 200`);
    t.equal((await through(stack, 'proxy', '/x', bearer(half))).status, 401, 'the half id as a bearer token at the proxy: 401');
  });

  await t.test('trusted-device cookies: only the exact cookie, for its own user, skips the second step', async (t) => {
    const DEVICE = 'portcullis_device';
    const b = new Browser(stack.url, { host: HOST });
    await passwordOnly(b);
    const done = await b.post('/_gateway/verify', { code: aliceCode(stack), csrf: b.csrf(), rd: '/cams', remember_device: '1' });
    t.equal(done.status, 303);
    const device = b.cookies.get(DEVICE)!;
    t.ok(device, 'a device cookie');
    const passwordWith = async (user: string, password: string, value: string) => {
      const x = new Browser(stack.url, { host: HOST });
      x.cookies.set(DEVICE, value);
      await x.get('/_gateway/login');
      return (await x.post('/_gateway/login', { username: user, password, csrf: x.csrf(), rd: '/cams' })).location;
    };
    t.equal(await passwordWith('alice', 'alice-password-1', device), '/cams', 'control: the trusted device skips the code');
    const [did, dsig] = device.split('.') as [string, string];
    const sessionKey = signer(new Keyring([SECRET]).cookie('session'));
    for (const [name, value] of [
      ['signature bit flipped', `${did}.${flip(dsig, 3)}`],
      ['id bit flipped', `${flip(did, 3)}.${dsig}`],
      ['signed with another secret', other.sign(did)],
      ['signed with the session cookie key', sessionKey.sign(did)],
      ['the session cookie as a device cookie', good],
      ['truncated', device.slice(0, -1)],
    ] as const) {
      t.match(await passwordWith('alice', 'alice-password-1', value), /^\/_gateway\/verify/, `${name}: the second step is asked`);
    }
    t.match(await passwordWith('bob', 'bob-password-1', device), /^\/_gateway\/verify/, "alice's trusted device does not skip bob's second step");
  });

  await t.test('an expired session is refused at every entrance', async (t) => {
    (stack.clock as ManualClock).advance(12 * 3600_000 + 60_000);
    for (const entrance of ENTRANCES) {
      const res = await through(stack, entrance, '/ws', cookie(good));
      t.equal(res.status, 401, `${entrance}: cookie past the lifetime`);
      t.equal((await through(stack, entrance, '/ws', bearer(token))).status, 401, `${entrance}: token past the lifetime`);
    }
  });
});
