import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountOverview } from '../auth/account.js';
import type { FoundSession } from '../auth/session-lookup.js';
import { maskEmail, maskPhone } from '../delivery/mask.js';
import type { RequestContext } from '../http/context.js';
import { readForm } from '../http/body.js';
import { isPortcullisError } from '../errors/index.js';
import type { UserRecord } from '../users/directory.js';
import type { PortalApp } from './app.js';
import { verifyCsrf } from './csrf.js';
import { dispatchTable, type MethodTable, type PageHandler } from './dispatch.js';
import { csrfRejected, deviceIdOf, loginUrl, rdQuery, renderPage, requestInfo, seeOther, sessionView, stepUpFirst } from './page.js';
import { accountPage, appPasswordCreatedPage, type AccountModel } from './views/account.js';

const LAST_METHOD_NOTICE = 'This is your last verification method and your organisation requires two-step verification. Add another method before you remove this one.';

/** Notices the account page shows from its `notice` query parameter. */
const NOTICES: ReadonlySet<string> = new Set(['method_added', 'method_removed', 'passkey_renamed', 'device_removed', 'session_removed', 'recovery_codes_generated', 'second_factor_enabled', 'second_factor_disabled', 'password_set', 'app_password_removed']);

interface Signed {
  found: FoundSession;
  user: UserRecord;
}

/** The account use-case's access decision, as the pages act on it. */
async function signedIn(app: PortalApp, req: IncomingMessage): Promise<Signed | { redirect: string }> {
  const here = `${app.prefix}/account`;
  const found = await app.core.lookup.find(req.headers);
  const access = await app.core.account.access(found);
  switch (access.kind) {
    case 'allowed':
      return { found: found!, user: access.user };
    case 'enrol':
      return { redirect: `${app.prefix}/enroll?${rdQuery(here)}` };
    case 'second_step':
      return { redirect: `${app.prefix}/verify?${rdQuery(here)}` };
    case 'sign_in':
      return { redirect: loginUrl(app, here) };
  }
}

/** The page model from the use-case's overview: addresses masked, dates as ISO strings. */
function model(app: PortalApp, o: AccountOverview, notice?: string): AccountModel {
  const cfg = app.config.second_factor;
  return {
    user: { name: o.user.displayName ?? o.user.username, username: o.user.username, ...(o.user.email ? { email: o.user.email } : {}), groups: o.user.groups },
    methods: o.methods.flatMap((m): AccountModel['methods'] =>
      // Passkeys are listed one by one (name, dates), each renamed and removed on its own.
      m.type === 'webauthn' && o.passkeys.length > 0
        ? o.passkeys.map((k) => ({ type: m.type, label: k.name, removable: true, id: k.id, passkey: { createdAt: new Date(k.createdAt).toISOString(), ...(k.lastUsedAt !== undefined ? { lastUsedAt: new Date(k.lastUsedAt).toISOString() } : {}) } }))
        : [
            {
              type: m.type,
              label: m.address ? (m.type === 'sms' ? maskPhone(m.address) : maskEmail(m.address)) : m.remaining !== undefined ? `${m.remaining} / ${cfg.recovery_codes.count}` : m.type === 'totp' ? cfg.totp.issuer : '',
              removable: m.removable,
              ...(m.removable ? { id: m.type } : {}),
            },
          ],
    ),
    devices: o.devices.map((d) => ({ id: d.id, name: d.name, ip: d.ip, lastUsedAt: new Date(d.lastUsedAt).toISOString(), current: d.current })),
    sessions: o.sessions.map((s) => {
      // The second factor it signed in with: the last factor after the password.
      const method = s.factors.filter((f) => f !== 'password').at(-1);
      return { id: s.ref, ip: s.ip, userAgent: s.userAgent, createdAt: new Date(s.createdAt).toISOString(), lastSeenAt: new Date(s.lastSeenAt).toISOString(), current: s.current, ...(method ? { method } : {}), ...(s.api ? { app: true } : {}) };
    }),
    canOptIn: o.canOptIn,
    canOptOut: o.canOptOut,
    enrollable: o.enrollable.filter((m): m is 'totp' | 'email' | 'sms' | 'webauthn' => m === 'totp' || m === 'email' || m === 'sms' || m === 'webauthn'),
    ...(notice ? { notice } : {}),
  };
}

async function show(app: PortalApp, req: IncomingMessage, res: ServerResponse, s: Signed, status: number, notice?: string): Promise<void> {
  const overview = await app.core.account.overview(s.user, s.found, deviceIdOf(app, req));
  const m = model(app, overview, notice);
  if (app.core.appPasswords.enabled) {
    const list = await app.core.appPasswords.list(s.user.username);
    m.appPasswords = list.map((a) => ({ id: a.id, name: a.name, createdAt: new Date(a.createdAt).toISOString(), ...(a.lastUsedAt ? { lastUsedAt: new Date(a.lastUsedAt).toISOString() } : {}), ...(a.lastIp ? { lastIp: a.lastIp } : {}) }));
  }
  renderPage(res, status, accountPage(sessionView(app, req, s.found.session), m));
}

async function getAccount(app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const s = await signedIn(app, req);
  if ('redirect' in s) return seeOther(res, s.redirect);
  const notice = new URLSearchParams(ctx.query).get('notice');
  await show(app, req, res, s, 200, notice && NOTICES.has(notice) ? notice : undefined);
}

function backTo(app: PortalApp, res: ServerResponse, notice?: string): void {
  seeOther(res, `${app.prefix}/account${notice ? `?notice=${notice}` : ''}`);
}

/** A state-changing account form: the form is read, then the session (signed in) and the CSRF token checked. */
function action(run: (app: PortalApp, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, s: Signed, form: URLSearchParams) => Promise<void>): PageHandler {
  return async (app, req, res, ctx) => {
    const form = await readForm(req, app.config.server.limits.max_form_body);
    const s = await signedIn(app, req);
    if ('redirect' in s) return seeOther(res, s.redirect);
    if (!verifyCsrf(s.found.session.csrf, form.get('csrf') ?? undefined)) return csrfRejected(app, req, res);
    const stepUp = stepUpFirst(app, s.found.session, `${app.prefix}/account`);
    if (stepUp) return seeOther(res, stepUp);
    return run(app, req, res, ctx, s, form);
  };
}

const routes: Record<string, MethodTable> = {
  '': { GET: getAccount },
  '/': { GET: getAccount },
  '/methods/remove': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const outcome = await app.core.account.removeMethod(s.user, form.get('id') ?? '', requestInfo(app, req, ctx));
      if (outcome === 'last_method') return show(app, req, res, s, 409, LAST_METHOD_NOTICE);
      backTo(app, res, outcome === 'removed' ? 'method_removed' : undefined);
    }),
  },
  '/passkeys/rename': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const renamed = await app.core.account.renamePasskey(s.user, (form.get('id') ?? '').slice(0, 1024), form.get('name') ?? '', requestInfo(app, req, ctx));
      backTo(app, res, renamed ? 'passkey_renamed' : undefined);
    }),
  },
  '/passkeys/remove': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const outcome = await app.core.account.removePasskey(s.user, (form.get('id') ?? '').slice(0, 1024), requestInfo(app, req, ctx));
      if (outcome === 'last_method') return show(app, req, res, s, 409, LAST_METHOD_NOTICE);
      backTo(app, res, outcome === 'removed' ? 'method_removed' : undefined);
    }),
  },
  '/devices/remove': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const removed = await app.core.account.removeDevice(s.user, form.get('id') ?? '', deviceIdOf(app, req), requestInfo(app, req, ctx));
      backTo(app, res, removed ? 'device_removed' : undefined);
    }),
  },
  '/sessions/remove': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const removed = await app.core.account.removeSession(s.user, form.get('id') ?? '', s.found, requestInfo(app, req, ctx));
      backTo(app, res, removed ? 'session_removed' : undefined);
    }),
  },
  '/app-passwords': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const name = form.get('name') ?? '';
      try {
        const made = await app.core.appPasswords.create(s.user, name, requestInfo(app, req, ctx));
        // Shown once, never stored: the page must not be kept by a cache.
        renderPage(res, 200, appPasswordCreatedPage(sessionView(app, req, s.found.session), { name: name.trim().slice(0, 60), secret: made.secret }), { 'cache-control': 'no-store' });
      } catch (err) {
        if (!isPortcullisError(err, 'PORTCULLIS_ERR_BAD_REQUEST')) throw err;
        await show(app, req, res, s, 400, err.message);
      }
    }),
  },
  '/app-passwords/remove': {
    POST: action(async (app, req, res, ctx, s, form) => {
      const removed = await app.core.appPasswords.remove(s.user.username, form.get('id') ?? '', requestInfo(app, req, ctx));
      backTo(app, res, removed ? 'app_password_removed' : undefined);
    }),
  },
  '/second-factor/disable': {
    POST: action(async (app, req, res, ctx, s) => {
      const done = await app.core.account.disableSecondFactor(s.user, requestInfo(app, req, ctx));
      backTo(app, res, done ? 'second_factor_disabled' : undefined);
    }),
  },
};

/** `/_gateway/account...`: the signed-in user's methods, trusted devices and sessions. */
export const handleAccount = dispatchTable(routes);
