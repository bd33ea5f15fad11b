import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { jwtVerify, importJWK } from 'jose';
import * as client from 'openid-client';
import { chooseAuthMethod, loadAssertionKey } from '../../src/idp/client-auth.js';
import { classify, IdpError } from '../../src/idp/provider.js';
import type { IdentityProviderConfig } from '../../src/config/schema/index.js';

const base = { name: 'kc', issuer: 'https://kc.example', client_id: 'portcullis' } as IdentityProviderConfig;

void t.test('the token endpoint authentication method: configured, else private_key_jwt with a key, else basic unless the provider lists only post', (t) => {
  t.equal(chooseAuthMethod({ ...base, client_secret: 's' }, undefined), 'client_secret_basic');
  t.equal(chooseAuthMethod({ ...base, client_secret: 's' }, []), 'client_secret_basic');
  t.equal(chooseAuthMethod({ ...base, client_secret: 's' }, ['client_secret_post', 'client_secret_basic']), 'client_secret_basic');
  t.equal(chooseAuthMethod({ ...base, client_secret: 's' }, ['client_secret_post', 'private_key_jwt']), 'client_secret_post');
  t.equal(chooseAuthMethod({ ...base, client_secret: 's', token_endpoint_auth_method: 'client_secret_post' }, ['client_secret_basic']), 'client_secret_post');
  t.equal(chooseAuthMethod({ ...base, private_key_jwt: { key_file: 'k' } }, ['client_secret_basic']), 'private_key_jwt');
  t.end();
});

void t.test('private_key_jwt keys: RSA, EC and Ed25519 in PKCS#8, PKCS#1 or SEC1; the algorithm from the key; a thumbprint kid', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');
  const dir = t.testdir({
    'rsa.pem': rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    'ec.pem': ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
    'ed.pem': ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    'bad.pem': 'not a key',
    'public.pem': rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  });
  const at = (file: string, extra: Partial<NonNullable<IdentityProviderConfig['private_key_jwt']>> = {}) => ({ ...base, private_key_jwt: { key_file: join(dir, file), ...extra } }) as IdentityProviderConfig;
  const r = await loadAssertionKey(at('rsa.pem'));
  t.equal(r.alg, 'RS256');
  t.match(r.kid, /^[A-Za-z0-9_-]{43}$/);
  t.match(r.publicJwk, { kty: 'RSA', kid: r.kid, alg: 'RS256', use: 'sig' });
  t.notOk('d' in r.publicJwk, 'the public half only');
  t.equal((await loadAssertionKey(at('rsa.pem', { alg: 'PS256', kid: 'mine' }))).kid, 'mine');
  t.equal((await loadAssertionKey(at('ec.pem'))).alg, 'ES384');
  t.equal((await loadAssertionKey(at('ed.pem'))).alg, 'EdDSA');
  await t.rejects(loadAssertionKey(at('bad.pem')), /identity_providers 'kc' private_key_jwt\.key_file '.*bad\.pem': not a usable PEM private key/);
  await t.rejects(loadAssertionKey(at('public.pem')), /not a usable PEM private key/);
  await t.rejects(loadAssertionKey(at('missing.pem')), /not a usable PEM private key/);
  await t.rejects(loadAssertionKey(at('ec.pem', { alg: 'RS256' })), /an EC key cannot sign RS256/);

  // The assertion openid-client makes with it verifies with the published public key (EdDSA as `EdDSA`).
  const key = await loadAssertionKey(at('ed.pem'));
  const auth = client.PrivateKeyJwt({ key: key.key, kid: key.kid }, { [client.modifyAssertion]: (h) => void (h.alg === 'Ed25519' && (h.alg = 'EdDSA')) });
  const body = new URLSearchParams();
  // openid-client's ClientAuth is typed `void` but signs asynchronously.
  await (auth({ issuer: 'https://kc.example', token_endpoint: 'https://kc.example/token' }, { client_id: 'portcullis' }, body, new Headers()) as unknown as Promise<void>);
  const assertion = body.get('client_assertion') ?? '';
  t.ok(assertion, 'an assertion was made');
  if (assertion) {
    const verified = await jwtVerify(assertion, await importJWK(key.publicJwk, 'EdDSA'));
    t.equal(verified.payload.iss, 'portcullis');
    t.equal(verified.protectedHeader.kid, key.kid);
  }
});

void t.test("openid-client's failures are classified: provider errors, unreachable, invalid answers", (t) => {
  t.match(classify(new client.AuthorizationResponseError('x', { cause: new URLSearchParams('error=access_denied') })), { kind: 'provider_error', detail: 'access_denied' });
  t.match(classify(new TypeError('fetch failed')), { kind: 'unavailable' });
  t.match(classify(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), { kind: 'unavailable' });
  t.match(classify(new client.ClientError('unexpected JWT claim value encountered', { cause: new Error('unexpected JWT "aud" (audience) claim value') })), { kind: 'invalid_response', message: /aud/ });
  const same = new IdpError('unavailable', 'x');
  t.equal(classify(same), same);
  t.end();
});
