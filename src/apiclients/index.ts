/**
 * API clients (SPEC §2 `api_clients`): allowlisted machines that get through without the portal.
 *
 * Order of evaluation: an API-key header configured for some client, then `Authorization: Bearer <JWT>`
 * (when bearer clients exist), then `Authorization: Basic` for a listed user, then network-only
 * clients by address. Once a credential of a configured kind is presented, the answer is `ok` or
 * `denied` — never `none`. Exceptions, so that the gateway's and the upstream's own credentials keep
 * working: a Bearer value that is not a JWT (the gateway's session token), and Basic credentials of a
 * user no client lists (the upstream's own HTTP auth), are `none`.
 *
 * Right credential, wrong network or upstream → 403. A network-only client whose address matches but
 * whose upstreams exclude this one is simply not matched (`none`): it holds no credential.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ApiClientConfig, Config } from '../config/schema/index.js';
import { isPortcullisError, PortcullisError } from '../errors/index.js';
import { audit, type Logger } from '../observability/logger.js';
import { systemClock } from '../util/clock.js';
import { NetworkSet } from '../util/net.js';
import { sha256Hex } from '../util/compare.js';
import { MAX_API_KEY_LENGTH, parseAuthorization, singleHeader } from './credentials.js';
import { createJwtVerifier, type JwtVerifier } from './jwt.js';
import type { ApiClientAuthenticator, ApiClientDeps, ApiClientMethod, ApiClientRequest, ApiClientResult } from './types.js';

export type { ApiClientAuthenticator, ApiClientDeps, ApiClientRequest, ApiClientResult, BasicPasswordCheck, JwksOptions } from './types.js';

interface Client {
  name: string;
  networks?: NetworkSet;
  upstreams?: ReadonlySet<string>;
  strip: string[];
}

const MAX_SUBJECT_LENGTH = 256;
const MAX_GROUPS = 100;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function isHeaderSafe(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_SUBJECT_LENGTH && !CONTROL.test(value);
}

function compileClient(cfg: ApiClientConfig, credentialHeader: string | undefined): Client {
  const c: Client = { name: cfg.name, strip: credentialHeader && !cfg.keep_credential ? [credentialHeader] : [] };
  if (cfg.networks?.length) c.networks = new NetworkSet(cfg.networks);
  if (cfg.upstreams !== undefined) c.upstreams = new Set(cfg.upstreams);
  return c;
}

function restrictionFails(c: Client, req: ApiClientRequest): string | undefined {
  if (c.networks && !c.networks.has(req.clientIp)) return 'network_not_allowed';
  if (c.upstreams && (req.upstream === undefined || !c.upstreams.has(req.upstream))) return 'upstream_not_allowed';
  return undefined;
}

function denied(reason: string, status: 401 | 403 | 429, retryAfter?: number): ApiClientResult {
  return retryAfter === undefined ? { kind: 'denied', reason, status } : { kind: 'denied', reason, status, retryAfter };
}

export function compileApiClients(clients: Config['api_clients'], deps: ApiClientDeps): ApiClientAuthenticator {
  const clock = deps.clock ?? systemClock;
  const log: Logger = deps.logger;
  const apiKeys: { client: Client; header: string; digests: Buffer[] }[] = [];
  const apiKeyHeaders: string[] = [];
  const bearers: { client: Client; verify: JwtVerifier; subjectClaim: string }[] = [];
  const basicUsers = new Map<string, { client: Client; ttl: number }>();
  const networkOnly: Client[] = [];

  clients.forEach((cfg, i) => {
    try {
      if (cfg.api_key) {
        const header = cfg.api_key.header.toLowerCase();
        const digests = (Array.isArray(cfg.api_key.sha256) ? cfg.api_key.sha256 : [cfg.api_key.sha256]).map((h) => Buffer.from(h, 'hex'));
        apiKeys.push({ client: compileClient(cfg, header), header, digests });
        if (!apiKeyHeaders.includes(header)) apiKeyHeaders.push(header);
      } else if (cfg.bearer_jwt) {
        bearers.push({ client: compileClient(cfg, 'authorization'), verify: createJwtVerifier(cfg.bearer_jwt, clock, deps.jwks), subjectClaim: cfg.bearer_jwt.subject_claim });
      } else if (cfg.basic) {
        if (!deps.passwords) throw new Error('basic needs a user directory (users.file or users.ldap)');
        const client = compileClient(cfg, 'authorization');
        for (const user of cfg.basic.users) if (!basicUsers.has(user)) basicUsers.set(user, { client, ttl: cfg.basic.cache_ttl });
      } else {
        networkOnly.push(compileClient(cfg, undefined));
      }
    } catch (err) {
      throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `api_clients[${i}] (${cfg.name}): ${(err as Error).message}`, { cause: err });
    }
  });

  function accept(client: Client, method: ApiClientMethod, subject: string, groups: string[], req: ApiClientRequest): ApiClientResult {
    const failed = restrictionFails(client, req);
    if (failed) return deny(client.name, method, failed, 403, req);
    return { kind: 'ok', client: client.name, method, subject, groups, stripHeaders: [...client.strip] };
  }

  function deny(client: string | undefined, method: ApiClientMethod, reason: string, status: 401 | 403 | 429, req: ApiClientRequest, retryAfter?: number, user?: string): ApiClientResult {
    // A refused credential is an authentication decision (SPEC §5): audited, never with the credential.
    audit(log, { event: 'api_client', user: user ?? client, api_client: client, client_ip: req.clientIp, method, result: 'failure', reason });
    return denied(reason, status, retryAfter);
  }

  function byApiKey(header: string, value: string | undefined, req: ApiClientRequest): ApiClientResult {
    if (value === undefined) return deny(undefined, 'api_key', 'repeated_credential_header', 401, req);
    const key = value.trim();
    if (key.length === 0 || key.length > MAX_API_KEY_LENGTH) return deny(undefined, 'api_key', 'malformed_api_key', 401, req);
    const presented = Buffer.from(sha256Hex(key), 'hex');
    let match: Client | undefined;
    // Compare against every digest (no early exit), each in constant time.
    for (const entry of apiKeys) {
      if (entry.header !== header) continue;
      for (const digest of entry.digests) if (timingSafeEqual(presented, digest) && match === undefined) match = entry.client;
    }
    if (!match) return deny(undefined, 'api_key', 'unknown_api_key', 401, req);
    return accept(match, 'api_key', match.name, [], req);
  }

  async function byBearer(token: string, req: ApiClientRequest): Promise<ApiClientResult> {
    let lastReason = 'invalid_token';
    for (const b of bearers) {
      const r = await b.verify(token);
      if (!r.ok) {
        lastReason = r.reason;
        continue;
      }
      // The subject and groups end up in identity headers: no controls, no commas in a group name
      // (Remote-Groups is comma-separated), bounded. A missing subject claim means the client itself.
      const claim = r.payload[b.subjectClaim];
      if (claim !== undefined && !isHeaderSafe(claim)) return deny(b.client.name, 'bearer_jwt', 'invalid_subject_claim', 401, req);
      const subject = typeof claim === 'string' ? claim : b.client.name;
      const g = r.payload['groups'];
      const groups = Array.isArray(g) ? g.filter((x): x is string => isHeaderSafe(x) && !x.includes(',')).slice(0, MAX_GROUPS) : [];
      return accept(b.client, 'bearer_jwt', subject, groups, req);
    }
    return deny(undefined, 'bearer_jwt', bearers.length === 1 ? lastReason : 'invalid_token', 401, req);
  }

  async function byBasic(user: string, password: string, entry: { client: Client; ttl: number }, req: ApiClientRequest): Promise<ApiClientResult> {
    const passwords = deps.passwords;
    if (!passwords) return deny(entry.client.name, 'basic', 'no_directory', 401, req);
    let identity: { username: string; groups: string[] };
    try {
      // Throttle first, then the cache, then the directory: a blocked user or client gets 429 for every
      // attempt, right password or not (auth/passwords.ts audits each outcome).
      identity = await passwords.confirmPassword(user, password, { clientIp: req.clientIp, requestId: req.requestId ?? '' }, { event: 'api_client', method: 'basic', cacheTtl: entry.ttl });
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return denied('rate_limited', 429, Number(err.details.retry_after ?? 60) * 1000);
      if (isPortcullisError(err, 'PORTCULLIS_ERR_INVALID_CREDENTIALS')) return { kind: 'denied', reason: 'invalid_credentials', status: 401, asMissing: true };
      if (isPortcullisError(err)) throw err;
      throw new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE', undefined, { cause: err });
    }
    return accept(entry.client, 'basic', identity.username, [...identity.groups], req);
  }

  async function authenticate(req: ApiClientRequest): Promise<ApiClientResult> {
    for (const header of apiKeyHeaders) {
      const h = singleHeader(req.headers, header);
      if (h.present) return byApiKey(header, h.value, req);
    }
    const auth = parseAuthorization(req.headers);
    if (auth.scheme === 'bearer' && auth.jwt && bearers.length > 0) return byBearer(auth.token, req);
    if (auth.scheme === 'basic') {
      const entry = basicUsers.get(auth.user);
      if (entry) return byBasic(auth.user, auth.password, entry, req);
    }
    for (const client of networkOnly) {
      if (restrictionFails(client, req) === undefined) return { kind: 'ok', client: client.name, method: 'network', subject: client.name, groups: [], stripHeaders: [] };
    }
    return { kind: 'none' };
  }

  const kept = new Set(clients.filter((c) => c.api_key && c.keep_credential).map((c) => c.api_key!.header.toLowerCase()));
  const credentialHeaders = Object.freeze(apiKeyHeaders.filter((h) => !kept.has(h)));
  return Object.freeze({ clients: Object.freeze(clients.map((c) => c.name)), credentialHeaders, authenticate });
}
