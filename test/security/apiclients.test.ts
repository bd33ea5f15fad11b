/**
 * Adversarial table: API-client credentials (issue 12, RFC 8725; issue 17 item 1) at every entrance a
 * machine reaches the gateway through — the built-in proxy, a WebSocket upgrade, /_gateway/authz with a
 * bare path and with a full URL, and Traefik/Caddy's forward-auth.
 *
 * JWT rows: every token is refused (401), the upstream sees nothing, the body never names the reason
 * (that goes to the audit line), and a key URL in the token header is never fetched. Basic rows: the
 * cached right password does not pass while the user is blocked (429 for every attempt), a listed user
 * with a wrong password and a user no client lists get the same answer, refusals say nothing specific.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, KeyObject, sign as rsaSign } from 'node:crypto';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload, type JWK, type CryptoKey } from 'jose';
import t from 'tap';
import { startStack } from '../fixtures/gateway.js';
import type { ManualClock } from '../../src/util/clock.js';
import { ENTRANCES, comparableBody, comparableHeaders, passed, through } from './tables.js';

const ISS = 'https://issuer.example.com';
const AUD = 'portcullis';
/** Words a refusal body must never carry: the exact reason is logged, not told. */
const REASON_WORDS = /algorithm|claim_|signature|expired|malformed|no_matching_key|too_long|unknown_api_key|network_not_allowed|upstream_not_allowed|invalid_credentials|invalid_token|subject|jwks|rate_limited_user/i;

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

void t.test('API-client attacks at every entrance', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const attacker = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const publicPem = await exportSPKI(publicKey);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwt-'));
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [publicJwk] }));

  // A server a forged `jku`/`x5u` points at: it must never be asked.
  let keyFetches = 0;
  const keyHost: Server = createServer((_req, res) => {
    keyFetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [] }));
  });
  keyHost.listen(0, '127.0.0.1');
  await once(keyHost, 'listening');
  const keyUrl = `http://127.0.0.1:${(keyHost.address() as AddressInfo).port}/jwks.json`;

  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor' },
      regulation: { max_failures: 3, max_failures_per_client: 1000, window: '10m', block: '5m' },
      api_clients: [
        { name: 'mobile', bearer_jwt: { jwks_file: jwksFile, issuer: ISS, audience: AUD, leeway: '30s' } },
        { name: 'nvr', basic: { users: ['svc'], cache_ttl: '10m' } },
        { name: 'exporter', api_key: { header: 'X-API-Key', sha256: createHash('sha256').update('exporter-key-0123456789').digest('hex') } },
        { name: 'lan-only', api_key: { header: 'X-Lan-Key', sha256: createHash('sha256').update('lan-key-0123456789').digest('hex') }, networks: ['10.0.0.0/8'] },
      ],
    },
  });
  const clock = stack.clock as ManualClock;
  t.teardown(async () => {
    await stack.close();
    keyHost.close();
    await rm(dir, { recursive: true, force: true });
  });

  const now = () => Math.floor(clock.now() / 1000);
  const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: ISS, aud: AUD, sub: 'camera-7', iat: now(), exp: now() + 300, ...extra });
  const signWith = (key: CryptoKey | Uint8Array, header: Record<string, unknown>, payload: JWTPayload): Promise<string> =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(key);
  const good = (payload: JWTPayload = claims(), header: Record<string, unknown> = {}) => signWith(privateKey, { kid: 'k1', ...header }, payload);
  /** A token whose signature is whatever `sig` is (for `alg: none` and hand-made headers). */
  const unsigned = (header: Record<string, unknown>, payload: unknown, sig = '') => `${b64url(header)}.${b64url(payload)}.${sig}`;

  /** RS256 by hand (jose will not sign a header it would not accept, such as an unknown `crit`). */
  const byHand = (header: Record<string, unknown>, payload: unknown) => {
    const input = `${b64url(header)}.${b64url(payload)}`;
    return `${input}.${rsaSign('sha256', Buffer.from(input), KeyObject.from(privateKey)).toString('base64url')}`;
  };
  const bearer = (token: string): Array<[string, string]> => [['Authorization', `Bearer ${token}`]];

  await t.test('control: a valid token passes at every entrance', async (t) => {
    for (const entrance of ENTRANCES) t.ok(passed(entrance, await through(stack, entrance, '/ws', bearer(await good()))), entrance);
  });

  const goodToken = await good();
  const [goodHead, goodBody, goodSig] = goodToken.split('.') as [string, string, string];
  const flipped = goodSig.slice(0, -2) + (goodSig.at(-2) === 'A' ? 'B' : 'A') + goodSig.at(-1)!;
  const rows: Array<{ name: string; token: () => Promise<string> | string; notJwt?: boolean }> = [
    { name: 'alg none, no signature', token: () => unsigned({ alg: 'none', typ: 'JWT' }, claims()) },
    { name: 'alg None (case), no signature', token: () => unsigned({ alg: 'None', kid: 'k1' }, claims()) },
    { name: 'alg none with the good signature kept', token: () => unsigned({ alg: 'none', kid: 'k1' }, claims(), goodSig) },
    { name: 'HS256 signed with the PEM public key as secret (alg confusion)', token: () => signWith(new TextEncoder().encode(publicPem), { alg: 'HS256', kid: 'k1' }, claims()) },
    { name: 'HS256 signed with the JWK JSON as secret', token: () => signWith(new TextEncoder().encode(JSON.stringify(publicJwk)), { alg: 'HS256', kid: 'k1' }, claims()) },
    { name: 'HS256 signed with the modulus as secret', token: () => signWith(Buffer.from(publicJwk.n!, 'base64url'), { alg: 'HS256', kid: 'k1' }, claims()) },
    { name: 'signed by another key under kid k1', token: () => signWith(attacker.privateKey, { kid: 'k1' }, claims()) },
    { name: 'kid path traversal', token: () => signWith(new TextEncoder().encode(''.padEnd(32, '\0')), { alg: 'HS256', kid: '../../../../../../dev/null' }, claims()) },
    { name: 'kid SQL injection', token: () => signWith(attacker.privateKey, { kid: "x' UNION SELECT 'k1" }, claims()) },
    { name: 'kid of a file path', token: () => signWith(attacker.privateKey, { kid: jwksFile }, claims()) },
    { name: 'jku pointing at an attacker key set', token: () => signWith(attacker.privateKey, { kid: 'evil', jku: keyUrl }, claims()) },
    { name: 'x5u pointing at an attacker certificate', token: () => signWith(attacker.privateKey, { kid: 'evil', x5u: keyUrl }, claims()) },
    { name: 'embedded jwk of the attacker', token: async () => signWith(attacker.privateKey, { jwk: await exportJWK(attacker.publicKey) }, claims()) },
    { name: 'crit with an unknown extension', token: () => byHand({ alg: 'RS256', kid: 'k1', crit: ['x-portcullis'], 'x-portcullis': true }, claims()) },
    { name: 'crit naming exp', token: () => byHand({ alg: 'RS256', kid: 'k1', crit: ['exp'] }, claims()) },
    { name: 'flipped signature bits', token: () => `${goodHead}.${goodBody}.${flipped}` },
    { name: 'payload swapped under a valid signature', token: () => `${goodHead}.${b64url(claims({ sub: 'admin' }))}.${goodSig}` },
    { name: 'truncated signature', token: () => `${goodHead}.${goodBody}.${goodSig.slice(0, 40)}` },
    { name: 'expired beyond the leeway', token: () => good(claims({ exp: now() - 60 })) },
    { name: 'no exp', token: () => good({ iss: ISS, aud: AUD, sub: 'camera-7', iat: now() }) },
    { name: 'exp as a string', token: () => good(claims({ exp: String(now() + 300) as unknown as number })) },
    { name: 'nbf in the future beyond the leeway', token: () => good(claims({ nbf: now() + 120 })) },
    { name: 'iat not a number', token: () => good(claims({ iat: 'yesterday' as unknown as number })) },
    { name: 'aud mismatch', token: () => good(claims({ aud: 'other-service' })) },
    { name: 'aud missing', token: () => good({ iss: ISS, sub: 'camera-7', exp: now() + 300 }) },
    { name: 'iss mismatch', token: () => good(claims({ iss: 'https://issuer.example.com.evil.com' })) },
    { name: 'iss missing', token: () => good({ aud: AUD, sub: 'camera-7', exp: now() + 300 }) },
    { name: 'subject with a newline (header injection)', token: () => good(claims({ sub: 'cam\r\nRemote-User: admin' })) },
    { name: 'nested JWT (cty JWT: a valid token signed again by the real key)', token: () => new CompactSign(new TextEncoder().encode(goodToken)).setProtectedHeader({ alg: 'RS256', kid: 'k1', cty: 'JWT' }).sign(privateKey) },
    { name: 'nested JWT as the raw payload', token: () => `${b64url({ alg: 'RS256', kid: 'k1', cty: 'JWT' })}.${b64url(goodToken)}.${goodSig}` },
    { name: 'huge token (12 kB, attacker key)', token: () => signWith(attacker.privateKey, { kid: 'k1' }, claims({ pad: 'x'.repeat(8_500) })) },
    { name: 'huge header (forged kid of 8 kB)', token: () => unsigned({ alg: 'RS256', kid: 'k'.repeat(8000) }, claims(), goodSig) },
    { name: 'not base64url', token: () => `${goodHead}.${goodBody}!.${goodSig}`, notJwt: true },
    { name: 'header not JSON', token: () => `${b64url('{alg:RS256')}.${goodBody}.${goodSig}` },
  ];

  for (const row of rows) {
    await t.test(`JWT: ${row.name}`, async (t) => {
      const token = await row.token();
      for (const entrance of ENTRANCES) {
        const seen = stack.upstream.seen.length;
        const audits = stack.logs.audits('api_client').length;
        const res = await through(stack, entrance, '/ws', bearer(token));
        t.notOk(passed(entrance, res), `${entrance}: not let through (${res.status})`);
        t.equal(res.status, 401, `${entrance}: 401`);
        t.notMatch(res.body, REASON_WORDS, `${entrance}: the body names no reason`);
        t.equal(stack.upstream.seen.length, seen, `${entrance}: the upstream saw nothing`);
        const logged = stack.logs.audits('api_client').slice(audits);
        // Not JWT-shaped: read as the gateway's own session token, which it is not (no session, nothing to audit).
        if (!row.notJwt) t.ok(logged.some((l) => l.result === 'failure' && typeof l.reason === 'string'), `${entrance}: the reason is in the audit log`);
      }
    });
  }

  await t.test('no key URL from a token header was ever fetched', (t) => {
    t.equal(keyFetches, 0);
    t.end();
  });

  await t.test('API keys: unknown key 401 and a key from the wrong network 403, bodies generic', async (t) => {
    for (const entrance of ENTRANCES) {
      const unknown = await through(stack, entrance, '/ws', [['X-API-Key', 'guessed-key-000000000']]);
      t.equal(unknown.status, 401, `${entrance}: unknown key`);
      t.notMatch(unknown.body, REASON_WORDS);
      const lan = await through(stack, entrance, '/ws', [['X-Lan-Key', 'lan-key-0123456789']]);
      t.equal(lan.status, 403, `${entrance}: right key, wrong network`);
      t.notMatch(lan.body, REASON_WORDS);
      t.ok(passed(entrance, await through(stack, entrance, '/ws', [['X-API-Key', 'exporter-key-0123456789']])), `${entrance}: control, the right key passes`);
    }
    t.ok(stack.logs.audits('api_client').some((l) => l.reason === 'network_not_allowed'), 'the reason is logged');
    t.ok(stack.logs.audits('api_client').some((l) => l.reason === 'unknown_api_key'), 'the reason is logged');
  });

  const basic = (user: string, password: string): Array<[string, string]> => [['Authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`]];

  await t.test('Basic: a listed user with a wrong password and an unknown user get the same answer', async (t) => {
    for (const entrance of ENTRANCES) {
      const listed = await through(stack, entrance, '/x', basic('svc', 'wrong-password-1'));
      const unknown = await through(stack, entrance, '/x', basic('nobody-here', 'wrong-password-1'));
      const unlisted = await through(stack, entrance, '/x', basic('alice', 'wrong-password-1'));
      t.equal(listed.status, 401, `${entrance}: listed, wrong password`);
      for (const [name, other] of [['unknown user', unknown], ['a directory user no client lists', unlisted]] as const) {
        t.equal(other.status, listed.status, `${entrance}: ${name}: same status`);
        t.same(comparableHeaders(other.headers), comparableHeaders(listed.headers), `${entrance}: ${name}: same headers`);
        t.equal(comparableBody(other.body), comparableBody(listed.body), `${entrance}: ${name}: same body`);
      }
      t.notMatch(listed.body, REASON_WORDS);
      // Reset the user's failure count: this row is about the answers, the next about the block.
      await stack.gateway.gateway.core.regulator.clearPasswordBlock('svc');
      await stack.gateway.gateway.core.regulator.passwordSucceeded('svc');
    }
  });

  await t.test('Basic: while the user is blocked every attempt gets 429, the cached right password included', async (t) => {
    const right = basic('svc', 'svc-password-1');
    t.equal((await through(stack, 'proxy', '/x', right)).status, 200, 'the right password passes (and is now cached)');
    t.equal((await through(stack, 'proxy', '/x', right)).status, 200, 'from the cache');
    for (let i = 0; i < 3; i++) t.equal((await through(stack, 'proxy', '/x', basic('svc', `guess-${i}`))).status, 401, `wrong password ${i + 1}`);
    const seen = stack.upstream.seen.length;
    for (const entrance of ENTRANCES) {
      for (const [name, cred] of [['the cached right password', right], ['a wrong password', basic('svc', 'guess-x')]] as const) {
        const res = await through(stack, entrance, '/ws', cred);
        t.equal(res.status, 429, `${entrance}: ${name} while blocked → 429`);
        t.ok(Number(res.headers['retry-after']) > 0, `${entrance}: Retry-After`);
        t.notMatch(res.body, REASON_WORDS);
      }
    }
    t.equal(stack.upstream.seen.length, seen, 'nothing reached the upstream while blocked');
    clock.advance(5 * 60_000 + 1000);
    t.equal((await through(stack, 'proxy', '/x', right)).status, 200, 'after the block the right password passes again');
  });
});
