import type { Config, IdentityProviderConfig } from '../config/schema/index.js';
import { isE164 } from '../delivery/phone.js';
import { isPortcullisError } from '../errors/index.js';
import { IdpError, type IdentityProviders, type ProviderHealth, type VerifiedIdentity } from '../idp/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { Regulator } from '../regulation/regulator.js';
import type { SessionData, SessionIdp } from '../session/session-data.js';
import type { UserDirectory, UserRecord } from '../users/directory.js';
import { EXTERNAL_SOURCE_PREFIX, externalUsername, type ExternalUsers } from '../users/external.js';
import { SignInStates } from './idp-states.js';
import type { Notices } from './notices.js';
import type { RequestInfo } from './request.js';
import type { FirstStepOutcome, SignIn } from './signin.js';

/** `amr` values (RFC 8176) that show the provider did multi-factor authentication. */
export const MFA_AMR = ['mfa', 'otp', 'hwk', 'swk', 'fido'] as const;

/** A claims user's record outlives their sessions: at least this long after their last sign-in. */
const EXTERNAL_USER_MIN_TTL_MS = 30 * 86_400_000;
const MAX_GROUPS = 256;
const NAME = /^[^\s\p{Cc}]{1,256}$/u;
const TEXT = /^[^\p{Cc}]{1,256}$/u;

export interface ProviderButton {
  name: string;
  displayName: string;
}

/** `binding`: the browser's binding value to keep in its cookie (the one it brought, or a new one). */
export type StartOutcome = { kind: 'redirect'; url: string; binding: string } | { kind: 'unknown_provider' } | { kind: 'unavailable' } | { kind: 'rate_limited'; retryAfter: number };

/**
 * Why a callback was refused (the portal shows a plain page for each; the audit line says more):
 * `state` covers a missing, unknown, expired, used or foreign state.
 */
export type CallbackRefusal =
  | 'unknown_provider'
  | 'state'
  | 'cancelled'
  | 'provider_error'
  | 'invalid_response'
  | 'unavailable'
  | 'unknown_user'
  | 'not_allowed'
  | 'disabled'
  | 'locked';

/** What follows an identity provider's sign-in: what follows a password, or nothing when its MFA is trusted. */
export type IdpStep = FirstStepOutcome | { kind: 'authenticated'; user: UserRecord; via: 'idp_mfa' };

export type CallbackOutcome =
  | { kind: 'refused'; reason: CallbackRefusal }
  | { kind: 'signed_in'; step: IdpStep; rd: string; idp: SessionIdp };

export interface IdentityProviderDeps {
  config: () => Readonly<Config>;
  providers: IdentityProviders;
  states: SignInStates;
  directory: UserDirectory;
  externalUsers: ExternalUsers;
  signIn: SignIn;
  regulator: Regulator;
  notices: Notices;
  metrics: Metrics;
}

/**
 * Signing in through an identity provider (SPEC §3 `/oidc/NAME/start` and `/callback`), a first step
 * like the password: `start` sends the browser to the provider with a fresh state bound to it; the
 * callback checks everything (idp/), finds or makes the user, applies `allowed_groups` and the lockout,
 * and then continues exactly as after a right password (`SignIn.afterFirstFactor`) — unless the provider
 * is trusted for MFA and its ID token shows it.
 */
export class IdentityProviderSignIn {
  constructor(private readonly d: IdentityProviderDeps) {}

  /** The sign-in page's buttons, in configured order. */
  buttons(): ProviderButton[] {
    return this.d.providers.list.map((p) => ({ name: p.name, displayName: p.displayName }));
  }

  health(): Record<string, ProviderHealth> {
    return this.d.providers.health();
  }

  /** `binding`: the value of the browser's binding cookie, if it has one (sign-ins started in other tabs keep working). */
  async start(name: string, o: { rd: string; redirectUri: string; binding: string | undefined; info: RequestInfo; reauth?: boolean }): Promise<StartOutcome> {
    const provider = this.d.providers.get(name);
    if (!provider) return { kind: 'unknown_provider' };
    if (!(await this.d.states.admit(o.info.clientIp))) {
      this.refused(provider.name, o.info, 'rate_limited', undefined, undefined);
      return { kind: 'rate_limited', retryAfter: 60 };
    }
    const binding = SignInStates.wellFormed(o.binding) ? o.binding : this.d.states.newBinding();
    const checks = this.d.states.newChecks();
    let url: URL;
    try {
      url = await provider.authorizationUrl({ ...checks, redirectUri: o.redirectUri, reauth: o.reauth });
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      this.refused(provider.name, o.info, 'unavailable', undefined, err.message);
      return { kind: 'unavailable' };
    }
    await this.d.states.save(checks.state, binding, { provider: provider.name, codeVerifier: checks.codeVerifier, nonce: checks.nonce, rd: o.rd, redirectUri: o.redirectUri, ...(o.reauth ? { reauth: true } : {}) });
    this.d.notices.audit(o.info, 'idp_login_started', undefined, 'info', undefined, { method: 'oidc', provider: provider.name });
    return { kind: 'redirect', url: url.href, binding };
  }

  /**
   * The provider's answer. Every refusal leaves no session and is audited; a success names the user and
   * the next step. Store errors propagate (the caller fails closed).
   */
  async callback(name: string, o: { query: URLSearchParams; binding: string | undefined; info: RequestInfo }): Promise<CallbackOutcome> {
    const provider = this.d.providers.get(name);
    if (!provider) return { kind: 'refused', reason: 'unknown_provider' };
    const taken = await this.d.states.take(o.query.get('state'), o.binding);
    if (taken.status !== 'ok' || taken.state.provider !== provider.name) {
      const why = taken.status === 'foreign' ? 'foreign_browser' : taken.status === 'ok' ? 'other_provider' : o.query.has('state') ? 'unknown_state' : 'no_state';
      return this.refuse(provider.name, o.info, 'state', undefined, why);
    }
    const s = taken.state;

    let identity: VerifiedIdentity;
    try {
      identity = await provider.signIn(o.query, { redirectUri: s.redirectUri, state: o.query.get('state')!, nonce: s.nonce, codeVerifier: s.codeVerifier, reauth: s.reauth });
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      if (err.kind === 'provider_error' && err.detail === 'access_denied') return this.refuse(provider.name, o.info, 'cancelled', undefined, 'access_denied');
      return this.refuse(provider.name, o.info, err.kind, undefined, err.detail ? `${err.detail}: ${err.message}` : err.message);
    }

    const cfg = provider.config;
    const claimed = readClaims(cfg, identity);
    if (!claimed.username) return this.refuse(provider.name, o.info, 'unknown_user', undefined, `no usable '${cfg.claims.username}' claim`);
    if (cfg.allowed_groups.length > 0 && !claimed.groups.some((g) => cfg.allowed_groups.includes(g))) {
      return this.refuse(provider.name, o.info, 'not_allowed', claimed.username, 'not_in_allowed_groups');
    }

    let user: UserRecord | null;
    if (cfg.users === 'directory') {
      try {
        user = await this.d.directory.lookup(claimed.username);
      } catch (err) {
        if (isPortcullisError(err, 'PORTCULLIS_ERR_STORE_UNAVAILABLE')) throw err;
        return this.refuse(provider.name, o.info, 'unavailable', claimed.username, 'directory_unavailable');
      }
      if (!user) return this.refuse(provider.name, o.info, 'unknown_user', claimed.username, 'not_in_directory');
      if (user.disabled) return this.refuse(provider.name, o.info, 'disabled', user.username, 'disabled');
    } else {
      user = {
        username: externalUsername(provider.name, claimed.username),
        ...(claimed.displayName ? { displayName: claimed.displayName } : {}),
        ...(claimed.email ? { email: claimed.email } : {}),
        ...(claimed.phone ? { phone: claimed.phone } : {}),
        groups: claimed.groups,
        disabled: false,
        source: `${EXTERNAL_SOURCE_PREFIX}${provider.name}`,
      };
      await this.d.externalUsers.save(user, Math.max(this.d.config().session.lifetime, EXTERNAL_USER_MIN_TTL_MS));
    }
    if (await this.d.regulator.isLocked(user.username)) return this.refuse(provider.name, o.info, 'locked', user.username, 'locked');

    const idp: SessionIdp = { name: provider.name, amr: identity.amr, ...(identity.acr !== undefined ? { acr: identity.acr } : {}) };
    const mfa = cfg.second_factor === 'trust_idp_mfa' && showsMfa(cfg, identity);
    const step: IdpStep = mfa ? { kind: 'authenticated', user, via: 'idp_mfa' } : await this.d.signIn.afterFirstFactor(user, o.info);
    if (mfa) this.d.notices.audit(o.info, 'second_factor', user.username, 'success', 'idp_mfa', { method: 'oidc', provider: provider.name });
    const outcome = step.kind === 'authenticated' ? 'authenticated' : step.kind;
    this.d.metrics.idpSignIns.inc({ provider: provider.name, outcome });
    this.d.notices.audit(o.info, 'idp_login', user.username, 'success', outcome, { method: 'oidc', provider: provider.name, amr: identity.amr });
    return { kind: 'signed_in', step, rd: s.rd, idp };
  }

  /**
   * Step-up for a session begun at a provider whose MFA was trusted and whose user has no second factor
   * of Portcullis' own: the provider is asked to sign the user in again. Undefined when that does not apply.
   */
  stepUpProvider(session: Pick<SessionData, 'idp' | 'factors'>): string | undefined {
    if (!session.idp || !session.factors.some((f) => f.method === 'idp_mfa')) return undefined;
    return this.d.providers.get(session.idp.name)?.config.second_factor === 'trust_idp_mfa' ? session.idp.name : undefined;
  }

  /** Where the browser goes after logout: the provider's end_session_endpoint when `end_session` is on. */
  endSessionUrl(session: Pick<SessionData, 'idp'>, postLogoutRedirectUri: string | undefined): string | undefined {
    if (!session.idp) return undefined;
    const provider = this.d.providers.get(session.idp.name);
    if (!provider?.config.end_session) return undefined;
    return provider.endSessionUrl(postLogoutRedirectUri)?.href;
  }

  private refused(provider: string, info: RequestInfo, reason: CallbackRefusal | 'rate_limited', user: string | undefined, detail: string | undefined): void {
    this.d.metrics.idpSignIns.inc({ provider, outcome: reason });
    this.d.notices.audit(info, 'idp_login', user, 'failure', reason, { method: 'oidc', provider, ...(detail ? { detail: detail.slice(0, 300) } : {}) });
  }

  private refuse(provider: string, info: RequestInfo, reason: CallbackRefusal, user: string | undefined, detail: string | undefined): CallbackOutcome {
    this.refused(provider, info, reason, user, detail);
    return { kind: 'refused', reason };
  }
}

/** Whether the ID token shows multi-factor authentication at the provider. */
export function showsMfa(cfg: Pick<IdentityProviderConfig, 'mfa_acr_values'>, identity: Pick<VerifiedIdentity, 'amr' | 'acr'>): boolean {
  if (identity.amr.some((v) => (MFA_AMR as readonly string[]).includes(v))) return true;
  return identity.acr !== undefined && cfg.mfa_acr_values.includes(identity.acr);
}

interface Claimed {
  username?: string;
  displayName?: string;
  email?: string;
  phone?: string;
  groups: string[];
}

/** The mapped claims, each checked for shape; an address the provider says is unverified is not used. */
export function readClaims(cfg: Pick<IdentityProviderConfig, 'claims'>, identity: Pick<VerifiedIdentity, 'claims'>): Claimed {
  const c = identity.claims;
  const text = (name: string, pattern: RegExp): string | undefined => {
    const v = c[name];
    return typeof v === 'string' && pattern.test(v) ? v : typeof v === 'number' && name === cfg.claims.username ? String(v) : undefined;
  };
  const out: Claimed = { groups: groupsOf(c[cfg.claims.groups]) };
  const username = text(cfg.claims.username, NAME);
  if (username) out.username = username;
  const displayName = text(cfg.claims.display_name, TEXT);
  if (displayName) out.displayName = displayName;
  // `email` comes with `email_verified`, `phone_number` with `phone_number_verified` (OIDC Core §5.1).
  const email = text(cfg.claims.email, NAME);
  if (email && email.includes('@') && c[`${cfg.claims.email}_verified`] !== false) out.email = email;
  const phone = text(cfg.claims.phone, NAME);
  if (phone && isE164(phone) && c[`${cfg.claims.phone}_verified`] !== false) out.phone = phone;
  return out;
}

function groupsOf(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const out: string[] = [];
  for (const g of list) {
    if (typeof g === 'string' && TEXT.test(g) && !out.includes(g)) out.push(g);
    if (out.length >= MAX_GROUPS) break;
  }
  return out;
}
