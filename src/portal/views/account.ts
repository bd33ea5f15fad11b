import type { MessageKey } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { alert, hidden, pageHead, postForm, timeEl } from './components.js';
import { html, type Html } from './html.js';
import { layout } from './layout.js';

export interface AccountModel {
  user: { name: string; username: string; email?: string; groups: string[] };
  methods: Array<{ type: string; label: string; removable: boolean; id?: string }>;
  devices: Array<{ id: string; name: string; ip: string; lastUsedAt: string; current: boolean }>;
  sessions: Array<{ id: string; ip: string; userAgent: string; createdAt: string; current: boolean }>;
  /** The policy is `optional` and the user has two-step on: offer to turn it off. */
  canOptOut: boolean;
  /** The policy is `optional` and the user has it off: offer to turn it on. */
  canOptIn: boolean;
  /** A notice key (`method_removed`, `device_removed`, `session_removed`, ...) or a plain text. */
  notice?: string;
  /** Methods the user may add (links to /enroll/<type>); default totp, email, sms, webauthn. */
  enrollable?: Array<'totp' | 'email' | 'sms' | 'webauthn'>;
}

const NOTICES = new Set([
  'method_added',
  'method_removed',
  'device_removed',
  'session_removed',
  'recovery_codes_generated',
  'second_factor_enabled',
  'second_factor_disabled',
  'password_set',
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

function removeForm(ctx: ViewContext, action: string, id: string, label: string): Html {
  return postForm(
    ctx,
    `${ctx.prefix}${action}`,
    html`${hidden('id', id)}<button class="button button--small button--danger" type="submit">${label}</button>`,
    { className: 'inline-form' },
  );
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

  const methods = m.methods.length
    ? html`<ul class="rows">${m.methods.map(
        (x) =>
          html`<li class="row"><div class="row__main"><span class="row__title">${methodName(ctx, x.type)}</span><span class="row__detail">${x.label}</span></div>${x.removable && x.id ? removeForm(ctx, '/account/methods/remove', x.id, t.t('common.remove')) : ''}</li>`,
      )}</ul>`
    : html`<p class="empty">${t.t('account.methods.none')}</p>`;
  const enrollable = m.enrollable ?? ['totp', 'email', 'sms', 'webauthn'];
  const actions = html`<div class="links">${enrollable.map((type) => html`<a class="button button--small" href="${p}/enroll/${type}">${t.t(ADD_LABEL[type])}</a>`)}
${postForm(ctx, `${p}/enroll/recovery-codes`, html`<button class="button button--small" type="submit">${t.t('account.recovery_codes.generate')}</button>`, { className: 'inline-form' })}
${m.canOptOut ? postForm(ctx, `${p}/account/second-factor/disable`, html`<button class="button button--small button--danger" type="submit">${t.t('account.second_factor.disable')}</button>`, { className: 'inline-form' }) : ''}</div>
${m.canOptIn ? html`<p class="panel__note">${t.t('account.second_factor.off')} <a href="${p}/enroll">${t.t('account.second_factor.enable')}</a></p>` : ''}`;

  const devices = m.devices.length
    ? html`<ul class="rows">${m.devices.map(
        (d) =>
          html`<li class="row"><div class="row__main"><span class="row__title">${d.name}${currentBadge(ctx, d.current, 'account.this_device')}</span><span class="row__detail">${t.t('account.last_used')} ${timeEl(ctx, d.lastUsedAt)} · ${d.ip}</span></div>${removeForm(ctx, '/account/devices/remove', d.id, t.t('common.remove'))}</li>`,
      )}</ul>`
    : html`<p class="empty">${t.t('account.devices.none')}</p>`;

  const sessions = m.sessions.length
    ? html`<ul class="rows">${m.sessions.map(
        (s) =>
          html`<li class="row"><div class="row__main"><span class="row__title" title="${s.userAgent}">${describeUserAgent(s.userAgent)}${currentBadge(ctx, s.current, 'account.this_session')}</span><span class="row__detail">${t.t('account.signed_in')} ${timeEl(ctx, s.createdAt)} · ${s.ip}</span></div>${s.current ? '' : removeForm(ctx, '/account/sessions/remove', s.id, t.t('account.sessions.end'))}</li>`,
      )}</ul>`
    : html`<p class="empty">${t.t('account.sessions.none')}</p>`;

  const logout = html`<div class="signout">
${postForm(ctx, `${p}/logout`, html`<button class="button button--primary" type="submit">${t.t('account.logout')}</button>`, { className: 'inline-form' })}
${postForm(ctx, `${p}/logout?everywhere=1`, html`<button class="button button--danger" type="submit">${t.t('account.logout_everywhere')}</button>`, { className: 'inline-form' })}
</div>
<p class="panel__note">${t.t('account.logout_everywhere_hint')}</p>`;

  const body = html`${pageHead(title)}
${m.notice ? alert('success', noticeText(ctx, m.notice)) : ''}
<div class="panels">
${section('profile-title', t.t('account.profile'), profile)}
${section('methods-title', t.t('account.methods'), html`${methods}${actions}`)}
${section('devices-title', t.t('account.devices'), html`<p class="panel__intro">${t.t('account.devices.hint')}</p>${devices}`)}
${section('sessions-title', t.t('account.sessions'), sessions)}
${section('signout-title', t.t('account.signout'), logout)}
</div>`;
  return layout(ctx, title, body, { wide: true });
}
