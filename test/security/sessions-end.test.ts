/**
 * Issue 17 #2, "sessions that should end do not": `disabled: true` in the users file, `users reset-2fa U`
 * and `sessions revoke --user U` each end every session and trusted device of the user, on every
 * instance, within a second. Two gateways on one Redis; the operator commands run as a third instance.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { Browser } from '../fixtures/browser.js';
import { SECRET, type TestUser } from '../fixtures/gateway.js';
import { startRedis } from '../fixtures/redis.js';
import { inProcess } from '../cli/operator-helpers.js';
import { mailedCode, postCode, postPassword, startMailStack, toVerifyPage, type MailStack } from '../fixtures/second-factor.js';
import { SessionLookup } from '../../src/auth/session-lookup.js';
import { configSchema } from '../../src/config/schema/index.js';
import { SessionManager } from '../../src/session/sessions.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { hashPassword } from '../../src/users/password.js';

const users = (n: string): TestUser => ({ password: `${n}-password-1`, email: `${n}@example.com`, groups: [] });
const USERS: Record<string, TestUser> = { dave: users('dave'), erin: users('erin'), fay: users('fay'), hank: users('hank') };

const redis = await startRedis();
t.teardown(() => redis.stop());
const config = { session: { store: 'redis' as const, redis: { url: redis.url, key_prefix: 's17:' } } };
const a: MailStack = await startMailStack({ users: USERS, config });
t.teardown(() => a.close());
const b: MailStack = await startMailStack({ users: USERS, config });
t.teardown(() => b.close());

/** Signs in with the emailed code on `stack`, trusting the browser; answers the browser and a bearer token from B. */
async function signedIn(stack: MailStack, user: string, browser = new Browser(stack.url)): Promise<Browser> {
  await toVerifyPage(browser, user, `${user}-password-1`);
  const res = await postCode(browser, await mailedCode(stack, `${user}@example.com`), '/', { remember_device: '1' });
  if (res.status !== 303 || res.location !== '/') throw new Error(`sign-in of ${user}: ${res.status} ${res.location ?? ''}`);
  return browser;
}

async function bearer(stack: MailStack, user: string): Promise<string> {
  const login = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: user, password: `${user}-password-1` });
  const flow = login.json<{ flow: string }>().flow;
  const done = await new Browser(stack.url).json('/_gateway/api/v1/verify', { flow, code: await mailedCode(stack, `${user}@example.com`) });
  if (done.status !== 200) throw new Error(`API sign-in of ${user}: ${done.status} ${done.text}`);
  return done.json<{ token: string }>().token;
}

async function status(url: string, headers: Record<string, string>): Promise<number> {
  const r = await request(`${url}/x`, { headers: { accept: 'application/json', ...headers } });
  await r.body.dump();
  return r.statusCode;
}

/** Polls for up to a second (SPEC §4: a revocation is seen by all instances within one second). */
async function withinASecond(check: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

async function cliConfig(): Promise<string> {
  const file = join(a.dir, 'cli.yaml');
  await writeFile(file, stringify({ server: { listen: '127.0.0.1:0' }, session: { store: 'redis', secret: SECRET, redis: { url: redis.url, key_prefix: 's17:' } }, users: { file: a.usersFile }, upstreams: [{ name: 'app', url: a.upstream.url }] }));
  return file;
}

/** Rewrites A's users file (only A's: B learns of what it causes through the store). */
async function writeUsers(o: { disabled?: string; removed?: string }): Promise<void> {
  const doc: Record<string, Record<string, unknown>> = {};
  for (const [name, u] of Object.entries(USERS)) {
    if (name === o.removed) continue;
    const { password, ...rest } = u;
    doc[name] = { ...rest, password: await hashPassword(password, 'argon2id'), ...(name === o.disabled || name === 'dave' ? { disabled: true } : {}) };
  }
  await writeFile(a.usersFile, stringify({ users: doc }));
}

/** Cookie on A and B and a bearer token on A and B: all four refused. */
async function allRefused(br: Browser, token: string): Promise<boolean> {
  const cookie = { cookie: br.cookieHeader() };
  const auth = { authorization: `Bearer ${token}` };
  const answers = await Promise.all([status(a.url, cookie), status(b.url, cookie), status(a.url, auth), status(b.url, auth)]);
  return answers.every((s) => s === 401);
}

void t.test('`disabled: true` in the users file ends every session (cookie and bearer, both instances) and trusted device within a second', async (t) => {
  const br = await signedIn(a, 'dave');
  const token = await bearer(b, 'dave');
  t.equal(await status(b.url, { cookie: br.cookieHeader() }), 200, 'before: the cookie works on B');
  t.equal(await status(a.url, { authorization: `Bearer ${token}` }), 200, 'before: the token works on A');
  t.equal((await a.gateway.gateway.core.devices.list('dave')).length, 1, 'before: a trusted device');
  await writeUsers({ disabled: 'dave' }); // only A's file: B learns through the store
  t.ok(await withinASecond(() => allRefused(br, token)), 'cookie and bearer refused on A and on B');
  t.same(await b.gateway.gateway.core.devices.list('dave'), [], 'the trusted device is forgotten');
});

void t.test('a user removed from the users file (and known to no other directory) is ended the same way', async (t) => {
  const br = await signedIn(a, 'hank');
  const token = await bearer(b, 'hank');
  await writeUsers({ removed: 'hank' });
  t.ok(await withinASecond(() => allRefused(br, token)), 'cookie and bearer refused on A and on B');
  t.same(await b.gateway.gateway.core.devices.list('hank'), [], 'the trusted device is forgotten');
  // The refusal is immediate (lookups check the directory); the revocation and its audit follow it.
  t.ok(await withinASecond(() => Promise.resolve(a.logs.audits('sessions_revoked').some((l) => l.user === 'hank' && l.reason === 'removed'))), 'audited with reason removed');
});

void t.test('`users reset-2fa U` ends every session of the user on every instance within a second', async (t) => {
  const br = await signedIn(a, 'erin');
  const token = await bearer(b, 'erin');
  const out = await inProcess(['users', 'reset-2fa', 'erin', '--config', await cliConfig()]);
  t.equal(out.code, 0, out.stderr);
  t.ok(await withinASecond(() => allRefused(br, token)), 'cookie and bearer refused on A and on B');
  t.same(await b.gateway.gateway.core.devices.list('erin'), [], 'the trusted device is forgotten');
});

void t.test('`sessions revoke --user U` also forgets the trusted device: the same browser is asked for the second step again', async (t) => {
  const br = await signedIn(a, 'fay');
  const token = await bearer(b, 'fay');
  const out = await inProcess(['sessions', 'revoke', '--user', 'fay', '--config', await cliConfig()]);
  t.equal(out.code, 0, out.stderr);
  t.ok(await withinASecond(() => allRefused(br, token)), 'cookie and bearer refused on A and on B');
  // The same browser (its device cookie kept) signs in again on B: no skipping the second step.
  const again = new Browser(b.url);
  for (const [k, v] of br.cookies) if (k !== 'portcullis_session') again.cookies.set(k, v);
  t.ok(again.cookies.has('portcullis_device'), 'the browser keeps its device cookie');
  const res = await postPassword(again, 'fay', 'fay-password-1');
  t.equal(res.status, 303);
  t.match(res.location, /^\/_gateway\/verify/, 'asked for the second factor again');
});

void t.test('the lookup itself refuses a session of a user the directory marks disabled (before any revocation ran)', async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const cfg = configSchema.parse({ session: { store: 'memory', secret: SECRET }, upstreams: [{ name: 'app', url: 'http://127.0.0.1:1' }] });
  const sessions = new SessionManager(store, cfg.session);
  t.teardown(() => sessions.close());
  const issued = await sessions.create({ user: 'gina', groups: [], authenticatedAt: 0, factors: [], level: 'two_factor' });
  let disabled = false;
  const lookup = new SessionLookup(sessions, () => 'portcullis_session', (u) => disabled && u === 'gina');
  t.ok(await lookup.find({ cookie: `portcullis_session=${issued.cookie}` }), 'enabled: found by cookie');
  disabled = true;
  t.equal(await lookup.find({ cookie: `portcullis_session=${issued.cookie}` }), undefined, 'disabled: the cookie finds nothing');
  t.equal(await lookup.find({ authorization: `Bearer ${issued.cookie}` }), undefined, 'disabled: the bearer token finds nothing');
});
