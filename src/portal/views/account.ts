import type { MessageKey } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { alert, hidden, pageHead, postForm, timeEl } from './components.js';
import { html, safeHref, type Html } from './html.js';
import { layout } from './layout.js';

export interface AccountModel {
  user: { name: string; username: string; email?: string; groups: string[] };
  /** `passkey`: one of the user's passkeys (label: its name; id: its credential id), with its dates. */
  methods: Array<{ type: string; label: string; removable: boolean; id?: string; passkey?: { createdAt: string; lastUsedAt?: string } }>;
  devices: Array<{ id: string; name: string; ip: string; lastUsedAt: string; current: boolean }>;
  /** "This session" first. `lastSeenAt`, `method` (the second factor it signed in with) and `app` (a JSON API token) when known. */
  sessions: Array<{ id: string; ip: string; userAgent: string; createdAt: string; current: boolean; lastSeenAt?: string; method?: string; app?: boolean }>;
  /** The policy is `optional` and the user has two-step on: offer to turn it off. */
  canOptOut: boolean;
  /** The policy is `optional` and the user has it off: offer to turn it on. */
  canOptIn: boolean;
  /** A notice key (`method_removed`, `device_removed`, `session_removed`, ...) or a plain text. */
  notice?: string;
  /** App passwords (`second_factor.app_passwords.enabled`): the user's, newest last. */
  appPasswords?: Array<{ id: string; name: string; createdAt: string; lastUsedAt?: string; lastIp?: string }>;
  /** Methods the user may add (links to /enroll/<type>); default totp, email, sms, webauthn. */
  enrollable?: Array<'totp' | 'email' | 'sms' | 'webauthn'>;
}

const NOTICES = new Set([
  'method_added',
  'method_removed',
  'passkey_renamed',
  'device_removed',
  'session_removed',
  'recovery_codes_generated',
  'second_factor_enabled',
  'second_factor_disabled',
  'password_set',
  'app_password_removed',
]);

function noticeText(ctx: ViewContext, notice: string): string {
  return NOTICES.has(notice) ? ctx.t.t(`account.notice.${notice}` as MessageKey) : notice;
}

const ADD_LABEL: Record<'totp' | 'email' | 'sms' | 'webauthn', MessageKey> = {
  totp: 'account.add.totp',
  email: 'account.add.email',
  sms: 'account.add.sms',
  webauthn: 'account.add.webauthn',
};

function methodName(ctx: ViewContext, type: string): string {
  const key = `method.${type}`;
  return ctx.t.has(key) ? ctx.t.t(key as MessageKey) : type;
}

/** A short "Firefox on Windows" from a User-Agent, or the start of it. */
export function describeUserAgent(ua: string): string {
  const browser =
    /Edg\//.test(ua) ? 'Edge'
    : /OPR\/|Opera/.test(ua) ? 'Opera'
    : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrome\/|Chromium\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari'
    : undefined;
  const os =
    /Windows/.test(ua) ? 'Windows'
    : /iPhone|iPad|iOS/.test(ua) ? 'iOS'
    : /Android/.test(ua) ? 'Android'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Linux/.test(ua) ? 'Linux'
    : undefined;
  if (browser && os) return `${browser} · ${os}`;
  if (browser || os) return (browser ?? os) as string;
  return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua || '—';
}

/** A remove button whose accessible name says what it removes ("End session: Chrome · Linux, 10.0.0.7"). */
function removeForm(ctx: ViewContext, action: string, id: string, label: string, what: string): Html {
  return postForm(
    ctx,
    `${ctx.prefix}${action}`,
    html`${hidden('id', id)}<button class="button button--small button--danger" type="submit" aria-label="${ctx.t.t('common.action_on', { action: label, what })}">${label}</button>`,
    { className: 'inline-form' },
  );
}

/** The words for how a session finished signing in (its second factor, a trusted device, ...); never an internal name. */
function viaName(ctx: ViewContext, method: string | undefined): string {
  if (method === undefined) return ctx.t.t('account.via.password');
  const key = `method.${method}`;
  if (ctx.t.has(key)) return ctx.t.t(key as MessageKey);
  const via = `account.via.${method}`;
  return ctx.t.has(via) ? ctx.t.t(via as MessageKey) : ctx.t.t('account.via.other');
}

/**
 * A confirmation: without JavaScript `href` leads to a page that asks; with it, the dialog asks here
 * (portal.js opens it). `form` is the dialog's confirming form.
 */
function confirmed(ctx: ViewContext, id: string, href: string, label: string, className: string, title: string, text: string, form: Html): Html {
  return html`<a class="${className}" href="${href}" data-dialog="${id}">${label}</a>
<dialog id="${id}" class="dialog" aria-labelledby="${id}-title" aria-describedby="${id}-text">
<h2 id="${id}-title" class="subtitle">${title}</h2>
<p id="${id}-text">${text}</p>
<div class="dialog__actions">${form}<button class="button" type="button" data-dialog-close>${ctx.t.t('common.cancel')}</button></div>
</dialog>`;
}

function currentBadge(ctx: ViewContext, current: boolean, key: MessageKey): Html | '' {
  return current ? html` <span class="badge">${ctx.t.t(key)}</span>` : '';
}

function section(id: string, title: string, content: Html, actions?: Html): Html {
  return html`<section class="panel" aria-labelledby="${id}">
<div class="panel__head"><h2 id="${id}" class="subtitle">${title}</h2>${actions ?? ''}</div>
${content}
</section>`;
}

export function accountPage(ctx: ViewContext, m: AccountModel): string {
  const t = ctx.t;
  const p = ctx.prefix;
  const title = t.t('account.title');

  const profile = html`<dl class="facts">
<div><dt>${t.t('account.name')}</dt><dd>${m.user.name}</dd></div>
<div><dt>${t.t('login.username')}</dt><dd>${m.user.username}</dd></div>
${m.user.email ? html`<div><dt>${t.t('account.email')}</dt><dd>${m.user.email}</dd></div>` : ''}
${m.user.groups.length ? html`<div><dt>${t.t('account.groups')}</dt><dd>${m.user.groups.join(', ')}</dd></div>` : ''}
</dl>`;

  const passkeyRow = (x: AccountModel['methods'][number], k: NonNullable<AccountModel['methods'][number]['passkey']>, id: string): Html => {
    const what = `${methodName(ctx, x.type)} ${x.label}`;
    const rename = html`<details class="rename"><summary class="button button--small">${t.t('account.passkeys.rename')}</summary>${postForm(
      ctx,
      `${p}/account/passkeys/rename`,
      html`${hidden('id', id)}<label class="field"><span class="field__label">${t.t('account.passkeys.new_name')}</span><input class="input" name="name" maxlength="64" required autocomplete="off" value="${x.label}"></label><button class="button button--small" type="submit" aria-label="${t.t('common.action_on', { action: t.t('account.passkeys.rename'), what })}">${t.t('account.passkeys.save')}</button>`,
      { className: 'inline-form' },
    )}</details>`;
    return html`<li class="row"><div class="row__main"><span class="row__title">${methodName(ctx, x.type)}: ${x.label}</span><span class="row__detail">${t.t('account.passkeys.created')} ${timeEl(ctx, k.createdAt)} · ${k.lastUsedAt ? html`${t.t('account.last_used')} ${timeEl(ctx, k.lastUsedAt)}` : t.t('account.passkeys.unused')}</span></div><div class="row__actions">${rename}${removeForm(ctx, '/account/passkeys/remove', id, t.t('common.remove'), what)}</div></li>`;
  };
  const methods = m.methods.length
    ? html`<ul class="rows">${m.methods.map((x) =>
        x.passkey && x.id
          ? passkeyRow(x, x.passkey, x.id)
          : html`<li class="row"><div class="row__main"><span class="row__title">${methodName(ctx, x.type)}</span><span class="row__detail">${x.label}</span></div>${x.removable && x.id ? removeForm(ctx, '/account/methods/remove', x.id, t.t('common.remove'), `${methodName(ctx, x.type)} ${x.label}`.trim()) : ''}</li>`,
      )}</ul>`
    : html`<p class="empty">${t.t('account.methods.none')}</p>`;
  const enrollable = m.enrollable ?? ['totp', 'email', 'sms', 'webauthn'];
  // A second authenticator app replaces the first (codes from the old one stop working): say so.
  const hasTotp = m.methods.some((x) => x.type === 'totp');
  const addLabel = (type: keyof typeof ADD_LABEL): string => t.t(type === 'totp' && hasTotp ? 'account.replace.totp' : ADD_LABEL[type]);
  const recovery = m.methods.find((x) => x.type === 'recovery_code');
  const recoveryText = t.t('recovery_codes.confirm.text');
  const actions = html`<div class="links">${enrollable.map((type) => html`<a class="button button--small" href="${p}/enroll/${type}">${addLabel(type)}</a>`)}
${recovery ? confirmed(ctx, 'confirm-recovery-codes', `${p}/enroll/recovery-codes`, t.t('account.recovery_codes.generate'), 'button button--small', t.t('recovery_codes.confirm.title'), recoveryText, postForm(ctx, `${p}/enroll/recovery-codes`, html`<button class="button button--primary" type="submit">${t.t('recovery_codes.confirm.submit')}</button>`, { className: 'inline-form' })) : postForm(ctx, `${p}/enroll/recovery-codes`, html`<button class="button button--small" type="submit">${t.t('account.recovery_codes.generate')}</button>`, { className: 'inline-form' })}
${m.canOptOut ? postForm(ctx, `${p}/account/second-factor/disable`, html`<button class="button button--small button--danger" type="submit">${t.t('account.second_factor.disable')}</button>`, { className: 'inline-form' }) : ''}</div>
${m.canOptIn ? html`<p class="panel__note">${t.t('account.second_factor.off')} <a href="${p}/enroll">${t.t('account.second_factor.enable')}</a></p>` : ''}`;

  const devices = m.devices.length
    ? html`<ul class="rows">${m.devices.map(
        (d) =>
          html`<li class="row"><div class="row__main"><span class="row__title">${d.name}${currentBadge(ctx, d.current, 'account.this_device')}</span><span class="row__detail">${t.t('account.last_used')} ${timeEl(ctx, d.lastUsedAt)} · ${d.ip}</span></div>${removeForm(ctx, '/account/devices/remove', d.id, t.t('common.remove'), `${d.name}, ${d.ip}`)}</li>`,
      )}</ul>`
    : html`<p class="empty">${t.t('account.devices.none')}</p>`;

  // "This session" first; each row tells the sessions apart: browser and OS, address, how it signed in, when it was last seen.
  const ordered = [...m.sessions].sort((a, b) => Number(b.current) - Number(a.current));
  const sessions = ordered.length
    ? html`<ul class="rows">${ordered.map((s) => {
        const client = describeUserAgent(s.userAgent);
        return html`<li class="row"><div class="row__main"><span class="row__title" title="${s.userAgent}">${client}${s.app ? html` <span class="badge badge--muted">${t.t('account.sessions.app')}</span>` : ''}${currentBadge(ctx, s.current, 'account.this_session')}</span><span class="row__detail">${s.ip || '—'} · ${t.t('account.sessions.via', { method: viaName(ctx, s.method) })}</span><span class="row__detail">${t.t('account.signed_in')} ${timeEl(ctx, s.createdAt)}${s.lastSeenAt ? html` · ${t.t('account.last_seen')} ${timeEl(ctx, s.lastSeenAt)}` : ''}</span></div>${s.current ? '' : removeForm(ctx, '/account/sessions/remove', s.id, t.t('account.sessions.end'), `${client}, ${s.ip}`)}</li>`;
      })}</ul>`
    : html`<p class="empty">${t.t('account.sessions.none')}</p>`;

  const appPasswords = m.appPasswords
    ? html`<p class="panel__intro">${t.t('account.app_passwords.hint')}</p>${
        m.appPasswords.length
          ? html`<ul class="rows">${m.appPasswords.map(
              (a) =>
                html`<li class="row"><div class="row__main"><span class="row__title">${a.name}</span><span class="row__detail">${t.t('account.app_passwords.created')} ${timeEl(ctx, a.createdAt)}</span><span class="row__detail">${a.lastUsedAt ? html`${t.t('account.last_used')} ${timeEl(ctx, a.lastUsedAt)}${a.lastIp ? html` · ${a.lastIp}` : ''}` : t.t('account.app_passwords.unused')}</span></div>${removeForm(ctx, '/account/app-passwords/remove', a.id, t.t('common.remove'), a.name)}</li>`,
            )}</ul>`
          : html`<p class="empty">${t.t('account.app_passwords.none')}</p>`
      }${postForm(ctx, `${p}/account/app-passwords`, html`<label class="field"><span class="field__label">${t.t('account.app_passwords.name')}</span><input class="input" name="name" maxlength="60" required autocomplete="off"></label><button class="button button--small" type="submit">${t.t('account.app_passwords.create')}</button>`, { className: 'inline-form' })}`
    : undefined;

  const logout = html`<div class="signout">
${postForm(ctx, `${p}/logout`, html`<button class="button button--primary" type="submit">${t.t('account.logout')}</button>`, { className: 'inline-form' })}
${confirmed(ctx, 'confirm-everywhere', `${p}/logout?everywhere=1`, t.t('account.logout_everywhere'), 'button button--danger', t.t('signout.everywhere.title'), t.t('signout.everywhere.text'), postForm(ctx, `${p}/logout?everywhere=1`, html`<button class="button button--danger" type="submit">${t.t('account.logout_everywhere')}</button>`, { className: 'inline-form' }))}
</div>
<p class="panel__note">${t.t('account.logout_everywhere_hint')}</p>`;

  const body = html`${pageHead(title)}
${m.notice ? alert('success', noticeText(ctx, m.notice)) : ''}
<div class="panels">
${section('profile-title', t.t('account.profile'), profile)}
${section('methods-title', t.t('account.methods'), html`${methods}${actions}`)}
${section('devices-title', t.t('account.devices'), html`<p class="panel__intro">${t.t('account.devices.hint')}</p>${devices}`)}
${section('sessions-title', t.t('account.sessions'), sessions)}
${appPasswords ? section('app-passwords-title', t.t('account.app_passwords'), appPasswords) : ''}
${section('signout-title', t.t('account.signout'), logout)}
</div>`;
  return layout(ctx, title, body, { wide: true });
}

export interface SignOutModel {
  /** Every session and trusted device of the user, not only this browser. */
  everywhere: boolean;
  /** Where "Cancel" leads. */
  cancel: string;
}

/** `GET /logout`: asks before signing out (the application's "Sign out" link, the account page without JavaScript). */
export function signOutPage(ctx: ViewContext, m: SignOutModel): string {
  const t = ctx.t;
  const p = ctx.prefix;
  const title = t.t(m.everywhere ? 'signout.everywhere.title' : 'signout.title');
  const body = html`<div class="card">
${pageHead(title, t.t(m.everywhere ? 'signout.everywhere.text' : 'signout.text', { product: ctx.productTitle }))}
${postForm(ctx, m.everywhere ? `${p}/logout?everywhere=1` : `${p}/logout`, html`<button class="button ${m.everywhere ? 'button--danger' : 'button--primary'} button--block" type="submit">${t.t(m.everywhere ? 'account.logout_everywhere' : 'account.logout')}</button>`, { className: 'stack' })}
<p class="card__foot"><a href="${safeHref(m.cancel)}">${t.t('common.cancel')}</a></p>
</div>`;
  return layout(ctx, title, body);
}

export interface RecoveryCodesConfirmModel {
  /** Codes of the current set still unused. */
  remaining?: number;
  cancel: string;
}

/** `GET /enroll/recovery-codes`: asks before a new set replaces the current one (without JavaScript). */
export function recoveryCodesConfirmPage(ctx: ViewContext, m: RecoveryCodesConfirmModel): string {
  const t = ctx.t;
  const title = t.t('recovery_codes.confirm.title');
  const body = html`<div class="card">
${pageHead(title, t.t('recovery_codes.confirm.text'))}
${m.remaining !== undefined ? html`<p class="hint">${t.t('recovery_codes.confirm.remaining', { count: m.remaining })}</p>` : ''}
${postForm(ctx, `${ctx.prefix}/enroll/recovery-codes`, html`<button class="button button--primary button--block" type="submit">${t.t('recovery_codes.confirm.submit')}</button>`, { className: 'stack' })}
<p class="card__foot"><a href="${safeHref(m.cancel)}">${t.t('common.cancel')}</a></p>
</div>`;
  return layout(ctx, title, body);
}

export interface AppPasswordCreatedModel {
  name: string;
  secret: string;
}

/** The new app password, shown once: the user types it into the app now. */
export function appPasswordCreatedPage(ctx: ViewContext, m: AppPasswordCreatedModel): string {
  const t = ctx.t;
  const title = t.t('account.app_passwords.shown.title');
  const body = html`<div class="card">
${pageHead(title)}
<p>${t.t('account.app_passwords.shown.text', { name: m.name })}</p>
<p><code id="app-password" class="secret">${m.secret}</code></p>
<p class="panel__note">${t.t('account.app_passwords.shown.once')}</p>
<p><a class="button button--primary" href="${ctx.prefix}/account">${t.t('account.app_passwords.shown.done')}</a></p>
</div>`;
  return layout(ctx, title, body);
}
