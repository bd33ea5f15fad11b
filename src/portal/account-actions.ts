import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import type { UserRecord } from '../users/directory.js';
import { sha256Hex } from '../util/compare.js';
import { accountAccess, accountModel } from './account-model.js';
import { verifyCsrf } from './csrf.js';
import { auditPortal, csrfRejected, factorSnapshot, operatorMethod, requestInfo, resolve, sessionView, type PortalSession } from './enroll-session.js';
import { renderPage, seeOther } from './page.js';
import { accountPage } from './views/account.js';

const LAST_METHOD_NOTICE = 'This is your last verification method and your organisation requires two-step verification. Add another method before you remove this one.';

interface Posted {
  s: PortalSession;
  user: UserRecord;
  form: URLSearchParams;
}

/** Reads the form, then checks the session (two-factor) and the CSRF token; answers for the caller when they fail. */
async function posted(gw: Gateway, req: IncomingMessage, res: ServerResponse): Promise<Posted | undefined> {
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const access = await accountAccess(gw, req);
  if ('redirect' in access) {
    seeOther(res, access.redirect);
    return undefined;
  }
  if (!verifyCsrf(access.s.session.csrf, form.get('csrf') ?? undefined)) {
    csrfRejected(gw, req, res);
    return undefined;
  }
  return { ...access, form };
}

function backTo(gw: Gateway, res: ServerResponse, notice?: string): void {
  seeOther(res, `${gw.compiled.prefix}/account${notice ? `?notice=${notice}` : ''}`);
}

/** `POST /account/methods/remove` (`id`: totp | email | sms): user-set methods only; never the last one under policy `required`. */
export async function postRemoveMethod(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const p = await posted(gw, req, res);
  if (!p) return;
  const { services } = gw;
  const { s, user, form } = p;
  const id = form.get('id');
  if (id !== 'totp' && id !== 'email' && id !== 'sms') return backTo(gw, res);
  const snap = await factorSnapshot(gw, user);
  const has = id === 'totp' ? snap.totpEnrolled : id === 'email' ? snap.state.email !== undefined : snap.state.phone !== undefined;
  if (!has) return backTo(gw, res);

  const state = { ...snap.state };
  if (id === 'email') delete state.email;
  if (id === 'sms') delete state.phone;
  const after = resolve(gw, user, state, id === 'totp' ? false : snap.totpEnrolled, snap.recoveryLeft);
  if (gw.config.second_factor.policy === 'required' && after.required && after.mustEnrol && !snap.resolved.mustEnrol) {
    auditPortal(gw, ctx, 'factor_removed', user.username, 'failure', id, 'last_method');
    const model = await accountModel(gw, req, s, user, LAST_METHOD_NOTICE);
    return renderPage(res, 409, accountPage(sessionView(gw, req, s.session), model));
  }
  if (id === 'totp') await services.totp.remove(user.username);
  else if (id === 'email') await services.factorState.clearEmail(user.username);
  else await services.factorState.clearPhone(user.username);
  auditPortal(gw, ctx, 'factor_removed', user.username, 'success', id);
  await services.signin.notify(user, 'factor_changed', requestInfo(gw, req, ctx), { method: id });
  backTo(gw, res, 'method_removed');
}

/** `POST /account/devices/remove` (`id` from the list): the device asks for a code again at the next sign-in. */
export async function postRemoveDevice(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const p = await posted(gw, req, res);
  if (!p) return;
  const { services } = gw;
  const id = (p.form.get('id') ?? '').slice(0, 64);
  if (!(await services.devices.revoke(p.user.username, id))) return backTo(gw, res);
  const deviceId = gw.deviceId(req.headers.cookie);
  // This browser: its reverify grace ends too, so "remove" takes effect at once.
  if (deviceId && sha256Hex(`device:${deviceId}`).startsWith(id)) await services.grace.clear(p.user.username, deviceId);
  auditPortal(gw, ctx, 'device_removed', p.user.username, 'success');
  backTo(gw, res, 'device_removed');
}

/** `POST /account/sessions/remove` (`id`: a session reference from the list; never the current one). */
export async function postRemoveSession(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const p = await posted(gw, req, res);
  if (!p) return;
  const { services } = gw;
  const id = p.form.get('id') ?? '';
  if (id === p.s.ref) return backTo(gw, res);
  const mine = (await services.sessions.list(p.user.username)).some((x) => x.id === id);
  if (!mine || !(await services.sessions.revokeById(id))) return backTo(gw, res);
  auditPortal(gw, ctx, 'session_removed', p.user.username, 'success');
  backTo(gw, res, 'session_removed');
}

/**
 * `POST /account/second-factor/disable`: under policy `optional` only, and not for a user an operator
 * assigned a method. The opt-in ends and the authenticator app and recovery codes are removed (they
 * would otherwise keep two-step verification on); verified addresses stay for a later opt-in.
 */
export async function postDisableSecondFactor(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const p = await posted(gw, req, res);
  if (!p) return;
  const { services } = gw;
  const { user } = p;
  if (gw.config.second_factor.policy !== 'optional' || operatorMethod(gw, user) !== undefined) {
    auditPortal(gw, ctx, 'second_factor_disabled', user.username, 'failure', undefined, 'policy');
    return backTo(gw, res);
  }
  await services.factorState.setOptedIn(user.username, false);
  await services.totp.remove(user.username);
  await services.recovery.remove(user.username);
  auditPortal(gw, ctx, 'second_factor_disabled', user.username, 'success');
  await services.signin.notify(user, 'factor_changed', requestInfo(gw, req, ctx), { method: 'none' });
  backTo(gw, res, 'second_factor_disabled');
}
