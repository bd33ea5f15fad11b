import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../util/clock.js';

export type ApiClientMethod = 'api_key' | 'bearer_jwt' | 'basic' | 'network';

export type ApiClientResult =
  /** No client credential presented and no network-only client matched. */
  | { kind: 'none' }
  | { kind: 'ok'; client: string; method: ApiClientMethod; subject: string; groups: string[]; stripHeaders: string[] }
  /**
   * `asMissing`: answered exactly as no credential at all (a Basic user's wrong password must not be told
   * from a user no client lists, whose credentials are the upstream's own — issue 17).
   */
  | { kind: 'denied'; reason: string; status: 401 | 403 | 429; retryAfter?: number; asMissing?: true };

export interface ApiClientRequest {
  headers: IncomingHttpHeaders;
  clientIp: string;
  /** Name of the upstream the request is for (checked against a client's `upstreams`). */
  upstream?: string | undefined;
  requestId?: string | undefined;
}

/**
 * The gateway's one regulated password check (auth/passwords.ts) as HTTP Basic clients use it: it
 * answers the user or throws PortcullisError RATE_LIMITED (details.retry_after, seconds),
 * INVALID_CREDENTIALS or DIRECTORY_UNAVAILABLE, and audits the outcome itself.
 */
export interface BasicPasswordCheck {
  confirmPassword(
    username: string,
    password: string,
    info: { clientIp: string; requestId: string },
    o: { event: string; method?: string; cacheTtl?: number },
  ): Promise<{ username: string; groups: string[] }>;
}

/** Remote JWKS behaviour; the defaults suit production, tests shorten them. */
export interface JwksOptions {
  /** HTTP timeout per fetch (default 5 s). */
  timeoutMs?: number;
  /** After a successful fetch, an unknown `kid` refetches at most this often (default 30 s). */
  cooldownMs?: number;
  /** Keys are refetched after this age (default 10 min). */
  cacheMaxAgeMs?: number;
  /** After a failed fetch, fail fast for this long instead of hitting the endpoint again (default 10 s). */
  failureBackoffMs?: number;
  /** Largest JWKS document accepted (default 256 KiB). */
  maxBytes?: number;
}

export interface ApiClientDeps {
  /** Needed when a client uses `basic`. */
  passwords?: BasicPasswordCheck;
  logger: Logger;
  clock?: Clock;
  jwks?: JwksOptions;
}

export interface ApiClientAuthenticator {
  /** Client names, in configuration order. */
  readonly clients: readonly string[];
  /**
   * API-key header names (lower case) that no client keeps (`keep_credential`): removed before
   * forwarding even when the request got in otherwise (a bypass route, a session).
   */
  readonly credentialHeaders: readonly string[];
  /**
   * Never rejects for a bad credential (that is a `denied` result). Throws only
   * PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE') when a Basic password cannot be checked.
   */
  authenticate(req: ApiClientRequest): Promise<ApiClientResult>;
}
