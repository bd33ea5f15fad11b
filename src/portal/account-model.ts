import type { IncomingMessage } from 'node:http';
import { maskEmail, maskPhone } from '../delivery/mask.js';
import type { Gateway } from '../gateway/runtime.js';
import type { UserRecord } from '../users/directory.js';
import { sha256Hex } from '../util/compare.js';
import { enrollableMethods, factorSnapshot, isForced, loginUrl, operatorMethod, portalSession, sessionUser, type PortalSession } from './enroll-session.js';
import type { AccountModel } from './views/account.js';

/** A two-factor session and its user, or the redirect for everyone else (login, second step, enrolment). */
export async function accountAccess(gw: Gateway, req: IncomingMessage): Promise<{ s: PortalSession; user: UserRecord } | { redirect: string }> {
  const p = gw.compiled.prefix;
  const here = `${p}/account`;
  const s = await portalSession(gw, req);
  if (!s) return { redirect: loginUrl(gw, here) };
  if (s.session.level !== 'two_factor') return { redirect: isForced(s) ? `${p}/enroll?rd=${encodeURIComponent(here)}` : `${p}/verify?rd=${encodeURIComponent(here)}` };
  const user = await sessionUser(gw, s);
  if (!user) return { redirect: loginUrl(gw, here) };
  return { s, user };
}

/** Notices the account page shows from its `notice` query parameter. */
export const NOTICES: ReadonlySet<string> = new Set(['method_added', 'method_removed', 'device_removed', 'session_removed', 'recovery_codes_generated', 'second_factor_enabled', 'second_factor_disabled', 'password_set']);

/** The page model: every listed method, device and session of the user. */
export async function accountModel(gw: Gateway, req: IncomingMessage, s: PortalSession, user: UserRecord, notice?: string | null): Promise<AccountModel> {
  const { services } = gw;
  const cfg = gw.config.second_factor;
  const snap = await factorSnapshot(gw, user);
  const methods: AccountModel['methods'] = [];
  if (snap.totpEnrolled) methods.push({ type: 'totp', label: cfg.totp.issuer, removable: true, id: 'totp' });
  if (user.email) methods.push({ type: 'email', label: maskEmail(user.email), removable: false });
  if (snap.state.email?.verified && snap.state.email.address !== user.email) methods.push({ type: 'email', label: maskEmail(snap.state.email.address), removable: true, id: 'email' });
  if (user.phone) methods.push({ type: 'sms', label: maskPhone(user.phone), removable: false });
  if (snap.state.phone?.verified && snap.state.phone.number !== user.phone) methods.push({ type: 'sms', label: maskPhone(snap.state.phone.number), removable: true, id: 'sms' });
  if (cfg.methods.includes('recovery_code') && snap.recoveryLeft > 0) methods.push({ type: 'recovery_code', label: `${snap.recoveryLeft} / ${cfg.recovery_codes.count}`, removable: false });

  const deviceId = gw.deviceId(req.headers.cookie);
  const currentDevice = deviceId ? sha256Hex(`device:${deviceId}`).slice(0, 12) : undefined;
  const devices = (await services.devices.list(user.username)).map((d) => ({
    id: d.id,
    name: d.name,
    ip: d.ip,
    lastUsedAt: new Date(d.lastUsedAt).toISOString(),
    current: d.id === currentDevice,
  }));
  const sessions = (await services.sessions.list(user.username)).map((x) => ({
    id: x.id,
    ip: x.session.clientIp ?? '',
    userAgent: x.session.userAgent ?? '',
    createdAt: new Date(x.session.createdAt).toISOString(),
    current: x.id === s.ref,
  }));
  const optional = cfg.policy === 'optional' && operatorMethod(gw, user) === undefined && user.secondFactor?.enabled !== false;
  return {
    user: { name: user.displayName ?? user.username, username: user.username, ...(user.email ? { email: user.email } : {}), groups: user.groups },
    methods,
    devices,
    sessions,
    canOptIn: optional && !snap.resolved.required,
    canOptOut: optional && snap.resolved.required,
    enrollable: enrollableMethods(gw, user),
    ...(notice ? { notice } : {}),
  };
}
