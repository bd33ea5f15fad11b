import type { FactorMethod } from '../config/schema/index.js';
import type { SessionData, SessionManager } from '../session/sessions.js';
import type { SessionIdp } from '../session/session-data.js';
import type { UserRecord } from '../users/directory.js';

export interface IssueOptions {
  level: 'one_factor' | 'two_factor';
  /** Completed factors besides the password (`email`, `totp`, `trusted_device`, ...). */
  factors: string[];
  now: number;
  deviceId?: string | undefined;
  clientIp: string;
  userAgent?: string | undefined;
  apiToken?: boolean;
  /** The user needs no second factor (policy off, or `second_factor: {enabled: false}`). */
  exempt?: boolean;
  flow?: string | undefined;
  enrol?: FactorMethod | undefined;
  /** The session being replaced: ids rotate at every change of authentication level. */
  replace?: string | undefined;
  /** The host the browser signed in on: the cookie is good only there (or within the configured cookie domain). */
  host?: string | undefined;
  /** Made from this app password (its id): the session is good only where app passwords are. */
  appPassword?: string | undefined;
  /** Signed in through this identity provider instead of a password (the first factor is then `oidc`). */
  idp?: SessionIdp | undefined;
}

/** Makes the session for a user who passed a step; the old one (if any) is ended. */
export async function issueSession(sessions: SessionManager, user: UserRecord, o: IssueOptions): Promise<{ id: string; cookie: string; session: SessionData }> {
  if (o.replace) await sessions.revoke(o.replace);
  const first = o.idp ? 'oidc' : 'password';
  const second = o.factors.filter((f) => f !== 'password' && f !== 'oidc');
  return sessions.create({
    user: user.username,
    displayName: user.displayName,
    email: user.email,
    groups: user.groups,
    authenticatedAt: o.now,
    factors: [{ method: first, at: o.now }, ...second.map((method) => ({ method, at: o.now }))],
    level: o.level,
    // A trusted device stands in for the code at sign-in, but it is not a fresh second factor: rules
    // with `max_auth_age` (step-up) still ask for one.
    ...(o.level === 'two_factor' ? { secondFactorAt: o.factors.includes('trusted_device') ? 0 : o.now } : {}),
    ...(o.deviceId ? { deviceId: o.deviceId } : {}),
    clientIp: o.clientIp,
    ...(o.userAgent ? { userAgent: o.userAgent.slice(0, 256) } : {}),
    ...(o.apiToken ? { apiToken: true } : {}),
    ...(o.exempt ? { secondFactorExempt: true } : {}),
    ...(o.flow ? { flow: o.flow } : {}),
    ...(o.enrol ? { enrol: o.enrol } : {}),
    ...(o.appPassword ? { appPassword: o.appPassword } : {}),
    ...(o.host ? { host: o.host.toLowerCase() } : {}),
    ...(o.idp ? { idp: { name: o.idp.name, amr: [...o.idp.amr], ...(o.idp.acr !== undefined ? { acr: o.idp.acr } : {}) } } : {}),
  });
}

/** A one-factor session that just completed its second step: new id, level two_factor. */
export async function promoteSession(sessions: SessionManager, id: string, session: SessionData, method: string, now: number) {
  return sessions.rotate(id, {
    level: 'two_factor',
    secondFactorAt: now,
    factors: [...session.factors, { method, at: now }],
    flow: undefined,
    enrol: undefined,
  });
}
