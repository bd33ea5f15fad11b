import type { IncomingHttpHeaders } from 'node:http';
import { singleCookie } from '../http/cookies.js';
import type { SessionData, SessionManager } from '../session/sessions.js';

export interface FoundSession {
  id: string;
  /** The session's safe reference (sha256 of the id): what revocations and open connections key on. */
  ref: string;
  session: SessionData;
  /** Found through `Authorization: Bearer` (the JSON API's token), not the cookie. */
  viaBearer: boolean;
}

const MAX_AUTHORIZATION = 4096;

/** A gateway token in `Authorization: Bearer` (`<id>.<signature>`; three-part JWTs belong to API clients). */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h || h.length > MAX_AUTHORIZATION || !/^Bearer /i.test(h)) return undefined;
  const token = h.slice(7).trim();
  return token.split('.').length === 2 ? token : undefined;
}

/** Finds the caller's session from the session cookie or a gateway bearer token. */
export class SessionLookup {
  constructor(
    private readonly sessions: SessionManager,
    private readonly cookieName: () => string,
    /**
     * Whether the directory now marks the user disabled (the users file's `disabled: true`, checked in
     * memory on every lookup): such a session is none at once, before the reload has ended it everywhere.
     */
    private readonly disabled: (user: string) => boolean = () => false,
  ) {}

  /** The session cookie's value, if any. Two or more session cookies are ambiguous: none is believed. */
  cookie(header: string | undefined): string | undefined {
    const value = singleCookie(header, this.cookieName());
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether the request carries more than one session cookie (the portal then clears them). */
  ambiguous(header: string | undefined): boolean {
    return typeof singleCookie(header, this.cookieName()) === 'object';
  }

  /** Store errors propagate (callers fail closed). A cached, valid session costs no store round trip. */
  async find(headers: IncomingHttpHeaders): Promise<FoundSession | undefined> {
    const { sessions } = this;
    const cookieValue = this.cookie(headers.cookie);
    if (cookieValue) {
      const found = sessions.getCached(cookieValue) ?? (await sessions.get(cookieValue));
      if (found && !this.disabled(found.session.user)) return { ...found, viaBearer: false };
    }
    const token = bearerToken(headers);
    if (token) {
      const found = sessions.getCached(token) ?? (await sessions.get(token));
      if (found && !this.disabled(found.session.user)) return { ...found, viaBearer: true };
    }
    return undefined;
  }

  /**
   * `find` when memory alone can answer: the session the cookie (or, without a cookie, the bearer token)
   * names is cached and its user not disabled. Undefined means "ask `find`", not "no session".
   */
  findCached(headers: IncomingHttpHeaders): FoundSession | undefined {
    const cookieValue = this.cookie(headers.cookie);
    const value = cookieValue ?? bearerToken(headers);
    if (!value) return undefined;
    const found = this.sessions.getCached(value);
    if (!found || this.disabled(found.session.user)) return undefined;
    return { ...found, viaBearer: cookieValue === undefined };
  }

  /** Only a session that finished signing in: one that passed only the password is none (SPEC §3). */
  async signedIn(headers: IncomingHttpHeaders): Promise<FoundSession | undefined> {
    const found = await this.find(headers);
    return found?.session.level === 'two_factor' ? found : undefined;
  }
}
