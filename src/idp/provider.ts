import * as client from 'openid-client';
import type { IdentityProviderConfig } from '../config/schema/index.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../util/clock.js';
import { chooseAuthMethod, clientAuth, type AssertionKey, type TokenEndpointAuthMethod } from './client-auth.js';
import { boundedFetch, reachable } from './fetch.js';

/** Seconds of clock difference tolerated on `exp`, `nbf` and `iat` of the provider's tokens. */
export const CLOCK_TOLERANCE_S = 30;
/** Discovery retries in the background: 1 s, 2 s, 4 s, ... up to a minute apart, until it succeeds. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Why a sign-in through a provider did not succeed:
 * - `unavailable`: the provider could not be reached (discovery not done, network, timeout);
 * - `provider_error`: the provider answered with an OAuth error (the user cancelled, `invalid_grant`);
 * - `invalid_response`: the answer failed a check (signature, issuer, audience, expiry, nonce, state,
 *   a malformed or oversized answer).
 */
export type IdpFailure = 'unavailable' | 'provider_error' | 'invalid_response';

export class IdpError extends Error {
  constructor(
    readonly kind: IdpFailure,
    message: string,
    /** The OAuth `error` code (`access_denied`) or openid-client's code (`OAUTH_JWT_CLAIM_COMPARISON_FAILED`); never a token. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'IdpError';
  }
}

export interface ProviderHealth {
  status: 'pending' | 'ready' | 'unreachable';
  /** The last discovery failure (a message, never a secret). */
  error?: string;
}

/** What the browser carried out and must bring back: the values the callback is checked against. */
export interface AuthorizationChecks {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Re-authentication: the provider must sign the user in afresh (`prompt=login`, `max_age=0`), and `auth_time` shows it. */
  reauth?: boolean | undefined;
}

/** A sign-in the provider vouched for: the ID token's claims (completed from UserInfo where a mapped claim was missing). */
export interface VerifiedIdentity {
  sub: string;
  claims: Readonly<Record<string, unknown>>;
  /** The ID token's `amr`, as given (only well-formed values). */
  amr: string[];
  acr?: string;
}

export interface ProviderDeps {
  logger: Logger;
  clock: Clock;
  /** The `private_key_jwt` key, loaded at start. */
  key?: AssertionKey | undefined;
}

const AMR_VALUE = /^[A-Za-z0-9_.:-]{1,32}$/;

/**
 * One configured OpenID Provider as a relying party sees it (openid-client): discovery in the background
 * with retries, the authorization URL (code flow, PKCE S256, state, nonce), and the callback's code
 * exchange with every check on the ID token — signature against the provider's JWKS (openid-client
 * refetches the set for an unknown `kid`, at most once a minute), `iss`, `aud`, `exp`, `iat` (with
 * {@link CLOCK_TOLERANCE_S} of tolerance), `nonce` and `state`.
 */
export class IdentityProvider {
  readonly name: string;
  readonly displayName: string;
  private configuration?: client.Configuration;
  private inflight?: Promise<client.Configuration> | undefined;
  private timer?: NodeJS.Timeout | undefined;
  private failures = 0;
  private state: ProviderHealth = { status: 'pending' };
  private closed = false;
  private readonly fetch = boundedFetch();
  private readonly log: Logger;
  authMethod?: TokenEndpointAuthMethod;

  constructor(
    readonly config: Readonly<IdentityProviderConfig>,
    private readonly d: ProviderDeps,
  ) {
    this.name = config.name;
    this.displayName = config.display_name ?? config.name;
    this.log = d.logger.child({ component: 'idp', provider: config.name });
  }

  health(): ProviderHealth {
    return { ...this.state };
  }

  /** Starts discovery in the background; failures are retried until it succeeds or the provider is closed. */
  startDiscovery(): void {
    void this.discover().catch(() => undefined);
  }

  /** The discovered configuration; tries discovery now when it has not succeeded yet. Throws IdpError `unavailable`. */
  async ready(): Promise<client.Configuration> {
    if (this.configuration) return this.configuration;
    if (this.closed) throw new IdpError('unavailable', 'the gateway is shutting down');
    return this.discover();
  }

  private discover(): Promise<client.Configuration> {
    this.inflight ??= this.attempt().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async attempt(): Promise<client.Configuration> {
    const p = this.config;
    const issuer = new URL(p.issuer);
    const insecure = issuer.protocol === 'http:';
    const timeout = Math.max(1, Math.ceil(p.timeout / 1000));
    try {
      const discovered = await client.discovery(issuer, p.client_id, undefined, client.None(), {
        [client.customFetch]: this.fetch,
        timeout,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
      const metadata = { ...discovered.serverMetadata() };
      for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
        const value = metadata[endpoint];
        if (typeof value !== 'string') throw new Error(`the discovery document has no ${endpoint}`);
        if (!reachable(new URL(value))) throw new Error(`the discovery document's ${endpoint} is not https:// (${new URL(value).origin})`);
      }
      this.authMethod = chooseAuthMethod(p, metadata.token_endpoint_auth_methods_supported);
      const conf = new client.Configuration(
        metadata,
        p.client_id,
        { ...(p.client_secret !== undefined ? { client_secret: p.client_secret } : {}), [client.clockTolerance]: CLOCK_TOLERANCE_S },
        clientAuth(this.authMethod, p, this.d.key),
      );
      conf[client.customFetch] = this.fetch;
      conf.timeout = timeout;
      if (insecure) client.allowInsecureRequests(conf);
      // The ID token's signature is checked against the provider's JWKS even though it comes straight
      // from the token endpoint (openid-client would otherwise rely on TLS alone, and a loopback
      // provider has none).
      client.enableNonRepudiationChecks(conf);
      if (this.closed) throw new Error('closed');
      this.configuration = conf;
      this.failures = 0;
      this.state = { status: 'ready' };
      this.log.info({ issuer: p.issuer, token_endpoint_auth_method: this.authMethod }, 'identity provider discovered');
      return conf;
    } catch (err) {
      this.failures++;
      const message = describe(err);
      this.state = { status: 'unreachable', error: message };
      if (!this.closed && this.timer === undefined) {
        const wait = Math.min(RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 10), RETRY_MAX_MS);
        this.log.warn({ issuer: p.issuer, attempt: this.failures, retry_in_ms: wait, err: { message } }, 'identity provider discovery failed');
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (!this.configuration && !this.closed) this.startDiscovery();
        }, wait);
        this.timer.unref();
      }
      throw new IdpError('unavailable', message);
    }
  }

  /** Where to send the browser: the provider's authorization endpoint with the code-flow parameters. */
  async authorizationUrl(checks: AuthorizationChecks): Promise<URL> {
    const conf = await this.ready();
    return client.buildAuthorizationUrl(conf, {
      redirect_uri: checks.redirectUri,
      response_type: 'code',
      scope: this.config.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      ...(checks.reauth ? { prompt: 'login', max_age: '0' } : {}),
    });
  }

  /**
   * The callback: validates the authorization response (`state`, `iss`), exchanges the code (with the
   * PKCE verifier) and checks the ID token. Throws IdpError.
   */
  async signIn(query: URLSearchParams, checks: AuthorizationChecks): Promise<VerifiedIdentity> {
    const conf = await this.ready();
    const current = new URL(checks.redirectUri);
    for (const [k, v] of query) current.searchParams.append(k, v);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(conf, current, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
        // max_age=0 was asked: auth_time must be now (within the clock tolerance).
        ...(checks.reauth ? { maxAge: 0 } : {}),
      });
    } catch (err) {
      throw classify(err);
    }
    const idToken = tokens.claims();
    if (!idToken) throw new IdpError('invalid_response', 'the token endpoint returned no ID token');
    const nowS = this.d.clock.now() / 1000;
    if (typeof idToken.iat !== 'number' || idToken.iat > nowS + CLOCK_TOLERANCE_S) {
      throw new IdpError('invalid_response', 'the ID token was issued in the future (iat)', 'iat');
    }
    const claims: Record<string, unknown> = { ...idToken };
    const mapped = Object.values(this.config.claims);
    const missing = mapped.filter((c) => claims[c] === undefined);
    if (missing.length > 0 && conf.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(conf, tokens.access_token, idToken.sub);
        // Only the claims the config maps (with their `_verified` companions), and only where the ID
        // token is silent: the ID token wins.
        for (const c of missing) {
          if (info[c] === undefined) continue;
          claims[c] = info[c];
          if (info[`${c}_verified`] !== undefined) claims[`${c}_verified`] = info[`${c}_verified`];
        }
      } catch (err) {
        throw classify(err);
      }
    }
    const amr = Array.isArray(idToken.amr) ? idToken.amr.filter((v): v is string => typeof v === 'string' && AMR_VALUE.test(v)).slice(0, 16) : [];
    const acr = typeof idToken.acr === 'string' && idToken.acr.length <= 256 ? idToken.acr : undefined;
    return { sub: idToken.sub, claims, amr, ...(acr !== undefined ? { acr } : {}) };
  }

  /** The provider's end_session_endpoint with this client and where to come back, when discovered and advertised. */
  endSessionUrl(postLogoutRedirectUri: string | undefined): URL | undefined {
    const conf = this.configuration;
    if (!conf || typeof conf.serverMetadata().end_session_endpoint !== 'string') return undefined;
    try {
      return client.buildEndSessionUrl(conf, postLogoutRedirectUri ? { post_logout_redirect_uri: postLogoutRedirectUri } : {});
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A failure's message for logs: openid-client's specific cause where it has one; never a token or claim. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 300);
}

function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return true;
  return err instanceof TypeError && /fetch failed|refusing to contact/i.test(err.message);
}

/** openid-client's errors to the three failures the use-case distinguishes. */
export function classify(err: unknown): IdpError {
  if (err instanceof IdpError) return err;
  if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
    const code = /^[a-z_]{1,64}$/.test(err.error) ? err.error : 'error';
    return new IdpError('provider_error', `the provider answered '${code}'`, code);
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // A 401 with a challenge (a wrong client secret): the challenge's `error`, else the status.
    const error = err.cause.map((c) => c.parameters.error).find((e): e is string => typeof e === 'string' && /^[a-z_]{1,64}$/.test(e));
    const code = error ?? `http_${err.status}`;
    return new IdpError('provider_error', `the provider answered '${code}'`, code);
  }
  if (isNetworkFailure(err)) return new IdpError('unavailable', describe(err));
  const code = err instanceof client.ClientError && typeof err.code === 'string' ? err.code : undefined;
  return new IdpError('invalid_response', describe(err), code);
}
