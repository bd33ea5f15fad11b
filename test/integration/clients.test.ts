/**
 * API clients through the whole gateway (SPEC §2 api_clients): each credential kind reaches the echo
 * upstream with Remote-User / Remote-Auth-Method and without its credential header (unless
 * keep_credential), and each kind of wrong credential is refused with 401 JSON, never the portal.
 */
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import t, { type Test } from 'tap';
import type { ConfigInput } from '../../src/config/schema/index.js';
import type { ManualClock } from '../../src/util/clock.js';
import { Browser, type Response } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { startEchoUpstream } from '../fixtures/upstream.js';

type Echo = { url: string; headers: Record<string, string | undefined> };

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const KEY_OLD = 'nvr-sync-key-2025-aaaaaaaaaaaaaaaa';
const KEY_NEW = 'nvr-sync-key-2026-bbbbbbbbbbbbbbbb';
const KEY_BRANCH = 'branch-office-key-cccccccccccccccc';
const KEY_DEBUG = 'debug-tool-key-dddddddddddddddddddd';
const ISS = 'https://idp.example.com';
const AUD = 'vms';
const HS_SECRET = 'partner-shared-secret-0123456789-abcdefgh';

interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

async function keyPair(kid: string, alg: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

/** RSA generation is slow: the file's keys, made once. */
const KEYS = Promise.all([keyPair('rsa-1', 'RS256'), keyPair('ec-2', 'ES256'), keyPair('file-1', 'ES256')]);

async function jwt(clock: ManualClock, key: KeyPair | Uint8Array, claims: JWTPayload = {}, o: { expIn?: number; alg?: string } = {}): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ groups: ['cams'], ...claims })
    .setProtectedHeader(key instanceof Uint8Array ? { alg: o.alg ?? 'HS256' } : { alg: key.alg, kid: key.kid })
    .setIssuer((claims.iss) ?? ISS)
    .setAudience((claims.aud as string | undefined) ?? AUD)
    .setSubject((claims.sub) ?? 'app-7')
    .setIssuedAt(now)
    .setExpirationTime(now + (o.expIn ?? 300))
    .sign(key instanceof Uint8Array ? key : key.privateKey);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A loopback JWKS endpoint whose keys the test changes (or turns off). */
async function jwksServer(t: Test, keys: JWK[]) {
  const state = { keys, hits: 0, down: false };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    if (state.down) {
      res.statusCode = 503;
      return res.end();
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function stackWith(t: Test, apiClients: unknown[], extra: Partial<ConfigInput> = {}): Promise<Stack & { other: Awaited<ReturnType<typeof startEchoUpstream>>; app: Awaited<ReturnType<typeof startEchoUpstream>> }> {
  const app = await startEchoUpstream();
  const other = await startEchoUpstream();
  const stack = await startStack({
    config: {
      ...extra,
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      upstreams: [
        { name: 'other', url: other.url, match: { path_prefix: '/other' } },
        { name: 'app', url: app.url },
      ],
      api_clients: apiClients as ConfigInput['api_clients'],
    },
  });
  t.teardown(async () => {
    await stack.close();
    await app.close();
    await other.close();
  });
  return Object.assign(stack, { app, other });
}

function call(stack: Stack, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return new Browser(stack.url).fetch(path, { headers: { accept: 'application/json', ...headers } });
}

/** A refusal as SPEC §3 wants it for machines: the status, JSON, WWW-Authenticate on 401, no portal redirect. */
function refused(t: Test, res: Response, status: number, label: string): void {
  t.equal(res.status, status, `${label}: ${status}`);
  t.match(res.headers['content-type'], /^application\/json/, `${label}: JSON`);
  t.equal(res.location, undefined, `${label}: not sent to the portal`);
  if (status === 401) {
    t.match(res.headers['www-authenticate'], /^Bearer/, `${label}: WWW-Authenticate`);
    t.match(res.json(), { error: 'unauthenticated' });
  }
}

function echoOf(t: Test, res: Response, label: string): Echo {
  t.equal(res.status, 200, `${label}: reached the upstream`);
  return res.json<Echo>();
}

void t.test('api_key, bearer_jwt (jwks_url, jwks_file, secret), basic and networks-only clients', async (t) => {
  const [rsa, , fileKey] = await KEYS;
  const jwks = await jwksServer(t, [rsa.publicJwk]);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [fileKey.publicJwk] }));
  const stack = await stackWith(
    t,
    [
      { name: 'nvr-sync', api_key: { sha256: [sha(KEY_OLD), sha(KEY_NEW)] }, upstreams: ['app'] },
      { name: 'branch-nvr', api_key: { header: 'X-API-Key', sha256: sha(KEY_BRANCH) }, networks: ['10.0.0.0/8'] },
      { name: 'debug-tool', api_key: { header: 'X-Debug-Key', sha256: sha(KEY_DEBUG) }, keep_credential: true },
      { name: 'mobile-backend', bearer_jwt: { jwks_url: jwks.url, issuer: ISS, audience: AUD, algorithms: ['RS256'] } },
      { name: 'file-idp', bearer_jwt: { jwks_file: jwksFile, issuer: 'https://file-idp.example.com' } },
      { name: 'partner', bearer_jwt: { secret: HS_SECRET, audience: 'partner-api' } },
      { name: 'legacy-export', basic: { users: ['svc'] }, upstreams: ['app'] },
      { name: 'office-nvr', networks: ['192.168.10.0/24'], upstreams: ['other'] },
    ],
    { regulation: { max_failures: 3 }, access: { rules: [{ paths: ['/health'], policy: 'bypass' }] } },
  );
  const clock = stack.clock as ManualClock;

  await t.test('api_key: every rotated key, the header removed, Remote-User = client name', async (t) => {
    for (const key of [KEY_OLD, KEY_NEW]) {
      const echo = echoOf(t, await call(stack, '/cameras', { 'x-api-key': key }), 'api key');
      t.equal(echo.headers['remote-user'], 'nvr-sync');
      t.equal(echo.headers['remote-auth-method'], 'api_key');
      t.equal(echo.headers['x-api-key'], undefined, 'the key is not forwarded');
    }
    const kept = echoOf(t, await call(stack, '/other/x', { 'x-debug-key': KEY_DEBUG }), 'keep_credential');
    t.equal(kept.headers['remote-user'], 'debug-tool');
    t.equal(kept.headers['x-debug-key'], KEY_DEBUG, 'keep_credential: true forwards the header');
  });

  await t.test('api_key headers are removed on bypass routes too, unless kept', async (t) => {
    const open = echoOf(t, await call(stack, '/health', { 'x-api-key': KEY_NEW, 'x-debug-key': KEY_DEBUG }), 'bypass route');
    t.equal(open.headers['x-api-key'], undefined, 'the key is not forwarded where no credential was needed');
    t.equal(open.headers['x-debug-key'], KEY_DEBUG, 'keep_credential: kept');
    t.equal(open.headers['remote-user'], undefined, 'no identity on a bypass route');
    const junk = echoOf(t, await call(stack, '/health', { 'x-api-key': 'whatever' }), 'bypass with a wrong key');
    t.equal(junk.headers['x-api-key'], undefined);
  });

  await t.test('api_key: wrong keys and restrictions', async (t) => {
    refused(t, await call(stack, '/cameras', { 'x-api-key': 'not-a-key' }), 401, 'unknown key');
    refused(t, await call(stack, '/cameras', { 'x-api-key': KEY_DEBUG }), 401, "another client's key under the wrong header");
    refused(t, await call(stack, '/cameras', { 'x-api-key': '' }), 401, 'empty key');
    refused(t, await call(stack, '/other/x', { 'x-api-key': KEY_NEW }), 403, 'nvr-sync is limited to the app upstream');
    refused(t, await call(stack, '/cameras', { 'x-api-key': KEY_BRANCH }), 403, 'branch-nvr from outside 10.0.0.0/8');
    const inside = echoOf(t, await call(stack, '/cameras', { 'x-api-key': KEY_BRANCH, 'x-forwarded-for': '10.4.5.6' }), 'branch-nvr from 10.4.5.6');
    t.equal(inside.headers['remote-user'], 'branch-nvr');
    const html = await call(stack, '/cameras', { 'x-api-key': 'not-a-key', accept: 'text/html' });
    t.equal(html.status, 401, 'a browser-looking request with a wrong key still gets 401, not the login page');
    t.equal(html.location, undefined);
    t.match(html.headers['content-type'], /^application\/json/, 'and JSON, even when it accepts HTML');
    t.equal(stack.app.seen.filter((s) => s.headers['x-api-key'] !== undefined).length, 0, 'no refused request reached the upstream');
    const audits = stack.logs.audits('api_client');
    t.ok(audits.some((l) => l.result === 'failure' && l.reason === 'unknown_api_key' && l.method === 'api_key' && l.client_ip === '127.0.0.1'), 'a wrong key is audited');
    t.ok(audits.some((l) => l.reason === 'network_not_allowed' && l.api_client === 'branch-nvr'), 'a restriction refusal is audited with the client');
    t.notMatch(stack.logs.raw, /not-a-key|branch-office-key/, 'keys are never logged');
  });

  await t.test('bearer_jwt: jwks_url, jwks_file and secret tokens; Authorization removed', async (t) => {
    const echo = echoOf(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa)}` }), 'jwks_url token');
    t.equal(echo.headers['remote-user'], 'app-7', 'Remote-User = the subject');
    t.equal(echo.headers['remote-groups'], 'cams');
    t.equal(echo.headers['remote-auth-method'], 'bearer_jwt');
    t.equal(echo.headers.authorization, undefined, 'the JWT is not forwarded');
    const fromFile = echoOf(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, fileKey, { iss: 'https://file-idp.example.com', sub: 'kiosk-3' })}` }), 'jwks_file token');
    t.equal(fromFile.headers['remote-user'], 'kiosk-3');
    const hs = new TextEncoder().encode(HS_SECRET);
    const partner = echoOf(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, hs, { aud: 'partner-api', sub: 'partner-42' })}` }), 'HS256 secret token');
    t.equal(partner.headers['remote-user'], 'partner-42');
    t.equal(partner.headers['remote-auth-method'], 'bearer_jwt');
  });

  await t.test('bearer_jwt: expired, wrong audience, alg none, HS256 signed with the RSA public key, tampered', async (t) => {
    const expired = await jwt(clock, rsa, {}, { expIn: -60 });
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${expired}` }), 401, 'expired');
    const withinLeeway = await jwt(clock, rsa, {}, { expIn: -10 });
    t.equal((await call(stack, '/cameras', { authorization: `Bearer ${withinLeeway}` })).status, 200, 'expired 10 s ago: within the 30 s leeway');
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa, { aud: 'someone-else' })}` }), 401, 'wrong audience');
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa, { iss: 'https://evil.example.com' })}` }), 401, 'wrong issuer');
    const now = Math.floor(clock.now() / 1000);
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin', iss: ISS, aud: AUD, exp: now + 300 })}.`;
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${none}` }), 401, 'alg none');
    const confused = await jwt(clock, new TextEncoder().encode(rsa.publicPem), { sub: 'admin' });
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${confused}` }), 401, 'HS256 signed with the RSA public key');
    const good = await jwt(clock, rsa);
    const [h, p] = good.split('.');
    const tampered = `${h}.${b64url({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin' })}.${good.split('.')[2]}`;
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${tampered}` }), 401, 'tampered payload');
    const future = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(ISS).setAudience(AUD).setNotBefore(now + 600).setExpirationTime(now + 900).sign(rsa.privateKey);
    refused(t, await call(stack, '/cameras', { authorization: `Bearer ${future}` }), 401, 'not yet valid (nbf)');
    t.notOk(stack.app.seen.some((s) => s.headers['remote-user'] === 'admin'), 'none of them reached the upstream');
  });

  await t.test('basic: listed user accepted and cached; wrong passwords refused then regulated (429)', async (t) => {
    const dir = stack.gateway.gateway.core.directory;
    const original = dir.authenticate.bind(dir);
    let checks = 0;
    dir.authenticate = (u: string, p: string) => {
      checks++;
      return original(u, p);
    };
    t.teardown(() => {
      dir.authenticate = original;
    });
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    for (let i = 0; i < 3; i++) {
      const echo = echoOf(t, await call(stack, '/export', basic('svc', 'svc-password-1')), `basic #${i + 1}`);
      t.equal(echo.headers['remote-user'], 'svc');
      t.equal(echo.headers['remote-groups'], 'service');
      t.equal(echo.headers['remote-auth-method'], 'basic');
      t.equal(echo.headers.authorization, undefined, 'the password is not forwarded');
    }
    t.equal(checks, 1, 'one directory check for three requests (cached by keyed hash)');
    refused(t, await call(stack, '/other/export', basic('svc', 'svc-password-1')), 403, 'legacy-export is limited to the app upstream');

    const unlisted = await call(stack, '/export', basic('alice', 'alice-password-1'));
    t.equal(unlisted.status, 401, 'a user no client lists gets no Basic access (the portal user needs a second factor)');
    t.equal(unlisted.json<Echo>().headers, undefined);

    checks = 0;
    for (let i = 0; i < 3; i++) refused(t, await call(stack, '/export', basic('svc', `wrong-${i}`)), 401, `wrong password #${i + 1}`);
    t.equal(checks, 3, 'failures are never cached');
    const blocked = await call(stack, '/export', basic('svc', 'wrong-again'));
    refused(t, blocked, 429, 'regulated like sign-in');
    t.match(blocked.json(), { error: 'rate_limited' });
    t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After');
    t.equal(checks, 3, 'no directory check while blocked');
    const audits = stack.logs.audits('api_client').filter((l) => l.method === 'basic');
    t.equal(audits.filter((l) => l.result === 'success').length, 1, 'one success audited (the directory check, not the cache hits)');
    t.equal(audits.filter((l) => l.reason === 'invalid_credentials' && l.user === 'svc').length, 3, 'each wrong password audited');
    t.ok(audits.some((l) => l.reason === 'rate_limited' && l.user === 'svc'));
    t.notMatch(stack.logs.raw, /svc-password-1|wrong-again/, 'passwords are never logged');
    const signIn = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: 'svc', password: 'svc-password-1' });
    t.equal(signIn.status, 429, 'the same counters as the portal and the JSON API');
    clock.advance(5 * 60_000 + 1000);
    const uncached = await call(stack, '/export', basic('svc', 'svc-password-1'));
    t.equal(uncached.status, 200, 'after the block (and the cache entry) ran out');
  });

  await t.test('networks-only client: an IP allowlist for its upstream only', async (t) => {
    const echo = echoOf(t, await call(stack, '/other/status', { 'x-forwarded-for': '192.168.10.20' }), 'office-nvr by address');
    t.equal(echo.headers['remote-user'], 'office-nvr');
    t.equal(echo.headers['remote-auth-method'], 'network');
    refused(t, await call(stack, '/cameras', { 'x-forwarded-for': '192.168.10.20' }), 401, 'not for the app upstream');
    refused(t, await call(stack, '/other/status', { 'x-forwarded-for': '192.168.11.20' }), 401, 'another address');
    refused(t, await call(stack, '/other/status'), 401, 'loopback, no credential');
  });

  await t.test('missing credentials: 401 JSON for machines; browsers still get the portal', async (t) => {
    refused(t, await call(stack, '/cameras'), 401, 'no credential');
    const browser = await new Browser(stack.url).get('/cameras');
    t.equal(browser.status, 302, 'a browser navigation without any credential goes to the login page');
  });
});

void t.test('bearer_jwt: JWKS rotation — a new kid is fetched (after the cooldown) and the retired key refused', async (t) => {
  const [rsa, ec] = await KEYS;
  const jwks = await jwksServer(t, [rsa.publicJwk]);
  const stack = await stackWith(t, [{ name: 'mobile-backend', bearer_jwt: { jwks_url: jwks.url, issuer: ISS, audience: AUD } }]);
  const clock = stack.clock as ManualClock;
  t.equal((await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa)}` })).status, 200);
  t.equal((await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa)}` })).status, 200);
  t.equal(jwks.hits, 1, 'the key set is cached');

  jwks.keys = [ec.publicJwk];
  const rotated = await jwt(clock, ec);
  refused(t, await call(stack, '/cameras', { authorization: `Bearer ${rotated}` }), 401, 'an unknown kid right after a fetch: no refetch storm');
  t.equal(jwks.hits, 1, 'bounded refresh: no refetch within the cooldown');
  // jose times its cooldown with Date.now: step the wall clock past the 30 s cooldown.
  const realNow = Date.now;
  const skew = 31_000;
  Date.now = () => realNow() + skew;
  t.teardown(() => {
    Date.now = realNow;
  });
  const echo = echoOf(t, await call(stack, '/cameras', { authorization: `Bearer ${rotated}` }), 'the new key after rotation');
  t.equal(echo.headers['remote-user'], 'app-7');
  t.equal(jwks.hits, 2, 'one refetch');
  refused(t, await call(stack, '/cameras', { authorization: `Bearer ${await jwt(clock, rsa)}` }), 401, 'the retired key');
  Date.now = realNow;
});

void t.test('bearer_jwt: JWKS endpoint down → 401, never 500 and never a pass', async (t) => {
  const [rsa] = await KEYS;
  const port = await closedPort();
  const stack = await stackWith(t, [{ name: 'mobile-backend', bearer_jwt: { jwks_url: `http://127.0.0.1:${port}/jwks.json`, issuer: ISS, audience: AUD } }]);
  const clock = stack.clock as ManualClock;
  const token = await jwt(clock, rsa);
  refused(t, await call(stack, '/cameras', { authorization: `Bearer ${token}` }), 401, 'connection refused');
  refused(t, await call(stack, '/cameras', { authorization: `Bearer ${token}` }), 401, 'still refused while backing off');

  const jwks = await jwksServer(t, [rsa.publicJwk]);
  jwks.down = true;
  const stack2 = await stackWith(t, [{ name: 'mobile-backend', bearer_jwt: { jwks_url: jwks.url, issuer: ISS, audience: AUD } }]);
  refused(t, await call(stack2, '/cameras', { authorization: `Bearer ${await jwt(stack2.clock as ManualClock, rsa)}` }), 401, 'endpoint answers 503');
  t.equal(stack.app.seen.length + stack2.app.seen.length, 0, 'nothing reached the upstream');
  jwks.down = false;
  (stack2.clock as ManualClock).advance(10_001);
  t.equal((await call(stack2, '/cameras', { authorization: `Bearer ${await jwt(stack2.clock as ManualClock, rsa)}` })).status, 200, 'recovers after the backoff');
});
