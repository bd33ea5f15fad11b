import type { IncomingMessage, ServerResponse } from 'node:http';
import { isE164 } from '../delivery/phone.js';
import { isPortcullisError } from '../errors/index.js';
import type { RequestContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/runtime.js';
import { readForm } from '../http/body.js';
import type { UserRecord } from '../users/directory.js';
import { verifyCsrf } from './csrf.js';
import { completeEnrolment } from './enroll-complete.js';
import { auditPortal, csrfRejected, enrollableMethods, enrolAccess, rateLimited, requestInfo, sessionView, type PortalSession } from './enroll-session.js';
import { renderPage, safeRd, seeOther } from './page.js';
import { enrollDestinationPage, type EnrollDestinationModel } from './views/enroll.js';

type Kind = 'email' | 'sms';

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A well-formed address or E.164 number as the user typed it (phone separators removed), or undefined. */
export function normalizeDestination(kind: Kind, input: string): string | undefined {
  const v = input.trim();
  if (v.length === 0 || v.length > 254 || [...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return undefined;
  if (kind === 'email') return EMAIL.test(v) ? v : undefined;
  const phone = v.replace(/[\s().-]/g, '');
  return isE164(phone) ? phone : undefined;
}

/** Per session and kind: the code's flow id and where the address waiting for its code is kept. */
function flowId(s: PortalSession, kind: Kind): string {
  return `enrol:${s.ref}:${kind}`;
}
function pendingKey(s: PortalSession, kind: Kind): string {
  return `enrol-pending:${s.ref}:${kind}`;
}

function show(gw: Gateway, req: IncomingMessage, res: ServerResponse, s: PortalSession, status: number, model: Omit<EnrollDestinationModel, 'codeLength' | 'codeCharset'>, headers: Record<string, string> = {}): void {
  const code = gw.config.second_factor.code;
  renderPage(res, status, enrollDestinationPage(sessionView(gw, req, s.session), { ...model, codeLength: code.length, codeCharset: code.charset }), headers);
}

async function access(gw: Gateway, req: IncomingMessage, res: ServerResponse, kind: Kind, rd: string): Promise<{ s: PortalSession; user: UserRecord } | undefined> {
  const a = await enrolAccess(gw, req, rd);
  if ('redirect' in a) {
    seeOther(res, a.redirect);
    return undefined;
  }
  if (!enrollableMethods(gw, a.user).includes(kind)) {
    seeOther(res, `${gw.compiled.prefix}/enroll?rd=${encodeURIComponent(rd)}`);
    return undefined;
  }
  return a;
}

/** `GET /enroll/email|sms`: the address entry step. */
export async function getEnrollDestination(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, kind: Kind): Promise<void> {
  const rd = safeRd(gw, ctx, new URLSearchParams(ctx.query).get('rd'));
  const a = await access(gw, req, res, kind, rd);
  if (!a) return;
  show(gw, req, res, a.s, 200, { kind, step: 'enter', rd });
}

/**
 * `POST /enroll/email|sms`: with `destination` sends a code there (no fallback to another channel) and
 * keeps the address server-side; with `code` checks it and saves the address as verified (seed 001).
 */
export async function postEnrollDestination(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, kind: Kind): Promise<void> {
  const form = await readForm(req, gw.config.server.limits.max_form_body);
  const rd = safeRd(gw, ctx, form.get('rd'));
  const a = await access(gw, req, res, kind, rd);
  if (!a) return;
  if (!verifyCsrf(a.s.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(gw, req, res);
  if (form.has('code')) return confirm(gw, req, res, ctx, a.s, a.user, kind, rd, form.get('code') ?? '');
  return send(gw, req, res, ctx, a.s, a.user, kind, rd, form.get('destination') ?? '');
}

async function send(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, s: PortalSession, user: UserRecord, kind: Kind, rd: string, input: string): Promise<void> {
  const { services } = gw;
  const destination = normalizeDestination(kind, input);
  if (!destination) return show(gw, req, res, s, 400, { kind, step: 'enter', rd, error: 'invalid_destination' });
  const codeCfg = gw.config.second_factor.code;
  let code: string;
  try {
    ({ code } = await services.codes.issue(flowId(s, kind), { user: user.username, channel: kind, destination }));
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    const retryAfter = String(err.details.retry_after ?? 30);
    return show(gw, req, res, s, 429, { kind, step: 'enter', rd, error: 'rate_limited' }, { 'retry-after': retryAfter });
  }
  await services.store.set(pendingKey(s, kind), destination, codeCfg.ttl);
  const info = requestInfo(gw, req, ctx);
  try {
    await services.delivery.sendCode({ channel: kind, address: destination }, code, { lang: info.lang, ttlMs: codeCfg.ttl, user: user.username, displayName: user.displayName, requestId: ctx.requestId });
  } catch (err) {
    await services.codes.invalidate(flowId(s, kind));
    await services.store.del(pendingKey(s, kind));
    services.metrics.deliveryFailures.inc({ channel: kind, reason: 'enrolment' });
    auditPortal(gw, ctx, 'code_sent', user.username, 'failure', kind, 'enrolment_delivery_failed');
    if (!isPortcullisError(err)) services.logger.warn({ err: { message: (err as Error).message }, request_id: ctx.requestId }, 'enrolment code not sent');
    return show(gw, req, res, s, 502, { kind, step: 'enter', rd, error: 'delivery_failed' });
  }
  services.metrics.codesSent.inc({ channel: kind });
  auditPortal(gw, ctx, 'code_sent', user.username, 'success', kind, 'enrolment');
  show(gw, req, res, s, 200, { kind, step: 'confirm', rd, destination });
}

async function confirm(gw: Gateway, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, s: PortalSession, user: UserRecord, kind: Kind, rd: string, code: string): Promise<void> {
  const { services } = gw;
  const destination = await services.store.get(pendingKey(s, kind));
  if (destination === null) return show(gw, req, res, s, 410, { kind, step: 'enter', rd, error: 'code_expired' });
  try {
    await services.regulator.checkCode(ctx.client.ip);
  } catch (err) {
    if (!isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED')) throw err;
    return rateLimited(gw, req, res, Number(err.details.retry_after ?? 30));
  }
  const result = await services.codes.verify(flowId(s, kind), code.slice(0, 64));
  if (result.result === 'invalid') {
    auditPortal(gw, ctx, 'enrolment', user.username, 'failure', kind, 'invalid_code');
    return show(gw, req, res, s, 401, { kind, step: 'confirm', rd, destination, error: 'invalid_code' });
  }
  if (result.result !== 'ok' || result.meta.user !== user.username || result.meta.channel !== kind || result.meta.destination !== destination) {
    await services.store.del(pendingKey(s, kind));
    auditPortal(gw, ctx, 'enrolment', user.username, 'failure', kind, 'code_expired');
    return show(gw, req, res, s, 410, { kind, step: 'enter', rd, error: 'code_expired' });
  }
  await services.store.del(pendingKey(s, kind));
  if (kind === 'email') await services.factorState.setEmail(user.username, destination, true);
  else await services.factorState.setPhone(user.username, destination, true);
  await completeEnrolment(gw, req, res, ctx, s, user, kind, rd);
}
