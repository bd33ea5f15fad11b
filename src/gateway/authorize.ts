import type { IncomingHttpHeaders } from 'node:http';
import { isPortcullisError } from '../errors/index.js';
import type { SessionData } from '../session/sessions.js';
import type { Decision } from '../policy/rules.js';
import type { Gateway } from './runtime.js';
import type { Subject } from './identity.js';

export interface AuthzInput {
  headers: IncomingHttpHeaders;
  host: string;
  /** Normalised path. */
  path: string;
  method: string;
  clientIp: string;
  upstream?: string | undefined;
}

export type AuthzResult =
  | { kind: 'allow'; subject?: Subject; session?: { id: string; session: SessionData }; strip: readonly string[]; decision: Decision }
  | { kind: 'deny' }
  | { kind: 'unauthenticated' }
  | { kind: 'second_factor'; session: { id: string; session: SessionData } }
  | { kind: 'reauth'; session: { id: string; session: SessionData } }
  | { kind: 'client_denied'; status: 401 | 403 | 429; reason: string; retryAfter?: number | undefined }
  | { kind: 'unavailable' };

const NO_STRIP: readonly string[] = [];

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h || h.length > 4096 || !/^Bearer /i.test(h)) return undefined;
  const token = h.slice(7).trim();
  // Gateway tokens are `<id>.<signature>`; three-part JWTs belong to API clients.
  return token.split('.').length === 2 ? token : undefined;
}

/**
 * A gateway token in `Authorization` (its signature verifies, live or not) is never forwarded, however
 * the request got in: bypass routes, a session cookie beside it, an API client.
 */
function tokenStrip(gw: Gateway, headers: IncomingHttpHeaders): readonly string[] {
  const token = bearer(headers);
  return token !== undefined && gw.services.sessions.signer.verify(token) !== undefined ? ['authorization'] : NO_STRIP;
}

/** What to remove when no API client matched: a gateway token, and API-key headers no client keeps. */
function credentialStrip(gw: Gateway, gatewayToken: readonly string[]): readonly string[] {
  const keys = gw.compiled.apiClients.credentialHeaders;
  return keys.length === 0 ? gatewayToken : [...gatewayToken, ...keys];
}

/** Finds the caller's session from the cookie or a gateway bearer token. Store errors propagate. */
export async function findSession(gw: Gateway, headers: IncomingHttpHeaders): Promise<{ id: string; session: SessionData; viaBearer: boolean } | undefined> {
  const cookieValue = gw.sessionCookie(headers.cookie);
  if (cookieValue) {
    // A cached, valid session is found without a store round trip or another promise.
    const found = gw.services.sessions.getCached(cookieValue) ?? (await gw.services.sessions.get(cookieValue));
    if (found) return { ...found, viaBearer: false };
  }
  const token = bearer(headers);
  if (token) {
    const found = gw.services.sessions.getCached(token) ?? (await gw.services.sessions.get(token));
    if (found) return { ...found, viaBearer: true };
  }
  return undefined;
}

export function sessionSubject(id: string, s: SessionData): Subject {
  const amr = ['pwd'];
  for (const f of s.factors) {
    if (f.method === 'totp' || f.method === 'email' || f.method === 'sms' || f.method === 'recovery_code') amr.push('otp');
    else if (f.method === 'webauthn') amr.push('hwk');
  }
  return { user: s.user, groups: s.groups, email: s.email, name: s.displayName, method: 'session', amr: [...new Set(amr)], cacheKey: id };
}

/**
 * The access decision for one request: rules first (anonymous), then the caller's session or API
 * credential, then the rules again with the subject. Any store error means no access (fail closed).
 */
export async function authorize(gw: Gateway, input: AuthzInput): Promise<AuthzResult> {
  const { compiled, services } = gw;
  const base = { host: input.host, path: input.path, method: input.method, clientIp: input.clientIp };
  const anon = compiled.access.decide(base);
  if (anon.policy === 'deny') return { kind: 'deny' };
  const gatewayToken = tokenStrip(gw, input.headers);
  if (anon.policy === 'bypass' && !anon.needsSubject) return { kind: 'allow', strip: credentialStrip(gw, gatewayToken), decision: anon };

  let found: Awaited<ReturnType<typeof findSession>>;
  try {
    found = await findSession(gw, input.headers);
  } catch (err) {
    if (isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE')) return { kind: 'unavailable' };
    throw err;
  }

  if (found) {
    const s = found.session;
    const subject = sessionSubject(found.id, s);
    const d = compiled.access.decide({ ...base, subject: { user: s.user, groups: s.groups } });
    const strip = credentialStrip(gw, found.viaBearer ? ['authorization'] : gatewayToken);
    if (d.policy === 'deny') return { kind: 'deny' };
    if (d.policy === 'bypass' || d.policy === 'one_factor') return { kind: 'allow', subject, session: found, strip, decision: d };
    if (s.level !== 'two_factor') return { kind: 'second_factor', session: found };
    if (d.maxAuthAge !== undefined) {
      const at = s.secondFactorAt ?? s.authenticatedAt;
      if (services.clock.now() - at > d.maxAuthAge && !s.secondFactorExempt) return { kind: 'reauth', session: found };
    }
    return { kind: 'allow', subject, session: found, strip, decision: d };
  }

  const client = await compiled.apiClients.authenticate({ headers: input.headers, clientIp: input.clientIp, upstream: input.upstream });
  if (client.kind === 'denied') return { kind: 'client_denied', status: client.status, reason: client.reason, retryAfter: client.retryAfter };
  if (client.kind === 'ok') {
    const d = compiled.access.decide({ ...base, subject: { user: client.subject, groups: client.groups } });
    if (d.policy === 'deny') return { kind: 'deny' };
    const subject: Subject = { user: client.subject, groups: client.groups, method: client.method, amr: [client.method], cacheKey: `client:${client.client}:${client.subject}` };
    return { kind: 'allow', subject, strip: gatewayToken.length ? [...client.stripHeaders, ...gatewayToken] : client.stripHeaders, decision: d };
  }
  if (anon.policy === 'bypass') return { kind: 'allow', strip: credentialStrip(gw, gatewayToken), decision: anon };
  return { kind: 'unauthenticated' };
}
