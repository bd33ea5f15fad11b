import type { ViewContext } from './context.js';
import { alert, formatWait, pageHead, postForm } from './components.js';
import { html, type Html } from './html.js';
import { brandMark, layout } from './layout.js';

export type LoginError =
  | 'invalid_credentials'
  | 'rate_limited'
  | 'locked'
  | 'directory_unavailable'
  | 'store_unavailable'
  | 'csrf'
  | 'overloaded';

export interface LoginModel {
  rd: string;
  username?: string;
  error?: LoginError;
  /** Seconds, for `rate_limited` (and `overloaded`). */
  retryAfter?: number;
  /** Why the browser was sent here: signed out (here or everywhere), session over, account locked. */
  notice?: 'logged_out' | 'session_expired' | 'locked' | 'signed_out_everywhere';
  /** With `signed_out_everywhere`: what ended. */
  signedOut?: { sessions: number; devices: number };
  /** "Sign in with ..." buttons, one per identity provider (each starts at `/oidc/NAME/start`, keeping `rd`). */
  providers?: ReadonlyArray<{ name: string; displayName: string }>;
  /** false: no username and password form (`portal.password_form: false`). */
  passwordForm?: boolean;
}

function noticeAlert(ctx: ViewContext, m: LoginModel): Html | '' {
  const t = ctx.t;
  switch (m.notice) {
    case undefined:
      return '';
    case 'locked':
      return alert('error', t.t('verify.error.locked'));
    case 'signed_out_everywhere': {
      const s = m.signedOut ?? { sessions: 0, devices: 0 };
      const devices = s.devices > 0 ? ` ${t.t('login.notice.devices_forgotten', { count: s.devices })}` : '';
      return alert('success', `${t.t('login.notice.signed_out_everywhere', { count: s.sessions })}${devices}`);
    }
    default:
      return alert('info', t.t(`login.notice.${m.notice}`));
  }
}

function errorText(ctx: ViewContext, m: LoginModel): string {
  const t = ctx.t;
  switch (m.error) {
    case 'invalid_credentials':
      return t.t('login.error.invalid_credentials');
    case 'rate_limited':
      return m.retryAfter
        ? t.t('login.error.rate_limited_wait', { wait: formatWait(ctx, m.retryAfter) })
        : t.t('login.error.rate_limited');
    case 'locked':
      return t.t('login.error.locked');
    case 'directory_unavailable':
    case 'store_unavailable':
      return t.t('error.unavailable');
    case 'overloaded':
      return t.t('error.overloaded');
    case 'csrf':
      return t.t('error.csrf');
    default:
      return '';
  }
}

export function loginPage(ctx: ViewContext, m: LoginModel): string {
  const { t, prefix } = ctx;
  const invalid = m.error === 'invalid_credentials';
  const focusPassword = Boolean(m.username);
  const messages = html`${noticeAlert(ctx, m)}${m.error ? alert('error', errorText(ctx, m)) : ''}`;
  const form = postForm(
    ctx,
    `${prefix}/login`,
    html`<div class="field">
<label for="username">${t.t('login.username')}</label>
<input id="username" name="username" type="text" value="${m.username ?? ''}" autocomplete="username" autocapitalize="none" autocorrect="off" spellcheck="false" required maxlength="256"${focusPassword ? '' : html` autofocus`}${invalid ? html` aria-invalid="true"` : ''}>
</div>
<div class="field">
<label for="password">${t.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${focusPassword ? html` autofocus` : ''}${invalid ? html` aria-invalid="true"` : ''}>
</div>
<button class="button button--primary button--block" type="submit">${t.t('login.submit')}</button>`,
    { rd: m.rd, className: 'stack' },
  );
  const showForm = m.passwordForm !== false;
  const providers = m.providers ?? [];
  const buttons = providers.length
    ? html`<div class="stack">
${providers.map((p) => html`<a class="button button--block${showForm ? '' : ' button--primary'}" href="${prefix}/oidc/${encodeURIComponent(p.name)}/start?rd=${encodeURIComponent(m.rd)}">${t.t('login.oidc.button', { provider: p.displayName })}</a>`)}
</div>
${showForm ? html`<p class="hint">${t.t('login.oidc.or')}</p>` : ''}`
    : '';
  const body = html`<div class="card">
<p class="card__brand">${brandMark(ctx, 'card__mark')}<span>${ctx.productTitle}</span></p>
${pageHead(t.t('login.title'), t.t('login.lead', { product: ctx.productTitle }))}
${messages}
${buttons}
${showForm ? form : ''}
<p class="card__foot"><a href="${prefix}/recover">${t.t('login.lost_factor')}</a></p>
</div>`;
  return layout(ctx, t.t('login.title'), body);
}

