/**
 * `portcullis users ...` as child processes against a real redis-server shared with a running gateway:
 * unlock, reset-2fa, devices and invite (seeds 001, 002, 004).
 */
import t from 'tap';
import { issueSession } from '../../src/auth/sessions.js';
import { Secret, TOTP } from 'otpauth';
import { Browser } from '../fixtures/browser.js';
import { freePort, redisAvailable } from '../fixtures/redis.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, slapdAvailable, startSlapd } from '../fixtures/slapd.js';
import { extractLink, startSmtp } from '../fixtures/smtp.js';
import { audits, messages, reachesApp, run, setUp, signIn } from './operator-helpers.js';

if (!redisAvailable()) {
  t.plan(0, 'redis-server is not installed');
} else {
  void t.test('users unlock: a locked user and a blocked password can sign in again', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const services = stack.gateway.gateway.core;
    await services.regulator.lock('svc', 'code_failures');
    const refused = await signIn(stack, 'svc', 'svc-password-1');
    t.equal(refused.status, 401, 'locked: the right password is refused');

    const unlocked = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(unlocked.code, 0, unlocked.stderr);
    t.match(unlocked.stdout, /^unlocked svc \(locked \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: code_failures\)\n$/);
    t.match(audits(unlocked.stderr)[0], { event: 'account_unlocked', user: 'svc', reason: 'code_failures' });
    const ok = await signIn(stack, 'svc', 'svc-password-1');
    t.equal(ok.status, 303);
    t.ok(await reachesApp(ok.b));

    for (let i = 0; i < 5; i++) await services.regulator.passwordFailed('svc', `10.0.0.${i + 1}`);
    t.equal((await signIn(stack, 'svc', 'svc-password-1')).status, 429, 'wrong passwords block the user');
    const lifted = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(lifted.stdout, 'lifted the wrong-password block of svc\n');
    t.equal((await signIn(stack, 'svc', 'svc-password-1')).status, 303);

    const nothing = await run(['users', 'unlock', 'svc', '--config', cfg]);
    t.equal(nothing.code, 0);
    t.equal(nothing.stdout, 'svc was not locked\n');
  });

  void t.test('users reset-2fa removes TOTP, recovery codes and trusted devices', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const s = stack.gateway.gateway.core;
    const { secretBase32 } = await s.totp.beginEnrolment('alice', 'alice');
    const code = new TOTP({ secret: Secret.fromBase32(secretBase32), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: stack.clock.now() });
    t.ok(await s.totp.confirmEnrolment('alice', code));
    await s.recoveryCodes.generate('alice');
    await s.devices.trust('alice', 'device-one', { name: 'Firefox on Linux', ip: '10.0.0.1', userAgent: 'Mozilla/5.0' });
    await s.factors.state.setPhone('alice', '+4915100000000', true);
    const user = (await s.directory.lookup('alice'))!;
    const live = await issueSession(s.sessions, user, { level: 'two_factor', factors: ['totp'], now: stack.clock.now(), clientIp: '10.0.0.1' });

    const r = await run(['users', 'reset-2fa', 'alice', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'reset two-step verification of alice: authenticator app removed, 10 recovery codes removed, 1 trusted device forgotten, 1 session ended\n');
    t.equal(await s.sessions.get(live.cookie), undefined, 'the user\'s sessions end with the reset (issue 17)');
    t.equal(await s.totp.isEnrolled('alice'), false);
    t.equal(await s.recoveryCodes.remaining('alice'), 0);
    t.same(await s.devices.list('alice'), []);
    t.same((await s.factors.state.get('alice')).phone, undefined, 'the entered phone number is forgotten');
    t.match(audits(r.stderr)[0], { event: 'second_factor_reset', user: 'alice', method: 'operator' });

    const again = await run(['users', 'reset-2fa', 'alice', '--config', cfg]);
    t.equal(again.stdout, 'reset two-step verification of alice: no authenticator app, 0 recovery codes removed, 0 trusted devices forgotten, 0 sessions ended\n');
  });

  void t.test('users devices lists, revokes one and revokes all', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const devices = stack.gateway.gateway.core.devices;
    await devices.trust('bob', 'device-a', { name: 'Firefox on Linux', ip: '10.0.0.1', userAgent: 'ua-a' });
    await devices.trust('bob', 'device-b', { name: 'Safari on iOS', ip: '10.0.0.2', userAgent: 'ua-b' });
    const listedIds = await devices.list('bob');
    const firefox = listedIds.find((d) => d.name === 'Firefox on Linux')!.id;
    const safari = listedIds.find((d) => d.name === 'Safari on iOS')!.id;
    const ids = [firefox, safari];

    const listed = await run(['users', 'devices', 'bob', '--config', cfg]);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^ID\s+NAME\s+IP\s+CREATED\s+LAST USED\s+EXPIRES$/);
    t.equal(lines.length, 3);
    t.match(listed.stdout, /Firefox on Linux\s+10\.0\.0\.1/);
    t.match(listed.stdout, /Safari on iOS\s+10\.0\.0\.2/);
    for (const id of ids) t.match(listed.stdout, id);

    const one = await run(['users', 'devices', 'bob', '--revoke', ids[0]!, '--config', cfg]);
    t.equal(one.code, 0, one.stderr);
    t.equal(one.stdout, `forgot trusted device ${ids[0]} of bob\n`);
    t.same((await devices.list('bob')).map((d) => d.id), [ids[1]]);
    t.equal(await devices.isTrusted('bob', 'device-a'), false, 'the gateway no longer trusts it');

    const unknown = await run(['users', 'devices', 'bob', '--revoke', '000000000000', '--config', cfg]);
    t.equal(unknown.code, 1);
    t.same(messages(unknown.stderr), ['portcullis users devices: bob has no trusted device 000000000000']);

    const all = await run(['users', 'devices', 'bob', '--all', '--config', cfg]);
    t.equal(all.stdout, 'forgot 1 trusted device of bob\n');
    t.equal(await devices.isTrusted('bob', 'device-b'), false);
    const none = await run(['users', 'devices', 'bob', '--config', cfg]);
    t.equal(none.stdout, 'bob has no trusted devices\n');
  });

  void t.test('users invite: the printed link sets the password and signs in without a code, once', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const r = await run(['users', 'invite', 'bob', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^http:\/\/portal\.test\/_gateway\/invite\/[A-Za-z0-9_-]{43}\n$/, 'one line: the link');
    t.match(messages(r.stderr), [/^one-time set-password link for bob, valid until /]);
    t.match(audits(r.stderr)[0], { event: 'invite_created', user: 'bob' });
    const path = new URL(r.stdout.trim()).pathname;

    const b = new Browser(stack.url);
    const page = await b.get(path);
    t.equal(page.status, 200);
    t.match(page.text, /value="bob"/);
    const done = await b.post(path, { password: 'a-new-bob-password', password_confirm: 'a-new-bob-password', csrf: b.csrf() });
    t.equal(done.status, 303);
    t.equal(done.location, '/');
    const app = await b.get('/cameras');
    t.equal(app.status, 200, 'signed in without a code');
    t.equal(app.json<{ headers: Record<string, string> }>().headers['remote-user'], 'bob');

    const other = new Browser(stack.url);
    t.equal((await other.get(path)).status, 410, 'the link works once');
    t.equal((await other.post(path, { password: 'another-password', password_confirm: 'another-password', csrf: 'x' })).status, 410);

    const next = await signIn(stack, 'bob', 'a-new-bob-password');
    t.equal(next.status, 303);
    t.match(next.location, /^\/_gateway\/verify/, 'the next sign-in asks for a code again');
    t.equal((await signIn(stack, 'bob', 'bob-password-1')).status, 401, 'the old password no longer works');
  });

  void t.test('users invite with SMTP mails the same link; no public_url prints a relative link', async (t) => {
    const { stack, config } = await setUp(t);
    const smtp = await startSmtp();
    t.teardown(() => smtp.stop());
    const cfg = await config('smtp.yaml', {
      delivery: { email: { transport: 'smtp', smtp: { host: '127.0.0.1', port: smtp.port, pool: false, timeout: '3s' }, from: 'Portcullis <no-reply@example.com>' } },
    });
    const r = await run(['users', 'invite', 'alice', '--config', cfg]);
    t.equal(r.code, 0, r.stderr);
    const link = r.stdout.trim();
    const mail = await smtp.waitFor((m) => /Set your .* password/.test(m.subject ?? ''), 5000);
    t.equal(smtp.envelopes[0]!.to[0], 'alice@example.com');
    t.equal(extractLink(mail), link, 'the mail carries the printed link');
    t.match(messages(r.stderr), [/valid until/, 'emailed to a***@example.com']);
    const page = await new Browser(stack.url).get(new URL(link).pathname);
    t.equal(page.status, 200);

    const relative = await config('relative.yaml', { server: { listen: '127.0.0.1:0' } });
    const rel = await run(['users', 'invite', 'alice', '--config', relative]);
    t.equal(rel.code, 0, rel.stderr);
    t.match(rel.stdout, /^\/_gateway\/invite\/[A-Za-z0-9_-]{43}\n$/);
    t.match(rel.stderr, /warning: server\.public_url is not set/);
    t.equal((await new Browser(stack.url).get(new URL(link).pathname)).status, 404, 'a new invite replaces the previous one');
    t.equal((await new Browser(stack.url).get(rel.stdout.trim())).status, 200);
  });

  void t.test('users invite with the mail server down: the link is printed, the failure said, exit 1', async (t) => {
    const { stack, config } = await setUp(t);
    const closed = await freePort();
    const cfg = await config('down.yaml', {
      delivery: { email: { transport: 'smtp', smtp: { host: '127.0.0.1', port: closed, pool: false, timeout: '2s' }, from: 'Portcullis <no-reply@example.com>' } },
    });
    const r = await run(['users', 'invite', 'bob', '--config', cfg]);
    t.equal(r.code, 1);
    t.match(r.stdout, /^http:\/\/portal\.test\/_gateway\/invite\/[A-Za-z0-9_-]{43}\n$/);
    t.match(messages(r.stderr).at(-1), /^portcullis users invite: the invite mail to b\*\*\*@example\.com could not be sent \(.+\); the link above works$/);
    t.equal((await new Browser(stack.url).get(new URL(r.stdout.trim()).pathname)).status, 200, 'the printed link works');
  });

  void t.test('users invite refuses unknown and disabled users', async (t) => {
    const { config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const [unknown, disabled] = await Promise.all([run(['users', 'invite', 'mallory', '--config', cfg]), run(['users', 'invite', 'carol', '--config', cfg])]);
    t.equal(unknown.code, 1);
    t.equal(unknown.stdout, '');
    t.same(messages(unknown.stderr), ["portcullis users invite: no user 'mallory' in the users file or directory"]);
    t.equal(disabled.code, 1);
    t.same(messages(disabled.stderr), ["portcullis users invite: 'carol' is disabled in the users file"]);
  });


  void t.test('users invite refuses LDAP users: their password lives in the directory', { skip: slapdAvailable() ? false : 'slapd not installed' }, async (t) => {
    const { config } = await setUp(t);
    const slapd = await startSlapd();
    t.teardown(() => slapd.stop());
    const cfg = await config('ldap.yaml', {
      users: {
        ldap: { url: slapd.url, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, base_dn: BASE_DN, timeout: '3s', pool_size: 1 },
      },
    });
    const r = await run(['users', 'invite', 'alice', '--config', cfg]);
    t.equal(r.code, 1, r.stderr);
    t.equal(r.stdout, '', 'no link');
    t.same(messages(r.stderr), ["portcullis users invite: 'alice' comes from LDAP: the password lives in that directory; set it there"]);
  });
}
