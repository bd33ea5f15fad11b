import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnrolmentDone } from '../auth/enrolment.js';
import type { FoundSession } from '../auth/session-lookup.js';
import type { RequestContext } from '../http/context.js';
import type { UserRecord } from '../users/directory.js';
import type { PortalApp } from './app.js';
import { loginUrl, rdQuery, renderPage, seeOther, sessionView, setSessionCookie, stepUpFirst } from './page.js';
import { recoveryCodesPage } from './views/enroll.js';

/** What every enrolment page shares: the use-case's access decision and the end of an enrolment. */
export interface Enrolling {
  found: FoundSession;
  user: UserRecord;
  forced: boolean;
}

/** The enrolment use-case's access decision, as the pages act on it: allowed, or where to go instead. */
export async function enrolling(app: PortalApp, req: IncomingMessage, rd: string): Promise<Enrolling | { redirect: string }> {
  const found = await app.core.lookup.find(req.headers);
  const access = await app.core.enrolment.access(found);
  switch (access.kind) {
    case 'allowed': {
      // Adding a method to a signed-in account is a credential change: a fresh second factor first.
      // Back to this page after the step (the verify page checks the target like every `rd`).
      const stepUp = access.forced ? undefined : stepUpFirst(app, found!.session, req.url ?? rd);
      if (stepUp) return { redirect: stepUp };
      return { found: found!, user: access.user, forced: access.forced };
    }
    case 'second_step':
      return { redirect: `${app.prefix}/verify?${rdQuery(rd)}` };
    case 'sign_in':
      return { redirect: loginUrl(app, rd) };
  }
}

/** Where a method's set-up is allowed for this user; else the choice page. */
export function mayEnrol(app: PortalApp, user: UserRecord, method: string): boolean {
  return app.core.enrolment.enrollable(user).some((m) => m === method);
}

/**
 * A method was set up: a forced enrolment's session was promoted (set its cookie); recovery codes are
 * shown once when there are new ones, then the user goes on (the target, or the account page).
 */
export function finishEnrolment(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, e: Enrolling, done: EnrolmentDone, rd: string): void {
  if (done.promoted) setSessionCookie(app, res, ctx, done.promoted.cookie, done.promoted.session);
  const next = done.forced ? rd : `${app.prefix}/account?notice=method_added`;
  if (!done.recoveryCodes) return seeOther(res, next);
  renderPage(res, 200, recoveryCodesPage(sessionView(app, req, done.promoted?.session ?? e.found.session), { codes: done.recoveryCodes, next }));
}

