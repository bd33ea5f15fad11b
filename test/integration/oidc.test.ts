import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { request } from 'undici';
import type { ManualClock } from '../../src/util/clock.js';
import { Browser } from '../fixtures/browser.js';
import { outboxCode, shownSecret, totpCode } from './enroll-helpers.js';
import { CLIENT_SECRET, hasSession, registration, startOidcStack, throughProvider } from './oidc-helpers.js';

const OPERATORS_BY_EMAIL = { second_factor: { assignments: [{ group: 'operators', method: 'email' as const }] } };

void t.test('the full browser round trip: login page → provider login form → callback → code → app with the identity headers', async (t) => {
  const s = await startOidcStack({ config: OPERATORS_BY_EMAIL, provider: { end_session: true } });
  t.teardown(() => s.close());
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice', email: 'alice@idp.example', groups: ['idp-staff'] }, amr: ['pwd'] });
  const b = new Browser(s.stack.url);

  const first = await b.get('/cameras?x=1');
  t.equal(first.status, 302);
  const login = await b.get(first.location!);
  t.equal(login.status, 200);
  const button = /<a class="button[^"]*" href="([^"]+)">Sign in with Test IdP<\/a>/.exec(login.text);
  t.ok(button, 'one button per provider, named by display_name');
  const startPath = button![1]!.replace(/&amp;/g, '&');
  t.match(startPath, /^\/_gateway\/oidc\/test\/start\?rd=/, 'the button keeps rd');
  t.match(login.text, /name="password"/, 'the password form is still there');

  const start = await b.get(startPath);
  t.equal(start.status, 303);
  const authorize = new URL(start.location!);
  t.equal(authorize.origin, s.idp.issuer, 'to the provider');
  t.equal(authorize.searchParams.get('response_type'), 'code');
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256', 'PKCE S256');
  t.match(authorize.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  t.match(authorize.searchParams.get('state'), /^[A-Za-z0-9_-]{43}$/);
  t.match(authorize.searchParams.get('nonce'), /^[A-Za-z0-9_-]{43}$/);
  t.equal(authorize.searchParams.get('redirect_uri'), s.callback);
  t.match(String(start.headers['set-cookie']), /portcullis_oidc=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/_gateway\/oidc\/; HttpOnly; SameSite=Lax/, 'the browser binding cookie');

  const callback = await throughProvider(b, startPath, 'alice');
  const code = new URL(callback).searchParams.get('code')!;
  const state = new URL(callback).searchParams.get('state')!;
  const back = await b.get(callback);
  t.equal(back.status, 303);
  t.match(back.location, /^\/_gateway\/verify\?rd=/, 'then Portcullis\' own second step, as after a password');
  const gated = await b.get('/cameras');
  t.equal(gated.status, 302, 'the provider alone is one factor');

  await b.get(back.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(s.stack, 'alice@example.com'), csrf: b.csrf(), rd: 'http://' + new URL(s.stack.url).host + '/cameras?x=1' });
  t.equal(done.status, 303);
  t.match(done.location, /\/cameras\?x=1$/, 'rd kept through the round trip');

  const page = await b.get('/cameras?x=1');
  t.equal(page.status, 200);
  const seen = page.json<{ headers: Record<string, string> }>().headers;
  t.equal(seen['remote-user'], 'alice');
  t.equal(seen['remote-groups'], 'operators', "users: directory — the directory's groups apply");
  t.equal(seen['remote-email'], 'alice@example.com');
  t.equal(seen['remote-auth-method'], 'oidc:test');
  t.notMatch(seen.cookie ?? '', /portcullis_oidc/, 'the binding cookie never goes upstream');

  const me = await b.fetch('/_gateway/api/v1/session');
  t.equal(me.status, 200);
  t.match(me.json(), { user: 'alice', identity_provider: 'test', amr: ['pwd'], factors: ['oidc', 'email'], level: 'two_factor' });

  const audits = s.stack.logs.audits('idp_login');
  t.match(audits, [{ result: 'success', user: 'alice', provider: 'test', reason: 'second_factor', method: 'oidc' }]);
  const logs = s.stack.logs.raw;
  for (const secret of [code, state, CLIENT_SECRET]) t.notOk(logs.includes(secret), 'no code, state or client secret in the logs');
  t.notMatch(logs, /eyJ[A-Za-z0-9_-]{10,}\./, 'no token in the logs');

  const metrics = await request(`${s.stack.gateway.adminUrl!}/metrics`);
  t.match(await metrics.body.text(), /portcullis_idp_sign_ins_total\{provider="test",outcome="second_factor"\} 1/);

  await b.get('/_gateway/account');
  const out = await b.post('/_gateway/logout', { csrf: b.csrf() });
  t.equal(out.status, 303);
  const endSession = new URL(out.location!);
  t.equal(`${endSession.origin}${endSession.pathname}`, `${s.idp.issuer}/session/end`, "end_session: on to the provider's end_session_endpoint");
  t.equal(endSession.searchParams.get('client_id'), 'portcullis');
  t.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${s.stack.url}/_gateway/login`);
  t.notOk(hasSession(b), 'the Portcullis session has ended');
  t.equal((await b.get('/cameras')).status, 302);
  t.same(s.idp.errors, []);
});

void t.test('users: claims — a user made from the claims, found again by the second step, with a group rule', async (t) => {
  const s = await startOidcStack({
    provider: { users: 'claims' },
    config: { access: { rules: [{ paths: ['/admin'], groups: ['vms-admins'], policy: 'two_factor' }, { paths: ['/admin'], policy: 'deny' }] } },
  });
  t.teardown(() => s.close());
  s.idp.accounts.set('carla', { claims: { preferred_username: 'carla', name: 'Carla Claims', email: 'carla@idp.example', email_verified: true, groups: ['vms-admins', 'staff'] } });
  s.idp.accounts.set('dave', { claims: { preferred_username: 'dave', email: 'dave@idp.example', groups: ['viewers'] } });

  const b = new Browser(s.stack.url);
  const back = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/admin', 'carla'));
  t.match(back.location, /^\/_gateway\/verify/, 'the claims user has the email from the claims as a trusted address: a code step');
  await b.get(back.location!);
  t.match(b.lastPage, /c\*\*\*@idp\.example/);
  const done = await b.post('/_gateway/verify', { code: outboxCode(s.stack, 'carla@idp.example'), csrf: b.csrf(), rd: '/admin' });
  t.equal(done.status, 303);
  const admin = await b.get('/admin');
  t.equal(admin.status, 200, 'the group rule lets a member of vms-admins in');
  const seen = admin.json<{ headers: Record<string, string> }>().headers;
  t.equal(seen['remote-user'], 'test:carla', 'the provider-qualified user name');
  t.equal(seen['remote-groups'], 'vms-admins,staff');
  t.equal(seen['remote-name'], 'Carla Claims');
  t.equal(seen['remote-email'], 'carla@idp.example');

  const record = await s.stack.gateway.gateway.core.directory.lookup('test:carla');
  t.match(record, { username: 'test:carla', source: 'idp:test', groups: ['vms-admins', 'staff'], disabled: false }, 'kept beside the directories');
  const pw = new Browser(s.stack.url);
  await pw.get('/_gateway/login');
  const tried = await pw.post('/_gateway/login', { username: 'test:carla', password: 'anything', csrf: pw.csrf(), rd: '/' });
  t.equal(tried.status, 401, 'a claims user has no local password');

  const d = new Browser(s.stack.url);
  const dBack = await d.get(await throughProvider(d, '/_gateway/oidc/test/start?rd=/', 'dave'));
  t.match(dBack.location, /^\/_gateway\/verify/, 'email_verified absent: the address is used');
  await d.get(dBack.location!);
  await d.post('/_gateway/verify', { code: outboxCode(s.stack, 'dave@idp.example'), csrf: d.csrf(), rd: '/' });
  t.equal((await d.get('/')).status, 200);
  t.equal((await d.get('/admin')).status, 403, 'not in vms-admins: refused by the rule');
});

void t.test('users: claims — an address the provider marks unverified is not used; the user enrols an authenticator app without a password', async (t) => {
  const s = await startOidcStack({ provider: { users: 'claims' }, config: { second_factor: { methods: ['totp', 'email'] } } });
  t.teardown(() => s.close());
  s.idp.accounts.set('erin', { claims: { preferred_username: 'erin', email: 'erin@idp.example', email_verified: false } });
  const b = new Browser(s.stack.url);
  const back = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/app', 'erin'));
  t.match(back.location, /^\/_gateway\/enroll\?rd=/, 'no trusted address: enrolment first');
  const page = await b.get('/_gateway/enroll/totp?rd=/app');
  t.equal(page.status, 200);
  t.notMatch(page.text, /name="password"/, 'no password field for a user who has none');
  const secret = shownSecret(page.text);
  const wrong = await b.post('/_gateway/enroll/totp', { code: '000000', csrf: b.csrf(), rd: '/app' });
  t.equal(wrong.status, 401, 'the first code still decides');
  const done = await b.post('/_gateway/enroll/totp', { code: totpCode(secret, s.stack.clock.now()), csrf: b.csrf(), rd: '/app' });
  t.equal(done.status, 303, 'enrolled: the sign-in is complete');
  t.equal(done.location, '/app');
  t.ok(await s.stack.gateway.gateway.core.totp.isEnrolled('test:erin'), 'stored under the provider-qualified name');
  const app = await b.get('/app');
  t.equal(app.status, 200);
  t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'test:erin');

  // Later, from the account page, a stale session goes through step-up before any credential change
  // (second_factor.sensitive_action_age); the enrolment's own check asks for a fresh provider sign-in.
  (s.stack.clock as ManualClock).advance(10 * 60_000);
  const stale = await b.get('/_gateway/enroll/totp?rd=/app');
  t.equal(stale.status, 303);
  t.match(stale.location, /^\/_gateway\/verify\?step_up=1&rd=/, 'a stale session is sent through step-up first');
});

void t.test('allowed_groups: everyone else gets a plain, localised page and no session', async (t) => {
  const s = await startOidcStack({ provider: { allowed_groups: ['vms-users'] } });
  t.teardown(() => s.close());
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice', groups: ['other'] } });
  s.idp.accounts.set('bob', { claims: { preferred_username: 'bob', groups: ['vms-users'] } });

  const b = new Browser(s.stack.url, { 'accept-language': 'de' });
  const refused = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', 'alice'));
  t.equal(refused.status, 403);
  t.match(refused.text, /Ihr Konto gehört keiner Gruppe an/);
  t.match(refused.text, /href="\/_gateway\/login\?rd=/, 'a way back to the sign-in page');
  t.notMatch(refused.text, /at |Error:|stack/i, 'no stack trace');
  t.notOk(hasSession(b));
  t.match(s.stack.logs.audits('idp_login'), [{ result: 'failure', reason: 'not_allowed', user: 'alice', provider: 'test' }]);

  const ok = new Browser(s.stack.url);
  const back = await ok.get(await throughProvider(ok, '/_gateway/oidc/test/start?rd=/', 'bob'));
  t.equal(back.status, 303);
  t.match(back.location, /^\/_gateway\/verify/);
});

void t.test('trust_idp_mfa: the second step is skipped when the ID token shows MFA, and asked for when it does not', async (t) => {
  const s = await startOidcStack({ config: OPERATORS_BY_EMAIL, provider: { second_factor: 'trust_idp_mfa', mfa_acr_values: ['urn:test:mfa'] } });
  t.teardown(() => s.close());
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice' }, amr: ['pwd', 'mfa'] });
  s.idp.accounts.set('bob', { claims: { preferred_username: 'bob' }, amr: ['pwd'] });
  s.idp.accounts.set('alice-acr', { claims: { preferred_username: 'alice' }, amr: ['pwd'], acr: 'urn:test:mfa' });

  const a = new Browser(s.stack.url);
  const direct = await a.get(await throughProvider(a, '/_gateway/oidc/test/start?rd=/cameras', 'alice'));
  t.equal(direct.status, 303);
  t.equal(direct.location, '/cameras', 'mfa in amr: straight to the app');
  const page = await a.get('/cameras');
  t.equal(page.status, 200);
  t.equal(page.json<{ headers: Record<string, string> }>().headers['remote-auth-method'], 'oidc:test');
  t.match((await a.fetch('/_gateway/api/v1/session')).json(), { factors: ['oidc', 'idp_mfa'], amr: ['pwd', 'mfa'], identity_provider: 'test' });
  t.match(s.stack.logs.audits('second_factor'), [{ result: 'success', reason: 'idp_mfa', user: 'alice' }]);

  const b = new Browser(s.stack.url);
  const asked = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/cameras', 'bob'));
  t.match(asked.location, /^\/_gateway\/verify/, 'only pwd in amr: Portcullis asks for its own second factor');
  t.equal((await b.get('/cameras')).status, 302);

  const c = new Browser(s.stack.url);
  const byAcr = await c.get(await throughProvider(c, '/_gateway/oidc/test/start?rd=/cameras', 'alice-acr'));
  t.equal(byAcr.location, '/cameras', 'an acr listed in mfa_acr_values counts as MFA');
});

void t.test('required (the default): MFA at the provider does not replace Portcullis\' own second factor', async (t) => {
  const s = await startOidcStack({ config: OPERATORS_BY_EMAIL });
  t.teardown(() => s.close());
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice' }, amr: ['pwd', 'mfa', 'hwk'] });
  const b = new Browser(s.stack.url);
  const back = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', 'alice'));
  t.match(back.location, /^\/_gateway\/verify/);
});

void t.test('refusals: unknown directory user, disabled user, locked user, cancelled at the provider, unknown provider', async (t) => {
  const s = await startOidcStack();
  t.teardown(() => s.close());
  s.idp.accounts.set('zed', { claims: { preferred_username: 'zed' } });
  s.idp.accounts.set('carol', { claims: { preferred_username: 'carol' } });
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice' } });
  await s.stack.gateway.gateway.core.regulator.lock('alice', 'test');

  const cases: Array<[string, 'login' | 'abort', number, RegExp, string]> = [
    ['zed', 'login', 403, /not set up for this application/, 'unknown_user'],
    ['carol', 'login', 403, /not set up for this application/, 'disabled'],
    ['alice', 'login', 423, /account is locked/, 'locked'],
    ['alice', 'abort', 401, /cancelled at the identity provider/, 'cancelled'],
  ];
  for (const [login, action, status, text, reason] of cases) {
    const b = new Browser(s.stack.url);
    const res = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', login, action));
    t.equal(res.status, status, `${login} ${action}: ${status}`);
    t.match(res.text, text);
    t.notOk(hasSession(b), 'no session');
    t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason });
  }
  const b = new Browser(s.stack.url);
  t.equal((await b.get('/_gateway/oidc/nope/start?rd=/')).status, 404);
  t.equal((await b.get('/_gateway/oidc/nope/callback?state=x&code=y')).status, 404);
  t.equal((await b.get('/_gateway/oidc/test/other')).status, 404);
  t.equal((await b.post('/_gateway/oidc/test/start', {})).status, 405);
  t.equal((await b.fetch('/_gateway/oidc/test/start?rd=/', { method: 'HEAD' })).status, 405, 'a HEAD starts nothing');
  t.equal((await b.fetch('/_gateway/oidc/test/callback?state=x&code=y', { method: 'HEAD' })).status, 405, 'nor uses up a callback');
  t.same(s.idp.errors, []);
});

void t.test('client authentication: client_secret_post and private_key_jwt against the provider; a wrong secret is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-oidc-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, 'client.pem');
  await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'sec1' }));
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'gw-1', alg: 'ES256', use: 'sig' };

  // (oidc-provider takes client_secret_basic and _post alike for a client with a secret; the broken
  // provider's tests check which one is sent.)
  const variants: Array<[string, Parameters<typeof startOidcStack>[0], number]> = [
    ['client_secret_post', { provider: { token_endpoint_auth_method: 'client_secret_post' }, client: { token_endpoint_auth_method: 'client_secret_post' } }, 303],
    ['private_key_jwt', { provider: { client_secret: undefined, private_key_jwt: { key_file: keyFile, kid: 'gw-1' } }, client: { client_secret: undefined, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } } }, 303],
    ['a wrong client secret', { provider: { client_secret: 'not-the-registered-secret-0123456789' } }, 502],
  ];
  for (const [name, options, status] of variants) {
    const s = await startOidcStack(options);
    s.idp.accounts.set('svc', { claims: { preferred_username: 'svc' } });
    const b = new Browser(s.stack.url);
    const back = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/app', 'svc'));
    t.equal(back.status, status, name);
    if (status === 303) {
      t.equal(back.location, '/app', `${name}: signed in (svc needs no second factor)`);
      t.equal((await b.get('/app')).json<{ headers: Record<string, string> }>().headers['remote-user'], 'svc');
    } else {
      t.match(back.text, /could not be accepted/);
      t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'provider_error', detail: /invalid_client/ });
      t.notOk(hasSession(b));
    }
    await s.close();
  }
});

void t.test('serve starts while the provider is down: /readyz reports it, the button answers a plain 503, and it works once the provider is up', async (t) => {
  const s = await startOidcStack({ attach: false });
  t.teardown(() => s.close());
  s.idp.accounts.set('svc', { claims: { preferred_username: 'svc' } });
  const ready = await request(`${s.stack.gateway.adminUrl!}/readyz`);
  t.equal(ready.statusCode, 200, 'the gateway is ready: passwords and sessions work');
  t.match(await ready.body.json(), { status: 'ready', identity_providers: { test: /^(pending|unreachable)$/ } });

  const b = new Browser(s.stack.url);
  const down = await b.get('/_gateway/oidc/test/start?rd=/app');
  t.equal(down.status, 503);
  t.match(down.text, /cannot be reached right now/);
  t.notMatch(down.text, /Error:|\bat\b.*\.js/);
  t.match(s.stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'unavailable', provider: 'test' });
  const login = await b.get('/_gateway/login');
  t.equal(login.status, 200, 'the rest of the portal keeps serving');

  s.idp.attach([registration(s.stack)]);
  const back = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/app', 'svc'));
  t.equal(back.location, '/app', 'discovered on demand once the provider answers');
  const after = await request(`${s.stack.gateway.adminUrl!}/readyz`);
  t.match(await after.body.json(), { identity_providers: { test: 'ready' } });
});

void t.test('portal.password_form: false shows the provider buttons only', async (t) => {
  const s = await startOidcStack({ config: { portal: { password_form: false } } });
  t.teardown(() => s.close());
  const b = new Browser(s.stack.url);
  const page = await b.get('/_gateway/login?rd=/x');
  t.equal(page.status, 200);
  t.notMatch(page.text, /name="password"/);
  t.match(page.text, /<a class="button button--block button--primary" href="\/_gateway\/oidc\/test\/start\?rd=%2Fx">Sign in with Test IdP<\/a>/);
});

void t.test('after the provider, everything that follows a password applies: reverify grace, trusted devices, lockout on wrong codes', async (t) => {
  const s = await startOidcStack({ config: { second_factor: { ...OPERATORS_BY_EMAIL.second_factor, lockout: { max_failures: 2 } } } });
  t.teardown(() => s.close());
  s.idp.accounts.set('alice', { claims: { preferred_username: 'alice' } });
  const b = new Browser(s.stack.url);
  const first = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', 'alice'));
  await b.get(first.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(s.stack, 'alice@example.com'), csrf: b.csrf(), rd: '/', remember_device: '1' });
  t.equal(done.status, 303);
  await b.get('/_gateway/account');
  await b.post('/_gateway/logout', { csrf: b.csrf() });
  t.notOk(hasSession(b));

  const again = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', 'alice'));
  t.equal(again.location, '/', 'within the reverify grace: no code');
  t.match((await b.fetch('/_gateway/api/v1/session')).json(), { factors: ['oidc', 'grace'], identity_provider: 'test' });
  await b.get('/_gateway/account');
  await b.post('/_gateway/logout', { csrf: b.csrf() });

  (s.stack.clock as ManualClock).advance(4 * 60_000);
  const later = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/', 'alice'));
  t.equal(later.location, '/', 'past the grace, a trusted device: no code either');
  t.match((await b.fetch('/_gateway/api/v1/session')).json(), { factors: ['oidc', 'trusted_device'], identity_provider: 'test' });

  const other = new Browser(s.stack.url);
  const step = await other.get(await throughProvider(other, '/_gateway/oidc/test/start?rd=/', 'alice'));
  await other.get(step.location!);
  await other.post('/_gateway/verify', { code: '000000', csrf: other.csrf(), rd: '/' });
  const locked = await other.post('/_gateway/verify', { code: '000001', csrf: other.csrf(), rd: '/' });
  t.equal(locked.status, 303, 'wrong codes lock the account, as after a password');
  t.match(locked.location, /\/_gateway\/login\?notice=locked/, 'the browser is told on the sign-in page');
  const third = new Browser(s.stack.url);
  const refused = await third.get(await throughProvider(third, '/_gateway/oidc/test/start?rd=/', 'alice'));
  t.equal(refused.status, 423, 'and a locked user cannot sign in through the provider either');
  t.notOk(hasSession(third));
});

void t.test('step-up (max_auth_age) for a user trusted on the provider\'s MFA with no factor of their own: the provider signs them in again', async (t) => {
  const s = await startOidcStack({
    provider: { users: 'claims', second_factor: 'trust_idp_mfa' },
    config: { access: { rules: [{ paths: ['/admin'], policy: 'two_factor', max_auth_age: '5m' }] } },
  });
  t.teardown(() => s.close());
  s.idp.accounts.set('mia', { claims: { preferred_username: 'mia' }, amr: ['pwd', 'mfa'] });
  const b = new Browser(s.stack.url);
  const first = await b.get(await throughProvider(b, '/_gateway/oidc/test/start?rd=/admin', 'mia'));
  t.equal(first.location, '/admin');
  t.equal((await b.get('/admin')).status, 200);

  (s.stack.clock as ManualClock).advance(6 * 60_000);
  const stale = await b.get('/admin');
  t.equal(stale.status, 302);
  t.match(stale.location, /\/_gateway\/verify\?step_up=1&rd=/);
  const verify = await b.get(stale.location!);
  t.equal(verify.status, 303);
  t.match(verify.location, /^\/_gateway\/oidc\/test\/start\?rd=.*&reauth=1$/, 'no own factor: back to the provider, not round in circles');
  const start = await b.get(verify.location!);
  const authorize = new URL(start.location!);
  t.equal(authorize.searchParams.get('prompt'), 'login');
  t.equal(authorize.searchParams.get('max_age'), '0');
  const back = await b.get(await throughProvider(b, verify.location!, 'mia'));
  t.equal(back.status, 303);
  t.match(back.location, /\/admin$/);
  t.equal((await b.get('/admin')).status, 200, 'fresh again');
});
