import type { IncomingMessage, ServerResponse } from 'node:http';
import { promoteSession } from '../auth/sessions.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import type { UserRecord } from '../users/directory.js';
import { auditPortal, isForced, requestInfo, sessionView, type EnrolKind, type PortalSession } from './enroll-session.js';
import { renderPage, seeOther, setSessionCookie } from './page.js';
import { recoveryCodesPage } from './views/enroll.js';

/**
 * A method was just set up and proven (the first TOTP code, or the code sent to the new address).
 * It becomes the preferred method; under policy `optional` it turns two-step verification on. A
 * forced enrolment counts as the second step: the session is promoted. Recovery codes (when the
 * operator allows them) are shown once: always after a forced enrolment, otherwise when the user has none.
 */
export async function completeEnrolment(
  gw: Gateway,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  s: PortalSession,
  user: UserRecord,
  method: EnrolKind,
  rd: string,
): Promise<void> {
  const { services } = gw;
  const cfg = gw.config.second_factor;
  await services.factorState.setPreferred(user.username, method);
  if (cfg.policy === 'optional') await services.factorState.setOptedIn(user.username, true);
  auditPortal(gw, ctx, 'factor_enrolled', user.username, 'success', method, isForced(s) ? 'required' : 'voluntary');
  const info = requestInfo(gw, req, ctx);
  await services.signin.notify(user, 'factor_changed', info, { method });

  let session = s.session;
  const forced = isForced(s);
  if (forced) {
    const now = services.clock.now();
    const made = await promoteSession(services.sessions, s.id, s.session, method, now);
    setSessionCookie(gw, res, ctx, made.cookie, made.session.expiresAt - now);
    session = made.session;
    // Like a second step at /verify: this browser is not asked again within the reverify grace.
    if (info.deviceId) await services.grace.record(user.username, info.deviceId);
    services.metrics.secondFactor.inc({ method, result: 'success' });
    auditPortal(gw, ctx, 'second_factor', user.username, 'success', method, 'enrolment');
  }
  const next = forced ? rd : `${gw.compiled.prefix}/account?notice=method_added`;
  const withRecovery = cfg.methods.includes('recovery_code') && (forced || (await services.recovery.remaining(user.username)) === 0);
  if (!withRecovery) return seeOther(res, next);
  const codes = await services.recovery.generate(user.username);
  auditPortal(gw, ctx, 'recovery_codes_generated', user.username, 'success', 'recovery_code');
  renderPage(res, 200, recoveryCodesPage(sessionView(gw, req, session), { codes, next }));
}
