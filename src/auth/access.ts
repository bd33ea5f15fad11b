import type { IncomingHttpHeaders } from 'node:http';
import type { ApiClientAuthenticator } from '../apiclients/index.js';
import { isPortcullisError } from '../errors/index.js';
import { parseAuthorization } from '../apiclients/credentials.js';
import type { AccessPolicy, AccessRequest as PolicyRequest, Decision } from '../policy/rules.js';
import type { SessionData } from '../session/sessions.js';
import type { Clock } from '../util/clock.js';
import { bearerToken, type FoundSession, type SessionLookup } from './session-lookup.js';
import type { Subject } from './subject.js';
import type { AppPasswords } from './app-passwords.js';

export interface AccessRequest {
  headers: IncomingHttpHeaders;
  /** Host without port, lower case. */
  host: string;
  /** Normalised path. */
  path: string;
  method: string;
  clientIp: string;
  upstream?: string | undefined;
  requestId?: string | undefined;
}

/** The outcome of one access decision; gateway/refusal.ts turns a refusal into each entrance's answer. */
export type AccessResult =
  | { kind: 'allow'; subject?: Subject; session?: FoundSession; strip: readonly string[]; decision: Decision }
  | { kind: 'deny' }
  | { kind: 'unauthenticated' }
  | { kind: 'second_factor'; session: FoundSession }
  /** Step-up: the second factor is too old (`max_auth_age`) or not one of `methods` (`require_factor`). */
  | { kind: 'reauth'; session: FoundSession; methods?: readonly string[] }
  | { kind: 'client_denied'; status: 401 | 403 | 429; reason: string; retryAfter?: number | undefined }
  | { kind: 'unavailable' };

export type Refusal = Exclude<AccessResult, { kind: 'allow' }>;

/**
 * A browser session is bound to the host it was issued on (issue 17 #3): a cookie from vms.example.com is
 * not accepted on other.example.com, unless both lie within the configured cookie domain. Sessions issued
 * before hosts were recorded, and bearer tokens (apps, no ambient cookie), are not bound.
 */
export function boundHost(sessionHost: string | undefined, requestHost: string, cookieDomain: string): boolean {
  if (sessionHost === undefined || sessionHost === requestHost) return true;
  const domain = cookieDomain.replace(/^\./, '').toLowerCase();
  if (!domain) return false;
  const within = (h: string) => h === domain || h.endsWith(`.${domain}`);
  return within(sessionHost) && within(requestHost);
}

/**
 * Whether the session passed one of `methods` as a second factor (within `maxAge` when given). A trusted
 * device or a password is never one: `require_factor` asks for the factor itself.
 */
export function hasFactor(s: SessionData, methods: readonly string[], maxAge: number | undefined, now: number): boolean {
  return s.factors.some((f) => methods.includes(f.method) && (maxAge === undefined || now - f.at <= maxAge));
}

const NO_STRIP: readonly string[] = Object.freeze([]);
const STRIP_AUTHORIZATION: readonly string[] = Object.freeze(['authorization']);

export interface AccessDeps {
  policy: AccessPolicy;
  apiClients: ApiClientAuthenticator;
  lookup: SessionLookup;
  /** The id a gateway token's signature verifies to (live or not): `SessionManager.verifiedId`, memoised. */
  verifiedId: (value: string) => string | undefined;
  clock: Clock;
  /** The `amr` value of a completed second-factor method (factors registry). */
  amr: (method: string) => string | undefined;
  /** `session.cookie.domain` ('' = host-only cookies): a cookie session is good on its own host or within this domain. */
  cookieDomain?: string;
  /** Users' app passwords, checked only where a rule says `app_passwords: true`. */
  appPasswords?: Pick<AppPasswords, 'check' | 'failed'>;
}

/** The first step of a decision that is not final yet: the request's fields, the anonymous decision, the token check. */
interface Begun {
  base: Omit<PolicyRequest, 'subject'>;
  anon: Decision;
  gatewayToken: () => readonly string[];
}

/**
 * The access decision for one request, the same for every entrance (built-in proxy, WebSocket upgrade,
 * forward-auth): rules first (anonymous), then the caller's session or API credential, then the rules
 * again with the subject. Any store error means no access (fail closed). Built once per config.
 */
export class AccessDecider {
  /** The two answers of credentialStrip, made once (the proxy caches its header sets by array identity). */
  private readonly stripKeys: readonly string[];
  private readonly stripTokenAndKeys: readonly string[];

  constructor(private readonly d: AccessDeps) {
    const keys = d.apiClients.credentialHeaders;
    this.stripKeys = keys.length === 0 ? NO_STRIP : Object.freeze([...keys]);
    this.stripTokenAndKeys = Object.freeze(['authorization', ...keys]);
  }

  /** What to remove when no API client matched: a gateway token, and API-key headers no client keeps. */
  private credentialStrip(gatewayToken: readonly string[]): readonly string[] {
    return gatewayToken.length === 0 ? this.stripKeys : this.stripTokenAndKeys;
  }

  /**
   * A gateway token in `Authorization` (its signature verifies, live or not) is never forwarded, however
   * the request got in: bypass routes, a session cookie beside it, an API client.
   */
  private tokenStrip(headers: IncomingHttpHeaders): readonly string[] {
    const token = bearerToken(headers);
    return token !== undefined && this.d.verifiedId(token) !== undefined ? STRIP_AUTHORIZATION : NO_STRIP;
  }

  subjectOf(id: string, s: SessionData): Subject {
    // A session begun at an identity provider: the provider's amr stands for the first step (RFC 8176 `fed`
    // when it sent none), and the method names the provider.
    const amr = s.idp ? (s.idp.amr.length ? [...s.idp.amr] : ['fed']) : ['pwd'];
    for (const f of s.factors) {
      const value = this.d.amr(f.method);
      if (value !== undefined && !amr.includes(value)) amr.push(value);
    }
    const method = s.idp ? `oidc:${s.idp.name}` : 'session';
    return { user: s.user, groups: s.groups, email: s.email, name: s.displayName, method, amr, cacheKey: id, ...(s.idp ? { idp: s.idp.name } : {}) };
  }

  /**
   * HTTP Basic credentials where a rule allows app passwords: the user's app password lets the request
   * in (never forwarded upstream); a blocked user or client gets 429 whatever the secret; anything else
   * goes on to the API clients (`missed` names the user whose guess counts as failed if nothing accepts it).
   */
  private async appPassword(input: AccessRequest, base: Omit<PolicyRequest, 'subject'>): Promise<AccessResult | { missed?: string }> {
    const apps = this.d.appPasswords;
    if (!apps) return {};
    const auth = parseAuthorization(input.headers);
    if (auth.scheme !== 'basic') return {};
    let hit;
    try {
      hit = await apps.check(auth.user, auth.password, { clientIp: input.clientIp, requestId: input.requestId ?? '' });
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) return { kind: 'client_denied', status: 429, reason: 'rate_limited', retryAfter: Number(err.details.retry_after ?? 60) * 1000 };
      if (isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE') || isPortcullisError(err, 'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE')) return { kind: 'unavailable' };
      throw err;
    }
    if (!hit) return { missed: auth.user };
    const { user } = hit;
    const d = this.d.policy.decide({ ...base, subject: { user: user.username, groups: user.groups } });
    if (d.policy === 'deny' || !d.appPasswords) return { kind: 'deny' };
    const subject: Subject = { user: user.username, groups: user.groups, email: user.email, name: user.displayName, method: 'app_password', amr: ['pwd'], cacheKey: `app:${user.username}:${hit.id}` };
    // The app password itself is in Authorization: never forwarded.
    return { kind: 'allow', subject, strip: this.credentialStrip(STRIP_AUTHORIZATION), decision: d };
  }

  /**
   * The decision for one request. What memory can decide (a bypass or deny rule, a cached session) is
   * decided as `decideCached` does, with no store call; the rest takes the store and the API clients.
   */
  async decide(input: AccessRequest): Promise<AccessResult> {
    const start = this.begin(input);
    if ('kind' in start) return start;
    return this.cachedSession(input, start) ?? this.afterLookup(input, start);
  }

  /**
   * The same decision, synchronously, when it needs nothing but memory: deny and bypass rules, and a
   * session the cache holds (SessionLookup.findCached). Undefined when the store, an API client or an app
   * password must be asked: call `decide` (which then gives what this would have, had it known).
   */
  decideCached(input: AccessRequest): AccessResult | undefined {
    const start = this.begin(input);
    return 'kind' in start ? start : this.cachedSession(input, start);
  }

  /** The rules without a subject: deny and (subject-free) bypass are final; otherwise what the next steps need. */
  private begin(input: AccessRequest): AccessResult | Begun {
    const base = { host: input.host, path: input.path, method: input.method, clientIp: input.clientIp };
    const anon = this.d.policy.decide(base);
    if (anon.policy === 'deny') return { kind: 'deny' };
    // Whether a gateway token in Authorization must be stripped: a signature check (memoised), done only when needed.
    let tokenStripped: readonly string[] | undefined;
    const gatewayToken = (): readonly string[] => (tokenStripped ??= this.tokenStrip(input.headers));
    if (anon.policy === 'bypass' && !anon.needsSubject) return { kind: 'allow', strip: this.credentialStrip(gatewayToken()), decision: anon };
    return { base, anon, gatewayToken };
  }

  /** A session the cache holds, decided; undefined when there is none to be had from memory. */
  private cachedSession(input: AccessRequest, start: Begun): AccessResult | undefined {
    const found = this.d.lookup.findCached(input.headers);
    // A cookie session on a host it was not issued for: the lookup that follows looks for other credentials.
    if (!found || (!found.viaBearer && !boundHost(found.session.host, input.host.toLowerCase(), this.d.cookieDomain ?? ''))) return undefined;
    return this.withSession(found, start);
  }

  /** A found session's decision: the rules again with the subject where they name users or groups, then its level and age. */
  private withSession(found: FoundSession, { anon, base, gatewayToken }: Begun): AccessResult {
    const { policy, clock } = this.d;
    const s = found.session;
    const subject = this.subjectOf(found.id, s);
    // The rules decide alike for everyone unless a rule naming users or groups matched (needsSubject):
    // only then is the walk worth doing again with the subject.
    const d = anon.needsSubject ? policy.decide({ ...base, subject: { user: s.user, groups: s.groups } }) : anon;
    // Found through the bearer token: its signature was just checked, the header goes.
    const strip = this.credentialStrip(found.viaBearer ? STRIP_AUTHORIZATION : gatewayToken());
    if (d.policy === 'deny') return { kind: 'deny' };
    // A token made from an app password is good only where app passwords are (issue 16).
    if (s.appPassword !== undefined && !d.appPasswords) return { kind: 'deny' };
    if (d.policy === 'bypass' || d.policy === 'one_factor') return { kind: 'allow', subject, session: found, strip, decision: d };
    if (s.appPassword !== undefined) return { kind: 'allow', subject, session: found, strip, decision: d };
    if (s.level !== 'two_factor') return { kind: 'second_factor', session: found };
    if (d.requireFactor) {
      // A named factor is required of everyone, second-factor-exempt users included (they hold none of it).
      if (!hasFactor(s, d.requireFactor, d.maxAuthAge, clock.now())) return { kind: 'reauth', session: found, methods: d.requireFactor };
    } else if (d.maxAuthAge !== undefined) {
      const at = s.secondFactorAt ?? s.authenticatedAt;
      if (clock.now() - at > d.maxAuthAge && !s.secondFactorExempt) return { kind: 'reauth', session: found };
    }
    return { kind: 'allow', subject, session: found, strip, decision: d };
  }

  /** The store's answer for the session (not cached), then app passwords and API clients. */
  private async afterLookup(input: AccessRequest, start: Begun): Promise<AccessResult> {
    const { policy, lookup, apiClients } = this.d;
    const { base, anon, gatewayToken } = start;

    let found: FoundSession | undefined;
    try {
      found = await lookup.find(input.headers);
    } catch (err) {
      if (isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE')) return { kind: 'unavailable' };
      throw err;
    }

    // A cookie session presented on a host it was not issued for is none (the request may still carry an API credential).
    if (found && !found.viaBearer && !boundHost(found.session.host, input.host.toLowerCase(), this.d.cookieDomain ?? '')) found = undefined;
    if (found) return this.withSession(found, start);

    const app = anon.appPasswords ? await this.appPassword(input, base) : undefined;
    if (app && 'kind' in app) return app;
    const client = await apiClients.authenticate({ headers: input.headers, clientIp: input.clientIp, upstream: input.upstream, requestId: input.requestId });
    // Basic credentials that were neither an app password nor an API client's: a failed password guess.
    if (client.kind !== 'ok' && app?.missed !== undefined) await this.d.appPasswords?.failed(app.missed, { clientIp: input.clientIp, requestId: input.requestId ?? '' });
    // A wrong Basic password is answered as no credential (the same answer as for an unlisted user).
    if (client.kind === 'denied' && client.asMissing) return { kind: 'unauthenticated' };
    if (client.kind === 'denied') return { kind: 'client_denied', status: client.status, reason: client.reason, retryAfter: client.retryAfter };
    if (client.kind === 'ok') {
      const d = policy.decide({ ...base, subject: { user: client.subject, groups: client.groups } });
      if (d.policy === 'deny') return { kind: 'deny' };
      const subject: Subject = { user: client.subject, groups: client.groups, method: client.method, amr: [client.method], cacheKey: `client:${client.client}:${client.subject}` };
      const token = gatewayToken();
      return { kind: 'allow', subject, strip: token.length ? [...client.stripHeaders, ...token] : client.stripHeaders, decision: d };
    }
    if (anon.policy === 'bypass') return { kind: 'allow', strip: this.credentialStrip(gatewayToken()), decision: anon };
    return { kind: 'unauthenticated' };
  }
}
