import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, importPKCS8, type JWK } from 'jose';
import * as client from 'openid-client';
import type { IdentityProviderConfig } from '../config/schema/index.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A `private_key_jwt` signing key, ready for openid-client, with its public half for the provider. */
export interface AssertionKey {
  key: client.CryptoKey;
  kid: string;
  alg: string;
  publicJwk: JWK;
}

/** The default algorithm for a key type (RSA: RS256, EC by curve, Ed25519: EdDSA). */
function defaultAlg(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`a ${String(key.asymmetricKeyType)} key cannot sign a client assertion; use an RSA, EC or Ed25519 key`);
  }
}

/**
 * Reads `private_key_jwt.key_file` (PEM: PKCS#8, PKCS#1 or SEC1). Throws with a message naming the
 * provider when the file is unusable (the gateway does not start with a key it cannot use).
 */
export async function loadAssertionKey(p: IdentityProviderConfig): Promise<AssertionKey> {
  const spec = p.private_key_jwt!;
  const where = `identity_providers '${p.name}' private_key_jwt.key_file '${spec.key_file}'`;
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(readFileSync(spec.key_file));
  } catch (err) {
    throw new Error(`${where}: not a usable PEM private key (${(err as Error).message})`);
  }
  const alg = spec.alg ?? defaultAlg(keyObject);
  let key: client.CryptoKey;
  try {
    key = await importPKCS8(keyObject.export({ format: 'pem', type: 'pkcs8' }).toString(), alg);
  } catch (err) {
    throw new Error(`${where}: an ${String(keyObject.asymmetricKeyType).toUpperCase()} key cannot sign ${alg} (${(err as Error).message})`);
  }
  const publicJwk = await exportJWK(createPublicKey(keyObject));
  const kid = spec.kid ?? (await calculateJwkThumbprint(publicJwk));
  return { key, kid, alg, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/**
 * The token endpoint authentication to use: the configured method, else private_key_jwt when a key is
 * set, else the first of client_secret_basic and client_secret_post the provider lists (basic when it
 * lists none, as RFC 8414 says).
 */
export function chooseAuthMethod(p: IdentityProviderConfig, supported: readonly string[] | undefined): TokenEndpointAuthMethod {
  if (p.token_endpoint_auth_method) return p.token_endpoint_auth_method;
  if (p.private_key_jwt) return 'private_key_jwt';
  if (!supported || supported.length === 0 || supported.includes('client_secret_basic')) return 'client_secret_basic';
  return supported.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
}

export function clientAuth(method: TokenEndpointAuthMethod, p: IdentityProviderConfig, key: AssertionKey | undefined): client.ClientAuth {
  switch (method) {
    case 'client_secret_basic':
      return client.ClientSecretBasic(p.client_secret);
    case 'client_secret_post':
      return client.ClientSecretPost(p.client_secret);
    case 'private_key_jwt':
      // WebCrypto names Ed25519 keys `Ed25519`; providers that predate RFC 9864 know the alg as `EdDSA`.
      return client.PrivateKeyJwt(
        { key: key!.key, kid: key!.kid },
        key!.alg === 'EdDSA'
          ? {
              [client.modifyAssertion]: (header) => {
                if (header.alg === 'Ed25519') header.alg = 'EdDSA';
              },
            }
          : undefined,
      );
  }
}
