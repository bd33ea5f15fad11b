import t, { type Test } from 'tap';
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import type { ConfigInput } from '../../src/config/schema/index.js';
import { Browser } from '../fixtures/browser.js';
import { goodIdToken, startBrokenIdp, unsignedIdToken, type BrokenIdp, type TokenBehaviour } from '../fixtures/broken-idp.js';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { CLIENT_ID, CLIENT_SECRET, hasSession, throughProvider } from './oidc-helpers.js';

type ProviderInput = NonNullable<ConfigInput['identity_providers']>[number];

async function brokenStack(t: Test, provider: Partial<ProviderInput> = {}, before?: (idp: BrokenIdp) => void): Promise<{ stack: Stack; idp: BrokenIdp }> {
  const idp = await startBrokenIdp();
  before?.(idp);
  const stack = await startStack({ config: { identity_providers: [{ name: 'broken', issuer: idp.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...provider }] } });
  t.teardown(async () => {
    await stack.close();
    await idp.close();
  });
  return { stack, idp };
}

/** One sign-in through the broken provider with the token endpoint behaving as given. */
async function attempt(stack: Stack, idp: BrokenIdp, behaviour: TokenBehaviour): Promise<{ b: Browser; status: number; text: string; location?: string | undefined }> {
  idp.behave(behaviour);
  const b = new Browser(stack.url);
  const res = await b.get(await throughProvider(b, '/_gateway/oidc/broken/start?rd=/app', 'svc'));
  return { b, status: res.status, text: res.text, location: res.location };
}

void t.test('a deliberately broken provider: every bad ID token or answer is refused with no session', async (t) => {
  const { stack, idp } = await brokenStack(t);

  const good = await attempt(stack, idp, { idToken: (c) => goodIdToken(c) });
  t.equal(good.status, 303, 'the well-behaved answer signs in (the fixture itself works)');
  t.equal(good.location, '/app');
  t.ok(hasSession(good.b));
  const auth = idp.authorizations.at(-1)!;
  t.equal(auth.codeChallengeMethod, 'S256');
  t.match(auth.nonce, /^[A-Za-z0-9_-]{43}$/);
  t.match(auth.state, /^[A-Za-z0-9_-]{43}$/);
  t.match(idp.tokens.at(-1), { pkceOk: true, auth: 'client_secret_basic' }, 'the PKCE verifier matches; basic is chosen when the provider lists it');

  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, TokenBehaviour, string, RegExp?]> = [
    ['wrong aud', { idToken: (c) => goodIdToken(c, { claims: { aud: 'someone-else' } }) }, 'invalid_response'],
    ['wrong iss', { idToken: (c) => goodIdToken(c, { claims: { iss: 'https://evil.example' } }) }, 'invalid_response'],
    ['expired', { idToken: (c) => goodIdToken(c, { claims: { iat: c.now - 3600, exp: c.now - 600 } }) }, 'invalid_response'],
    ['bad signature (another key under the published kid)', { idToken: (c) => goodIdToken(c, { key: c.otherKey }) }, 'invalid_response'],
    ['an unknown kid', { idToken: (c) => goodIdToken(c, { key: c.otherKey, kid: 'k2' }) }, 'invalid_response'],
    ['alg none', { idToken: (c) => Promise.resolve(unsignedIdToken(c)) }, 'invalid_response'],
    ['wrong nonce', { idToken: (c) => goodIdToken(c, { claims: { nonce: 'not-the-nonce' } }) }, 'invalid_response'],
    ['no nonce', { idToken: (c) => goodIdToken({ ...c, nonce: undefined as unknown as string }) }, 'invalid_response'],
    ['issued in the future', { idToken: (c) => goodIdToken(c, { claims: { iat: now() + 3600, exp: now() + 7200 } }) }, 'invalid_response', /iat/],
    ['no ID token', { raw: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"a","token_type":"Bearer"}') }, 'invalid_response'],
    ['a 500 with an HTML page', { raw: (res) => void res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>') }, 'invalid_response'],
    ['not JSON', { raw: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token": ') }, 'invalid_response'],
    ['an endless answer', { raw: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"x":"${'a'.repeat(300_000)}"}`) }, 'invalid_response', /larger than/],
    ['an OAuth error', { raw: (res) => void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}') }, 'provider_error', /invalid_grant/],
  ];
  for (const [name, behaviour, reason, detail] of cases) {
    const r = await attempt(stack, idp, behaviour);
    t.equal(r.status, 502, `${name}: a plain 502 page`);
    t.match(r.text, /could not be accepted/, name);
    t.notMatch(r.text, /Error:|\.js:\d+/, `${name}: no stack trace`);
    t.notOk(hasSession(r.b), `${name}: no session`);
    t.equal((await r.b.fetch('/_gateway/api/v1/session')).status, 401);
    t.match(stack.logs.audits('idp_login').at(-1), { result: 'failure', reason, provider: 'broken', ...(detail ? { detail } : {}) }, `${name}: audited`);
  }
  t.notMatch(stack.logs.raw, /eyJ[A-Za-z0-9_-]{10,}\./, 'no token in the logs');
  t.notOk(stack.logs.raw.includes('test-access-token'), 'no access token in the logs');
  t.notOk(stack.logs.lines.some((l) => l.level === 'error'), 'nothing was an internal error');
  const metrics = await (await request(`${stack.gateway.adminUrl!}/metrics`)).body.text();
  t.match(metrics, /portcullis_idp_sign_ins_total\{provider="broken",outcome="invalid_response"\} 13/);
  t.match(metrics, /portcullis_idp_sign_ins_total\{provider="broken",outcome="authenticated"\} 1/);
});

void t.test('client_secret_post when configured', async (t) => {
  const { stack, idp } = await brokenStack(t, { token_endpoint_auth_method: 'client_secret_post' });
  const r = await attempt(stack, idp, { idToken: (c) => goodIdToken(c) });
  t.equal(r.status, 303);
  t.match(idp.tokens.at(-1), { auth: 'client_secret_post', pkceOk: true });
});

void t.test('a provider whose discovery answers nonsense: a plain 503 at the button, /readyz says unreachable', async (t) => {
  const variants: Array<[string, (res: ServerResponse, issuer: string) => void]> = [
    ['another issuer', (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://evil.example', authorization_endpoint: 'https://evil.example/a', token_endpoint: 'https://evil.example/t', jwks_uri: 'https://evil.example/k', response_types_supported: ['code'] }))],
    ['an HTML page', (res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>')],
    ['plain http endpoints elsewhere', (res, issuer) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, authorization_endpoint: 'http://idp.example/a', token_endpoint: 'http://idp.example/t', jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] }))],
  ];
  for (const [name, answer] of variants) {
    const { stack } = await brokenStack(t, {}, (idp) => idp.discovery(answer));
    const b = new Browser(stack.url);
    const res = await b.get('/_gateway/oidc/broken/start?rd=/app');
    t.equal(res.status, 503, name);
    t.match(res.text, /cannot be reached right now/);
    t.match(stack.logs.audits('idp_login').at(-1), { result: 'failure', reason: 'unavailable' });
    const ready = await request(`${stack.gateway.adminUrl!}/readyz`);
    t.equal(ready.statusCode, 200);
    t.match(await ready.body.json(), { identity_providers: { broken: 'unreachable' } }, name);
  }
});
