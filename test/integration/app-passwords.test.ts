/**
 * App passwords for legacy mobile apps (issue 16; SPEC §3): made on the account page and shown once,
 * accepted as HTTP Basic only by rules with `app_passwords: true` (never forwarded), never at the portal
 * sign-in form, through the JSON API login with `app_password: true` as a token good only on such rules,
 * revocable, ended by a password change, throttled like passwords.
 */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'undici';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type TestUser } from '../fixtures/gateway.js';
import { hashPassword } from '../../src/users/password.js';
import { formIds, outboxCode, passwordStep } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};

function appStack(enabled = true): Promise<Stack> {
  return startStack({
    users: USERS,
    config: {
      second_factor: { methods: ['email', 'recovery_code'], app_passwords: { enabled } },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/mobile', '/mobile/**'], policy: 'two_factor', app_passwords: true }] },
    },
  });
}

async function signIn(stack: Stack): Promise<Browser> {
  const b = new Browser(stack.url);
  const posted = await passwordStep(b, 'alice', 'alice-password-1', '/');
  await b.get(posted.location!);
  const done = await b.post('/_gateway/verify', { code: outboxCode(stack, 'alice@example.com'), csrf: b.csrf(), rd: '/' });
  if (done.status !== 303) throw new Error(`sign-in answered ${done.status}`);
  return b;
}

async function create(b: Browser, name: string): Promise<string> {
  await b.get('/_gateway/account');
  const page = await b.post('/_gateway/account/app-passwords', { name, csrf: b.csrf() });
  const m = /<code id="app-password" class="secret">([a-z2-7-]+)<\/code>/.exec(page.text);
  if (page.status !== 200 || !m) throw new Error(`no app password shown (${page.status})`);
  return m[1]!;
}

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

async function get(stack: Stack, path: string, headers: Record<string, string>): Promise<number> {
  const res = await request(`${stack.url}${path}`, { headers: { accept: 'application/json', ...headers } });
  await res.body.dump();
  return res.statusCode;
}

void t.test('made on the account page, shown once; Basic passes only on app_passwords rules and is never forwarded', async (t) => {
  const stack = await appStack();
  t.teardown(() => stack.close());
  const b = await signIn(stack);
  const account = await b.get('/_gateway/account');
  t.match(account.text, /App passwords/);
  const secret = await create(b, 'VMS Mobile');
  t.match(secret, /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/, '24 base32 characters (120 bits) in groups');
  t.notMatch(stack.logs.raw, new RegExp(secret.replace(/-/g, '-?')), 'never logged');
  const listed = await b.get('/_gateway/account');
  t.match(listed.text, /VMS Mobile/);
  t.notMatch(listed.text, new RegExp(secret), 'not shown again');
  t.match(listed.text, /Not used yet/);

  t.equal(await get(stack, '/mobile/live', { authorization: basic('alice', secret) }), 200);
  const seen = stack.upstream.seen.at(-1)!.headers;
  t.equal(seen['remote-user'], 'alice');
  t.equal(seen['remote-auth-method'], 'app_password');
  t.equal(seen.authorization, undefined, 'the app password is never forwarded');
  t.equal(await get(stack, '/mobile/live', { authorization: basic('alice', secret.toUpperCase().replace(/-/g, ' ')) }), 200, 'case, spaces and dashes do not matter');
  t.equal(await get(stack, '/cams', { authorization: basic('alice', secret) }), 401, 'a rule without app_passwords does not take it');
  t.equal(await get(stack, '/mobile/live', { authorization: basic('alice', 'wrong-wrong-wrong') }), 401);
  t.equal(await get(stack, '/mobile/live', { authorization: basic('bob', secret) }), 401, 'another user name');
  t.match((await b.get('/_gateway/account')).text, /Last used/, 'last use listed');

  const portal = new Browser(stack.url);
  const atPortal = await passwordStep(portal, 'alice', secret, '/');
  t.not(atPortal.status, 303, 'never at the portal sign-in form');
  t.notOk(portal.cookies.get('portcullis_session'));
});

void t.test('the JSON API login with app_password: true gives a token good only on app_passwords rules; removing it ends the token', async (t) => {
  const stack = await appStack();
  t.teardown(() => stack.close());
  const b = await signIn(stack);
  const secret = await create(b, 'Old phone app');
  const api = new Browser(stack.url);
  const wrong = await api.json('/_gateway/api/v1/login', { username: 'alice', password: 'nope', app_password: true });
  t.equal(wrong.status, 401);
  const login = await api.json('/_gateway/api/v1/login', { username: 'alice', password: secret, app_password: true });
  t.equal(login.status, 200);
  const token = login.json<{ status: string; token: string }>();
  t.equal(token.status, 'authenticated', 'no second step');
  const bearer = { authorization: `Bearer ${token.token}` };
  t.equal(await get(stack, '/mobile/x', bearer), 200);
  t.equal(await get(stack, '/cams', bearer), 403, 'not where app passwords are not allowed');
  const plain = await api.json('/_gateway/api/v1/login', { username: 'alice', password: secret });
  t.not(plain.json<{ status?: string }>().status, 'authenticated', 'without app_password: true it is not a password');

  const page = await b.get('/_gateway/account');
  const [id] = formIds(page.text, '/_gateway/account/app-passwords/remove');
  const removed = await b.post('/_gateway/account/app-passwords/remove', { id: id!, csrf: b.csrf() });
  t.equal(removed.location, '/_gateway/account?notice=app_password_removed');
  t.equal(await get(stack, '/mobile/x', { authorization: basic('alice', secret) }), 401, 'removed: Basic refused');
  t.equal(await get(stack, '/mobile/x', bearer), 401, 'removed: the token made from it ended');
});

void t.test('a password change in the users file ends every app password', async (t) => {
  const stack = await appStack();
  t.teardown(() => stack.close());
  const b = await signIn(stack);
  const secret = await create(b, 'App');
  t.equal(await get(stack, '/mobile/x', { authorization: basic('alice', secret) }), 200);
  const text = await readFile(stack.usersFile, 'utf8');
  const oldHash = /password: (\S+)/.exec(text)![1]!;
  await writeFile(stack.usersFile, text.replace(oldHash, JSON.stringify(await hashPassword('alice-new-password-2', 'argon2id'))));
  let status = 200;
  for (let i = 0; i < 150 && status === 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    status = await get(stack, '/mobile/x', { authorization: basic('alice', secret) });
  }
  t.equal(status, 401, 'refused after the password changed');
  t.equal((await b.get('/_gateway/account')).status, 303, 'the browser session ended too');
});

void t.test('throttled like passwords: once blocked, even the right app password gets 429', async (t) => {
  const stack = await appStack();
  t.teardown(() => stack.close());
  const b = await signIn(stack);
  const secret = await create(b, 'App');
  let status = 0;
  let tries = 0;
  while (status !== 429 && tries < 40) {
    status = await get(stack, '/mobile/x', { authorization: basic('alice', `wrong-${tries}`) });
    tries++;
  }
  t.equal(status, 429, `blocked after ${tries} wrong guesses`);
  t.equal(await get(stack, '/mobile/x', { authorization: basic('alice', secret) }), 429, 'the right one gets 429 while blocked (no oracle)');
});

void t.test('operators can turn app passwords off (the default)', async (t) => {
  const stack = await appStack(false);
  t.teardown(() => stack.close());
  const b = await signIn(stack);
  const page = await b.get('/_gateway/account');
  t.notMatch(page.text, /App passwords/);
  const made = await b.post('/_gateway/account/app-passwords', { name: 'x', csrf: b.csrf() });
  t.equal(made.status, 400);
});
