import type { ClientMetadata } from 'oidc-provider';
import type { ConfigInput } from '../../src/config/schema/index.js';
import type { Browser } from '../fixtures/browser.js';
import { startStack, type Stack, type StackOptions } from '../fixtures/gateway.js';
import { startOidcProvider, type OidcProvider } from '../fixtures/oidc-provider.js';

export const CLIENT_ID = 'portcullis';
export const CLIENT_SECRET = 'test-client-secret-0123456789-abcdef';

type ProviderInput = NonNullable<ConfigInput['identity_providers']>[number];

export interface OidcStack {
  stack: Stack;
  idp: OidcProvider;
  /** The gateway's callback URL for provider `test`. */
  callback: string;
  close(): Promise<void>;
}

/**
 * A gateway with identity provider `test` (display name "Test IdP") pointing at a real oidc-provider on
 * loopback, with client `portcullis` registered for the gateway's callback. `attach: false` leaves the
 * provider down (503) until `idp.attach(...)`.
 */
export async function startOidcStack(o: { provider?: Partial<ProviderInput>; client?: Partial<ClientMetadata>; attach?: boolean } & StackOptions = {}): Promise<OidcStack> {
  const idp = await startOidcProvider();
  const { provider, client, attach, ...stackOptions } = o;
  const stack = await startStack({
    ...stackOptions,
    config: {
      ...(stackOptions.config ?? {}),
      identity_providers: [
        { name: 'test', display_name: 'Test IdP', issuer: idp.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scopes: ['openid', 'email', 'profile', 'groups', 'phone'], ...(provider ?? {}) },
      ],
    },
  });
  const callback = `${stack.url}/_gateway/oidc/test/callback`;
  if (attach !== false) idp.attach([registration(stack, client)]);
  return {
    stack,
    idp,
    callback,
    async close() {
      await stack.close();
      await idp.close();
    },
  };
}

/** The client as registered at the provider. */
export function registration(stack: Stack, client: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${stack.url}/_gateway/oidc/test/callback`],
    post_logout_redirect_uris: [`${stack.url}/_gateway/login`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  };
}

/**
 * From `/_gateway/oidc/test/start` through the provider's login form (as `login`, or cancelling) to
 * the gateway's callback URL, which is answered, not fetched: tests decide what to do with it.
 */
export async function throughProvider(b: Browser, startPath: string, login: string, action: 'login' | 'abort' = 'login'): Promise<string> {
  let res = await b.get(startPath);
  if (res.status !== 303 || !res.location) throw new Error(`start answered ${res.status}: ${res.text.slice(0, 300)}`);
  let url = res.location;
  for (let i = 0; i < 10; i++) {
    if (/\/_gateway\/oidc\/[a-z0-9-]+\/callback\?/.test(url)) return url;
    res = await b.get(url);
    if (res.status === 200 && /\/interaction\/[^/]+$/.test(new URL(url).pathname)) {
      res = action === 'abort' ? await b.post(`${url}/abort`, {}) : await b.post(`${url}/login`, { login, password: 'anything' });
    }
    if (!res.location) throw new Error(`the provider answered ${res.status} at ${url}: ${res.text.slice(0, 300)}`);
    url = new URL(res.location, url).href;
  }
  throw new Error('too many redirects at the provider');
}

/** The session cookie's name is in the jar. */
export function hasSession(b: Browser): boolean {
  return b.cookies.has('portcullis_session');
}
