import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../config/schema/index.js';
import { userKey } from '../regulation/keys.js';
import type { KeyValueStore } from '../store/store.js';
import type { UserRecord } from '../users/directory.js';
import type { Clock } from '../util/clock.js';
import type { Challenge, ChallengeRequest, Enrolled, SecondFactor, Verdict } from './factor.js';
import { open, seal } from './sealed.js';

/** Bounds on what a client may send (a JSON response is a few hundred bytes; a name is short). */
const MAX_RESPONSE = 16_384;
const MAX_NAME = 64;
const MAX_CREDENTIALS = 20;

/** One passkey of a user, as kept in the store. */
export interface Passkey {
  /** Credential id, base64url. */
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: AuthenticatorTransportFuture[];
  name: string;
  createdAt: number;
  lastUsedAt?: number;
}

/** What the account page shows of a passkey. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt?: number;
}

/** Where a ceremony happens: the page's origin and the RP ID (default: the origin's host). */
export interface CeremonySite {
  origin: string;
  rpId?: string;
}

interface PendingChallenge {
  challenge: string;
  user: string;
  origin: string;
  rpId: string;
}

/** Something a caller should audit: a passkey whose signature counter went backwards (a clone). */
export interface PasskeyEvent {
  event: 'webauthn_counter_regressed';
  user: string;
  credentialId: string;
  stored: number;
}

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server. Keys: `webauthn:<user>` (the user's passkeys,
 * sealed: the public keys are not secret, but a record must not be swapped or edited in the store),
 * `webauthn:reg:<user>` (a registration challenge) and `webauthn:ch:<flowId>` (an authentication
 * challenge, bound to the flow and the user it was made for). A challenge is claimed (`getDel`) by the
 * one right answer and expires with `second_factor.webauthn.timeout`; the origin and RP ID recorded with it are the only
 * ones accepted.
 */
export class WebAuthnFactor implements SecondFactor {
  readonly method = 'webauthn' as const;
  readonly kind = 'secret' as const;
  /** RFC 8176: proof-of-possession of a hardware-secured key. */
  readonly amr = 'hwk';

  constructor(
    private readonly store: KeyValueStore,
    private readonly cfg: () => Config['second_factor']['webauthn'],
    private readonly defaultOrigin: () => string | undefined,
    private readonly encryptionKey: Buffer,
    private readonly clock: Clock,
    private readonly onEvent: (e: PasskeyEvent) => void = () => {},
  ) {
    if (encryptionKey.length !== 32) throw new TypeError('The WebAuthn encryption key must be 32 bytes');
  }

  codeFormat(): undefined {
    return undefined;
  }

  async enrolled(user: UserRecord): Promise<Enrolled | undefined> {
    return (await this.credentials(user.username)).length > 0 ? { type: 'webauthn', kind: 'secret' } : undefined;
  }

  /** Makes the authentication challenge for the flow; the options are had with `requestOptions`. */
  async challenge(request: ChallengeRequest & { origin?: string }): Promise<Challenge> {
    await this.requestOptions(request.flowId, request.user.username, request.origin ? { origin: request.origin } : undefined);
    return { kind: 'none' };
  }

  /**
   * Options for the second step of `flowId` (replacing an earlier challenge of the flow), listing the
   * user's passkeys. Undefined when the site is unknown or the user has no passkey.
   */
  async requestOptions(flowId: string, user: string, site?: CeremonySite): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const where = this.site(site);
    const creds = await this.credentials(user);
    if (!where || creds.length === 0) return undefined;
    const cfg = this.cfg();
    const options = await generateAuthenticationOptions({
      rpID: where.rpId,
      allowCredentials: creds.map((c) => ({ id: c.id, transports: c.transports })),
      userVerification: cfg.user_verification,
      timeout: cfg.timeout,
    });
    const pending: PendingChallenge = { challenge: options.challenge, user, origin: where.origin, rpId: where.rpId };
    await this.store.set(`webauthn:ch:${flowId}`, JSON.stringify(pending), cfg.timeout);
    return options;
  }

  /** Checks an `AuthenticationResponseJSON` (as a JSON string) against the flow's challenge; a challenge works once. */
  async verify(flowId: string, user: string, response: string): Promise<Verdict> {
    if (response.length === 0 || response.length > MAX_RESPONSE) return { result: 'invalid' };
    const parsed = parseJson(response);
    if (!isAuthenticationResponse(parsed)) return { result: 'invalid' };
    const chKey = `webauthn:ch:${flowId}`;
    const raw = await this.store.get(chKey);
    if (raw === null) return { result: 'expired' };
    const pending = parseJson(raw) as PendingChallenge | undefined;
    if (!pending || pending.user !== user) return { result: 'invalid' };
    const creds = await this.credentials(user);
    const cred = creds.find((c) => c.id === parsed.id);
    if (!cred) return { result: 'invalid' }; // another user's passkey, or one removed
    let newCounter: number;
    try {
      const r = await verifyAuthenticationResponse({
        response: parsed,
        expectedChallenge: pending.challenge,
        expectedOrigin: pending.origin,
        expectedRPID: pending.rpId,
        credential: { id: cred.id, publicKey: Buffer.from(cred.publicKey, 'base64url'), counter: cred.counter, transports: cred.transports },
        requireUserVerification: this.cfg().user_verification === 'required',
      });
      if (!r.verified) return { result: 'invalid' };
      newCounter = r.authenticationInfo.newCounter;
      // Claim the challenge: of two parallel uses of one assertion, one gets it (a wrong answer leaves it, as for a code).
      if ((await this.store.getDel(chKey)) !== raw) return { result: 'invalid' };
    } catch (err) {
      if (err instanceof Error && /counter value/i.test(err.message)) {
        this.onEvent({ event: 'webauthn_counter_regressed', user, credentialId: cred.id, stored: cred.counter });
      }
      return { result: 'invalid' };
    }
    await this.update(user, (list) => list.map((c) => (c.id === cred.id ? { ...c, counter: Math.max(c.counter, newCounter), lastUsedAt: this.clock.now() } : c)));
    return { result: 'ok' };
  }

  /** Registration options for a signed-in user (a new one replaces an earlier pending registration). */
  async creationOptions(user: UserRecord, site?: CeremonySite): Promise<PublicKeyCredentialCreationOptionsJSON | undefined> {
    const where = this.site(site);
    if (!where) return undefined;
    const cfg = this.cfg();
    const creds = await this.credentials(user.username);
    const options = await generateRegistrationOptions({
      rpName: cfg.rp_name,
      rpID: where.rpId,
      userName: user.username,
      userDisplayName: user.displayName ?? user.username,
      timeout: cfg.timeout,
      attestationType: 'none',
      excludeCredentials: creds.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: cfg.user_verification },
    });
    const pending: PendingChallenge = { challenge: options.challenge, user: user.username, origin: where.origin, rpId: where.rpId };
    await this.store.set(`webauthn:reg:${userKey(user.username)}`, JSON.stringify(pending), cfg.timeout);
    return options;
  }

  /** Checks a `RegistrationResponseJSON` against the user's pending registration and keeps the passkey. */
  async finishRegistration(user: string, name: string, response: unknown): Promise<PasskeySummary | undefined> {
    if (!isRegistrationResponse(response) || JSON.stringify(response).length > MAX_RESPONSE) return undefined;
    const raw = await this.store.getDel(`webauthn:reg:${userKey(user)}`);
    const pending = raw === null ? undefined : (parseJson(raw) as PendingChallenge | undefined);
    if (!pending || pending.user !== user) return undefined;
    let info;
    try {
      const r = await verifyRegistrationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: pending.origin,
        expectedRPID: pending.rpId,
        requireUserVerification: this.cfg().user_verification === 'required',
      });
      if (!r.verified || !r.registrationInfo) return undefined;
      info = r.registrationInfo.credential;
    } catch {
      return undefined;
    }
    const existing = await this.credentials(user);
    if (existing.length >= MAX_CREDENTIALS || existing.some((c) => c.id === info.id)) return undefined;
    const passkey: Passkey = {
      id: info.id,
      publicKey: Buffer.from(info.publicKey).toString('base64url'),
      counter: info.counter,
      transports: info.transports ?? [],
      name: cleanName(name) || `Passkey ${existing.length + 1}`,
      createdAt: this.clock.now(),
    };
    await this.update(user, (list) => [...list, passkey]);
    return summary(passkey);
  }

  async list(user: string): Promise<PasskeySummary[]> {
    return (await this.credentials(user)).map(summary);
  }

  async rename(user: string, id: string, name: string): Promise<boolean> {
    const clean = cleanName(name);
    if (!clean) return false;
    let found = false;
    await this.update(user, (list) =>
      list.map((c) => {
        if (c.id !== id) return c;
        found = true;
        return { ...c, name: clean };
      }),
    );
    return found;
  }

  /** Removes one passkey; false when the user has none of that id. */
  async removeOne(user: string, id: string): Promise<boolean> {
    let found = false;
    await this.update(user, (list) => {
      const kept = list.filter((c) => c.id !== id);
      found = kept.length !== list.length;
      return kept;
    });
    return found;
  }

  async remove(user: string): Promise<void> {
    const k = userKey(user);
    await this.store.del(`webauthn:${k}`, `webauthn:reg:${k}`);
  }

  /** The user's passkeys; a record that does not open counts as none (fail closed). */
  async credentials(user: string): Promise<Passkey[]> {
    const sealed = await this.store.get(`webauthn:${userKey(user)}`);
    const plain = sealed === null ? null : open(this.encryptionKey, sealed, aad(user));
    const list = plain === null ? undefined : parseJson(plain);
    return Array.isArray(list) ? (list as Passkey[]) : [];
  }

  private async update(user: string, change: (list: Passkey[]) => Passkey[]): Promise<void> {
    const list = change(await this.credentials(user));
    const k = `webauthn:${userKey(user)}`;
    if (list.length === 0) await this.store.del(k);
    else await this.store.set(k, seal(this.encryptionKey, JSON.stringify(list), aad(user)), 0);
  }

  private site(site: CeremonySite | undefined): { origin: string; rpId: string } | undefined {
    const origin = site?.origin ?? this.defaultOrigin();
    if (!origin) return undefined;
    let host: string;
    try {
      const u = new URL(origin);
      if (u.origin !== origin) return undefined;
      host = u.hostname;
    } catch {
      return undefined;
    }
    const rpId = this.cfg().rp_id ?? site?.rpId ?? host;
    // The RP ID must be the origin's host or a registrable suffix of it.
    if (host !== rpId && !host.endsWith(`.${rpId}`)) return undefined;
    return { origin, rpId };
  }
}

function aad(user: string): string {
  return `webauthn:${user}`;
}

function summary(c: Passkey): PasskeySummary {
  return { id: c.id, name: c.name, createdAt: c.createdAt, ...(c.lastUsedAt !== undefined ? { lastUsedAt: c.lastUsedAt } : {}) };
}

function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME);
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isAuthenticationResponse(v: unknown): v is AuthenticationResponseJSON {
  if (!isObject(v) || typeof v.id !== 'string' || typeof v.rawId !== 'string' || v.type !== 'public-key' || !isObject(v.response)) return false;
  const r = v.response;
  return typeof r.clientDataJSON === 'string' && typeof r.authenticatorData === 'string' && typeof r.signature === 'string';
}

function isRegistrationResponse(v: unknown): v is RegistrationResponseJSON {
  if (!isObject(v) || typeof v.id !== 'string' || typeof v.rawId !== 'string' || v.type !== 'public-key' || !isObject(v.response)) return false;
  const r = v.response;
  return typeof r.clientDataJSON === 'string' && typeof r.attestationObject === 'string';
}
