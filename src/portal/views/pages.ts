import type { MessageKey } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { alert, hidden, pageHead, postForm, timeEl } from './components.js';
import { html, safeHref } from './html.js';
import { layout } from './layout.js';

export interface RecoverModel {
  step: 'request' | 'sent' | 'reset';
  error?: 'not_available' | 'expired' | 'rate_limited' | 'invalid_password' | 'csrf';
  /** The one-time token of the emailed link (reset step); without it the form posts to the current URL. */
  token?: string;
  username?: string;
}

const RECOVER_ERRORS: Record<NonNullable<RecoverModel['error']>, MessageKey> = {
  not_available: 'recover.error.not_available',
  expired: 'recover.error.expired',
  rate_limited: 'verify.error.rate_limited',
  invalid_password: 'enroll.error.invalid_password',
  csrf: 'error.csrf',
};

export function recoverPage(ctx: ViewContext, m: RecoverModel): string {
  const t = ctx.t;
  const p = ctx.prefix;
  const title = t.t('recover.title');
  const err = m.error ? alert('error', t.t(RECOVER_ERRORS[m.error] ?? 'error.generic')) : '';
  let content;
  if (m.step === 'request') {
    content = html`${pageHead(title, t.t('recover.lead'))}
${err}
${postForm(
  ctx,
  `${p}/recover`,
  html`<div class="field">
<label for="username">${t.t('login.username')}</label>
<input id="username" name="username" type="text" value="${m.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256" autofocus>
</div>
<button class="button button--primary button--block" type="submit">${t.t('recover.submit')}</button>`,
  { className: 'stack' },
)}`;
  } else if (m.step === 'sent') {
    content = html`${pageHead(title)}
${alert('info', t.t('recover.sent'))}
<p class="hint">${t.t('recover.sent_hint')}</p>`;
  } else {
    const action = m.token ? `${p}/recover/${encodeURIComponent(m.token)}` : '';
    content = html`${pageHead(t.t('recover.reset.title'), t.t('recover.reset.lead'))}
${err}
${m.error === 'expired' ? '' : html`<form method="post"${action ? html` action="${action}"` : ''} class="stack">${hidden('csrf', ctx.csrf)}
<div class="field">
<label for="password">${t.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" autofocus>
</div>
<button class="button button--danger button--block" type="submit">${t.t('recover.reset.submit')}</button>
</form>`}`;
  }
  const body = html`<div class="card">
${content}
<p class="card__foot"><a href="${p}/login">${t.t('common.back_to_login')}</a></p>
</div>`;
  return layout(ctx, title, body);
}

export interface InviteModel {
  token: string;
  username: string;
  error?: 'mismatch' | 'too_short' | 'expired' | 'csrf';
  /** Minimum password length (default 8). */
  minLength?: number;
}

export function invitePage(ctx: ViewContext, m: InviteModel): string {
  const t = ctx.t;
  const title = t.t('invite.title');
  const min = m.minLength ?? 8;
  const errKey: Record<NonNullable<InviteModel['error']>, string> = {
    mismatch: t.t('invite.error.mismatch'),
    too_short: t.t('invite.error.too_short', { count: min }),
    expired: t.t('invite.error.expired'),
    csrf: t.t('error.csrf'),
  };
  const content =
    m.error === 'expired'
      ? html`${alert('error', errKey.expired)}<p class="card__foot"><a href="${ctx.prefix}/login">${t.t('common.back_to_login')}</a></p>`
      : html`${m.error ? alert('error', errKey[m.error]) : ''}
${postForm(
  ctx,
  `${ctx.prefix}/invite/${encodeURIComponent(m.token)}`,
  html`<div class="field">
<label for="username">${t.t('login.username')}</label>
<input id="username" name="username" type="text" value="${m.username}" autocomplete="username" readonly>
</div>
<div class="field">
<label for="password">${t.t('invite.new_password')}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${min}" maxlength="1024" aria-describedby="password-hint" autofocus${m.error === 'too_short' ? html` aria-invalid="true"` : ''}>
<p class="hint" id="password-hint">${t.t('invite.hint', { count: min })}</p>
</div>
<div class="field">
<label for="password_confirm">${t.t('invite.confirm_password')}</label>
<input id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" required minlength="${min}" maxlength="1024"${m.error === 'mismatch' ? html` aria-invalid="true"` : ''}>
</div>
<button class="button button--primary button--block" type="submit">${t.t('invite.submit')}</button>`,
  { className: 'stack' },
)}`;
  const body = html`<div class="card">
${pageHead(title, t.t('invite.lead', { product: ctx.productTitle }))}
${content}
</div>`;
  return layout(ctx, title, body);
}

export interface MessageModel {
  title: string;
  message: string;
  /** HTTP status, shown small (e.g. 403, 503). */
  status?: number;
  link?: { href: string; label: string };
}

export function messagePage(ctx: ViewContext, m: MessageModel): string {
  const body = html`<div class="card card--message">
${m.status ? html`<p class="eyebrow">${ctx.t.t('message.status', { status: m.status })}</p>` : ''}
${pageHead(m.title)}
<p>${m.message}</p>
${m.link ? html`<p><a class="button button--primary" href="${safeHref(m.link.href)}">${m.link.label}</a></p>` : ''}
</div>`;
  return layout(ctx, m.title, body);
}

/** The statuses with their own words; any other error uses the generic ones. */
const ERROR_STATUSES = new Set([400, 403, 404, 405, 429, 500, 502, 503, 504]);

export interface ErrorPageModel {
  status: number;
  /** The request id to quote to support. */
  requestId: string;
  /** Where "Go to the start page" leads (`portal.default_redirect`). */
  home: string;
  /** A same-site path to try again (temporary failures of a GET), else none. */
  retry?: string;
}

/** An error page in the portal's layout: what happened in the visitor's language, the request id to quote, a way on. */
export function errorPage(ctx: ViewContext, m: ErrorPageModel): string {
  const t = ctx.t;
  const key = ERROR_STATUSES.has(m.status) ? String(m.status) : 'other';
  const title = t.t(`errorpage.${key}.title` as MessageKey);
  const link = m.retry
    ? html`<a class="button button--primary" href="${safeHref(m.retry)}">${t.t('errorpage.retry')}</a>`
    : html`<a class="button button--primary" href="${safeHref(m.home)}">${t.t('errorpage.home')}</a>`;
  const body = html`<div class="card card--message">
<p class="eyebrow">${t.t('message.status', { status: m.status })}</p>
${pageHead(title)}
<p>${t.t(`errorpage.${key}.text` as MessageKey)}</p>
<p class="actions">${link}</p>
<p class="hint request-id">${t.t('errorpage.request_id')} <code>${m.requestId}</code></p>
</div>`;
  return layout(ctx, title, body);
}

export interface OutboxModel {
  /** Oldest first, as the outbox keeps them (the page shows the newest first). */
  messages: Array<{ channel: 'email' | 'sms'; to: string; subject?: string; text: string; code?: string; at: string }>;
}

/** `/_gateway/dev/outbox` in demo mode: the messages console delivery "sent", newest first, the code large. */
export function outboxPage(ctx: ViewContext, m: OutboxModel): string {
  const t = ctx.t;
  const title = t.t('outbox.title');
  const items = [...m.messages].reverse().map(
    (x) => html`<li class="panel outbox__item">
<p class="outbox__meta"><span class="badge badge--muted">${t.t(x.channel === 'sms' ? 'outbox.sms' : 'outbox.email')}</span> <span>${t.t('outbox.to')} <strong>${x.to}</strong></span> · ${timeEl(ctx, x.at)}</p>
${x.subject ? html`<p class="outbox__subject">${x.subject}</p>` : ''}
${x.code ? html`<p class="outbox__code"><span class="visually-hidden">${t.t('outbox.code')}: </span><code>${x.code}</code></p>` : ''}
<details><summary>${t.t('outbox.full_text')}</summary><pre class="outbox__text">${x.text}</pre></details>
</li>`,
  );
  const body = html`${pageHead(title, t.t('outbox.lead'))}
<p><a class="button button--small" href="${ctx.prefix}/dev/outbox">${t.t('outbox.refresh')}</a></p>
${items.length ? html`<ol class="outbox">${items}</ol>` : html`<p class="empty">${t.t('outbox.empty')}</p>`}`;
  return layout(ctx, title, body, { wide: true });
}

export interface ReportModel {
  /** confirm: the page the link opens; done: after the POST; gone: expired, used or not valid; csrf: a stale form. */
  step: 'confirm' | 'done' | 'gone' | 'csrf';
  token: string;
}

/** "This wasn't me" (issue 16): a confirmation before anything happens (a GET changes nothing). */
export function reportPage(ctx: ViewContext, m: ReportModel): string {
  const t = ctx.t;
  const p = ctx.prefix;
  const title = t.t('report.title');
  let content;
  if (m.step === 'done') content = html`${pageHead(title)}${alert('success', t.t('report.done'))}`;
  else if (m.step === 'gone') content = html`${pageHead(title)}${alert('error', t.t('report.gone'))}`;
  else {
    content = html`${pageHead(title, t.t('report.lead'))}
${m.step === 'csrf' ? alert('error', t.t('error.csrf')) : ''}
${postForm(ctx, `${p}/report/${m.token}`, html`<button class="button button--danger button--block" type="submit">${t.t('report.submit')}</button>`, { className: 'stack' })}`;
  }
  const body = html`<div class="card">
${content}
<p class="card__foot"><a href="${p}/login">${t.t('common.back_to_login')}</a></p>
</div>`;
  return layout(ctx, title, body);
}
