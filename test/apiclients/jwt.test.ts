import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import t, { type Test } from 'tap';
import { isPortcullisError } from '../../src/errors/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { build } from './helpers.js';

const ISS = 'https://idp.example.com';
const AUD = 'portcullis';
const SECRET = 'an-hs256-secret-that-is-long-enough-0123456789';

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

async function keyPair(kid: string, alg = 'RS256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** RSA key generation is slow: one shared 'k1' for the whole file. */
let sharedK1: Promise<KeyPair> | undefined;
function k1Pair(): Promise<KeyPair> {
  sharedK1 ??= keyPair('k1');
  return sharedK1;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function sign(key: KeyPair | Uint8Array, clock: ManualClock, claims: JWTPayload = {}, opts: { alg?: string; kid?: string; exp?: number } = {}): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  const jwt = new SignJWT({ groups: ['cams'], ...claims })
    .setProtectedHeader(key instanceof Uint8Array ? { alg: opts.alg ?? 'HS256' } : { alg: opts.alg ?? 'RS256', kid: opts.kid ?? key.kid })
    .setIssuer((claims.iss) ?? ISS)
    .setAudience((claims.aud as string | undefined) ?? AUD)
    .setSubject((claims.sub) ?? 'mobile-app-1')
    .setIssuedAt(now)
    .setExpirationTime(opts.exp ?? now + 300);
  return jwt.sign(key instanceof Uint8Array ? key : key.privateKey);
}

/** A loopback JWKS endpoint whose key set the test can change. */
async function jwksServer(t: Test, initial: JWK[]): Promise<{ url: string; setKeys(keys: JWK[]): void; hits(): number }> {
  let keys = initial;
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, setKeys: (k) => (keys = k), hits: () => hits };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, clientIp: '10.0.0.9', upstream: 'api' });

void t.test('jwks_url: a valid token is accepted; subject and groups come from the claims', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const srv = await jwksServer(t, [k1.publicJwk]);
  const auth = build([{ name: 'mobile-backend', bearer_jwt: { jwks_url: srv.url, issuer: ISS, audience: AUD } }], { clock });
  const r = await auth.authenticate(bearer(await sign(k1, clock)));
  t.same(r, { kind: 'ok', client: 'mobile-backend', method: 'bearer_jwt', subject: 'mobile-app-1', groups: ['cams'], stripHeaders: ['authorization'] });
});

void t.test('jwks_url: rotation — a new kid is fetched and accepted, the old key dropped', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const k2 = await keyPair('k2', 'ES256');
  const srv = await jwksServer(t, [k1.publicJwk]);
  const auth = build([{ name: 'm', bearer_jwt: { jwks_url: srv.url } }], { clock, jwks: { cooldownMs: 0 } });
  t.match(await auth.authenticate(bearer(await sign(k1, clock))), { kind: 'ok' });
  t.match(await auth.authenticate(bearer(await sign(k1, clock))), { kind: 'ok' });
  t.equal(srv.hits(), 1, 'keys cached');
  srv.setKeys([k2.publicJwk]);
  t.match(await auth.authenticate(bearer(await sign(k2, clock, {}, { alg: 'ES256' }))), { kind: 'ok' }, 'new kid accepted after refetch');
  t.equal(srv.hits(), 2);
  t.match(await auth.authenticate(bearer(await sign(k1, clock))), { kind: 'denied', status: 401 }, 'retired key refused');
});

void t.test('jwks_url: endpoint down or hanging → denied, not a crash and not a pass', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  // A port that was just closed: connection refused.
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const down = build([{ name: 'm', bearer_jwt: { jwks_url: `http://127.0.0.1:${port}/jwks` } }], { clock });
  const token = await sign(k1, clock);
  t.same(await down.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable', status: 401 });
  t.same(await down.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable', status: 401 }, 'still denied while backing off');

  const sockets = new Set<Socket>();
  const hanging = createServer(() => {
    /* never answers */
  });
  hanging.on('connection', (s) => sockets.add(s));
  hanging.listen(0, '127.0.0.1');
  await once(hanging, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    hanging.close();
  });
  const slow = build([{ name: 'm', bearer_jwt: { jwks_url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/jwks` } }], { clock, jwks: { timeoutMs: 100 } });
  t.same(await slow.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable', status: 401 });

  const huge = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [k1.publicJwk], pad: 'x'.repeat(5000) }));
  });
  huge.listen(0, '127.0.0.1');
  await once(huge, 'listening');
  t.teardown(() => huge.close());
  const big = build([{ name: 'm', bearer_jwt: { jwks_url: `http://127.0.0.1:${(huge.address() as AddressInfo).port}/jwks` } }], { clock, jwks: { maxBytes: 1024 } });
  t.same(await big.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable', status: 401 }, 'oversized JWKS refused');
});

void t.test('jwks_url: after a failure the endpoint is not hammered, and is retried after the backoff', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  let up = false;
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    if (!up) {
      res.statusCode = 503;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [k1.publicJwk] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const auth = build([{ name: 'm', bearer_jwt: { jwks_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks` } }], { clock, jwks: { failureBackoffMs: 10_000 } });
  const token = await sign(k1, clock);
  t.match(await auth.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable' });
  t.match(await auth.authenticate(bearer(token)), { kind: 'denied', reason: 'jwks_unavailable' });
  t.equal(hits, 1, 'second request failed fast');
  up = true;
  clock.advance(10_001);
  t.match(await auth.authenticate(bearer(token)), { kind: 'ok' });
  t.equal(hits, 2);
});

void t.test('claims: expiry with leeway, not-before, issuer, audience, required exp', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const srv = await jwksServer(t, [k1.publicJwk]);
  const auth = build([{ name: 'm', bearer_jwt: { jwks_url: srv.url, issuer: ISS, audience: [AUD, 'other-aud'], leeway: '30s' } }], { clock });
  const now = Math.floor(clock.now() / 1000);
  const expiresSoon = await sign(k1, clock, {}, { exp: now + 60 });
  t.match(await auth.authenticate(bearer(expiresSoon)), { kind: 'ok' });
  clock.advance(80_000);
  t.match(await auth.authenticate(bearer(expiresSoon)), { kind: 'ok' }, 'within leeway');
  clock.advance(20_000);
  t.same(await auth.authenticate(bearer(expiresSoon)), { kind: 'denied', reason: 'token_expired', status: 401 });

  const clock2 = new ManualClock(clock.now());
  const notYet = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).setNotBefore(Math.floor(clock2.now() / 1000) + 120).setExpirationTime('1h').sign(k1.privateKey);
  t.same(await auth.authenticate(bearer(notYet)), { kind: 'denied', reason: 'claim_nbf', status: 401 });

  t.same(await auth.authenticate(bearer(await sign(k1, clock, { iss: 'https://evil.example' }))), { kind: 'denied', reason: 'claim_iss', status: 401 });
  t.same(await auth.authenticate(bearer(await sign(k1, clock, { aud: 'someone-else' }))), { kind: 'denied', reason: 'claim_aud', status: 401 });
  t.match(await auth.authenticate(bearer(await sign(k1, clock, { aud: 'other-aud' }))), { kind: 'ok' }, 'any configured audience');

  const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).sign(k1.privateKey);
  t.match(await auth.authenticate(bearer(noExp)), { kind: 'denied', status: 401 }, 'exp is required');

  const forged = await sign(await keyPair('k1'), clock);
  t.same(await auth.authenticate(bearer(forged)), { kind: 'denied', reason: 'bad_signature', status: 401 }, 'same kid, other key');
  const tampered = expiresSoon.split('.');
  tampered[1] = b64url({ sub: 'admin', iss: ISS, aud: AUD, exp: now + 9999 });
  t.match(await auth.authenticate(bearer(tampered.join('.'))), { kind: 'denied', status: 401 }, 'tampered payload');
});

void t.test('alg none and algorithm confusion are refused', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-jwks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [k1.publicJwk] }));
  const srv = await jwksServer(t, [k1.publicJwk]);
  const exp = Math.floor(clock.now() / 1000) + 300;
  const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin', iss: ISS, aud: AUD, exp })}.`;
  const noneUpper = `${b64url({ alg: 'NONE' })}.${b64url({ sub: 'admin', exp })}.`;
  for (const [label, cfg] of [
    ['jwks_file', { jwks_file: file }],
    ['jwks_url', { jwks_url: srv.url }],
    ['secret', { secret: SECRET }],
  ] as const) {
    const auth = build([{ name: 'm', bearer_jwt: cfg }], { clock });
    t.same(await auth.authenticate(bearer(none)), { kind: 'denied', reason: 'algorithm_not_allowed', status: 401 }, `${label}: alg none`);
    t.match(await auth.authenticate(bearer(noneUpper)), { kind: 'denied', status: 401 }, `${label}: alg NONE`);
    // HS256 "signed" with the RSA public key (PEM text, and the JWK JSON) as the HMAC secret.
    for (const secret of [k1.publicPem, JSON.stringify(k1.publicJwk)]) {
      const confused = await sign(new TextEncoder().encode(secret), clock, {}, { alg: 'HS256' });
      const reason = label === 'secret' ? 'bad_signature' : 'algorithm_not_allowed';
      t.same(await auth.authenticate(bearer(confused)), { kind: 'denied', reason, status: 401 }, `${label}: HS256 with the public key as secret`);
    }
  }
  const fileAuth = build([{ name: 'm', bearer_jwt: { jwks_file: file } }], { clock });
  t.match(await fileAuth.authenticate(bearer(await sign(k1, clock))), { kind: 'ok' }, 'jwks_file accepts the real signature');
});

void t.test('secret: HS256 only', async (t) => {
  const clock = new ManualClock(Date.now());
  const auth = build([{ name: 'hs', bearer_jwt: { secret: SECRET, audience: AUD } }], { clock });
  const key = new TextEncoder().encode(SECRET);
  t.match(await auth.authenticate(bearer(await sign(key, clock))), { kind: 'ok', client: 'hs', subject: 'mobile-app-1' });
  t.same(await auth.authenticate(bearer(await sign(key, clock, {}, { alg: 'HS512' }))), { kind: 'denied', reason: 'algorithm_not_allowed', status: 401 });
  t.same(await auth.authenticate(bearer(await sign(new TextEncoder().encode(SECRET + 'x'), clock))), { kind: 'denied', reason: 'bad_signature', status: 401 });
});

void t.test('pinned algorithms: confusing configurations are refused at compile time', async (t) => {
  for (const cfg of [
    { secret: SECRET, algorithms: ['RS256'] },
    { jwks_url: 'https://idp.example.com/jwks', algorithms: ['RS256', 'HS256'] },
  ]) {
    let caught: unknown;
    try {
      build([{ name: 'x', bearer_jwt: cfg }]);
    } catch (err) {
      caught = err;
    }
    t.ok(isPortcullisError(caught, 'PORTCULLIS_ERR_CONFIG'), JSON.stringify(cfg.algorithms));
  }
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const srv = await jwksServer(t, [k1.publicJwk]);
  const onlyEs = build([{ name: 'es', bearer_jwt: { jwks_url: srv.url, algorithms: ['ES256'] } }], { clock });
  t.same(await onlyEs.authenticate(bearer(await sign(k1, clock))), { kind: 'denied', reason: 'algorithm_not_allowed', status: 401 });
});

void t.test('non-JWT bearer values are left to the session layer', async (t) => {
  const clock = new ManualClock(Date.now());
  const auth = build([{ name: 'hs', bearer_jwt: { secret: SECRET } }], { clock });
  for (const v of ['Bearer abcdef0123.sig-part_x', 'Bearer opaque-token', 'Bearer a.b.c.d', 'Bearer ']) {
    t.same(await auth.authenticate({ headers: { authorization: v }, clientIp: '10.0.0.9' }), { kind: 'none' }, v);
  }
  t.same(await auth.authenticate({ headers: { authorization: 'Bearer x.y.z' }, clientIp: '10.0.0.9' }), { kind: 'denied', reason: 'malformed_token', status: 401 }, 'JWT-shaped garbage is ours to refuse');
  const noBearerClients = build([{ name: 'k', api_key: { sha256: 'a'.repeat(64) } }], { clock });
  t.same(await noBearerClients.authenticate(bearer(await sign(new TextEncoder().encode(SECRET), clock))), { kind: 'none' }, 'no bearer clients: a JWT is not ours');
});

void t.test('restrictions and several bearer clients', async (t) => {
  const clock = new ManualClock(Date.now());
  const k1 = await k1Pair();
  const srv = await jwksServer(t, [k1.publicJwk]);
  const auth = build(
    [
      { name: 'hs', bearer_jwt: { secret: SECRET }, upstreams: ['reports'], keep_credential: true },
      { name: 'rsa', bearer_jwt: { jwks_url: srv.url, subject_claim: 'client_id' }, networks: ['10.0.0.0/8'] },
    ],
    { clock },
  );
  const rsaToken = await sign(k1, clock, { client_id: 'cam-42' });
  t.match(await auth.authenticate(bearer(rsaToken)), { kind: 'ok', client: 'rsa', subject: 'cam-42' });
  t.same(await auth.authenticate({ ...bearer(rsaToken), clientIp: '192.0.2.1' }), { kind: 'denied', reason: 'network_not_allowed', status: 403 });
  const noClaim = await sign(k1, clock);
  t.match(await auth.authenticate(bearer(noClaim)), { kind: 'ok', subject: 'rsa' }, 'missing subject claim → the client name');
  t.same(await auth.authenticate(bearer(await sign(k1, clock, { client_id: 'cam\r\nRemote-User: admin' }))), { kind: 'denied', reason: 'invalid_subject_claim', status: 401 }, 'header injection in the subject');
  t.same(await auth.authenticate(bearer(await sign(k1, clock, { client_id: 42 as unknown as string }))), { kind: 'denied', reason: 'invalid_subject_claim', status: 401 }, 'non-string subject');
  const withGroups = await auth.authenticate(bearer(await sign(k1, clock, { client_id: 'c', groups: ['ok', 'a,admins', 'x\ny', 7, 'fine'] })));
  t.same(withGroups.kind === 'ok' ? withGroups.groups : undefined, ['ok', 'fine'], 'unsafe groups dropped');
  const hsToken = await sign(new TextEncoder().encode(SECRET), clock);
  t.same(await auth.authenticate(bearer(hsToken)), { kind: 'denied', reason: 'upstream_not_allowed', status: 403 });
  t.match(await auth.authenticate({ ...bearer(hsToken), upstream: 'reports' }), { kind: 'ok', client: 'hs', stripHeaders: [] });
  t.same(await auth.authenticate(bearer(await sign(new TextEncoder().encode(SECRET + '!'), clock))), { kind: 'denied', reason: 'invalid_token', status: 401 });
});
