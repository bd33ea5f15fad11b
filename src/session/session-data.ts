import { sha256Hex } from '../util/compare.js';

export interface SessionData {
  user: string;
  displayName?: string;
  email?: string;
  groups: string[];
  /** Absolute lifetime: createdAt .. expiresAt (ms since epoch). */
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  /** When the password (or the identity provider's sign-in) was checked. */
  authenticatedAt: number;
  /** Completed factors, e.g. {method:'password'}, {method:'email'}; `oidc` first for an identity provider's sign-in. */
  factors: { method: string; at: number }[];
  level: 'one_factor' | 'two_factor';
  secondFactorAt?: number;
  deviceId?: string;
  clientIp?: string;
  userAgent?: string;
  /** Per-session CSRF secret. */
  csrf: string;
  /** Issued to the JSON API (bearer). */
  apiToken?: boolean;
  /** The user needs no second factor (policy off or `second_factor: {enabled: false}`). */
  secondFactorExempt?: boolean;
  /** The second-factor flow in progress (one-factor sessions and step-ups). */
  flow?: string | undefined;
  /** A method the user must enrol before the second step can be done. */
  enrol?: string | undefined;
  /** The host (lower case, no port) a browser session was issued on; see auth/access.ts `boundHost`. */
  host?: string;
  /** Made by the API login with an app password (its id): valid only on rules with `app_passwords: true`. */
  appPassword?: string;
  /** Signed in through an identity provider (instead of a password): its name and what its ID token said. */
  idp?: SessionIdp | undefined;
}

/** The identity provider a session began at, and the ID token's `amr` and `acr`. */
export interface SessionIdp {
  name: string;
  amr: string[];
  acr?: string | undefined;
}

/** What `create` takes: the store sets the times and the CSRF secret. */
export type NewSession = Omit<SessionData, 'createdAt' | 'expiresAt' | 'lastSeenAt' | 'csrf'> & { lifetimeMs?: number };

/** What `rotate` and `update` may change (never the user, the lifetime or the CSRF secret). */
export type SessionPatch = Partial<Omit<SessionData, 'user' | 'createdAt' | 'expiresAt' | 'lastSeenAt' | 'csrf'>>;

/** A session as operators see it (`list`): no CSRF secret. */
export type SessionView = Omit<SessionData, 'csrf'>;

/** The safe reference of a session id: sha256 hex. Store keys use it; operators see it; it never authenticates. */
export function sessionRef(id: string): string {
  return sha256Hex(id);
}

export const REF_PATTERN = /^[0-9a-f]{64}$/;

export const keys = {
  session: (ref: string) => `session:${ref}`,
  seen: (ref: string) => `session-seen:${ref}`,
  revoked: (ref: string) => `session-revoked:${ref}`,
  userSessions: (user: string) => `user-sessions:${user}`,
  users: 'session-users',
  channel: 'revocations',
};

/** A stored record back to SessionData, or undefined when it is not one of ours. */
export function parseSession(raw: string): SessionData | undefined {
  try {
    const v = JSON.parse(raw) as Partial<SessionData> | null;
    if (
      !v ||
      typeof v.user !== 'string' ||
      typeof v.createdAt !== 'number' ||
      typeof v.expiresAt !== 'number' ||
      typeof v.lastSeenAt !== 'number' ||
      typeof v.csrf !== 'string' ||
      !Array.isArray(v.groups) ||
      !Array.isArray(v.factors) ||
      (v.level !== 'one_factor' && v.level !== 'two_factor')
    )
      return undefined;
    return v as SessionData;
  } catch {
    return undefined;
  }
}

/**
 * Fan-out messages on the `revocations` channel. `{ref}` alone: the record changed (caches drop it);
 * `{ref, next}`: the id rotated (the session lives on under `next`); `{ref, end: true}`, `{user}`,
 * `{all: true}`: sessions ended (caches drop them and the connections they opened are closed).
 */
export type Revocation = { ref: string; end?: true; next?: string } | { user: string } | { all: true };

/** A session that ended, or an id that rotated, as listeners of SessionManager.onEnded see it. */
export type SessionEnd = { kind: 'ref'; ref: string } | { kind: 'user'; user: string } | { kind: 'all' } | { kind: 'rotated'; ref: string; next: string };

export function parseRevocation(message: string): Revocation | undefined {
  if (message.length > 4096) return undefined;
  try {
    const v = JSON.parse(message) as Record<string, unknown> | null;
    if (v && typeof v.ref === 'string') {
      if (v.end === true) return { ref: v.ref, end: true };
      if (typeof v.next === 'string' && REF_PATTERN.test(v.next)) return { ref: v.ref, next: v.next };
      return { ref: v.ref };
    }
    if (v && typeof v.user === 'string') return { user: v.user };
    if (v && v.all === true) return { all: true };
  } catch {
    // ignored
  }
  return undefined;
}

/** What a fan-out message means for open connections (undefined: a change that ends nothing). */
export function endOf(r: Revocation): SessionEnd | undefined {
  if ('ref' in r) {
    if (r.end) return { kind: 'ref', ref: r.ref };
    if (r.next !== undefined) return { kind: 'rotated', ref: r.ref, next: r.next };
    return undefined;
  }
  if ('user' in r) return { kind: 'user', user: r.user };
  return { kind: 'all' };
}
