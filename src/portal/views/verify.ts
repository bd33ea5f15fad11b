import type { MessageKey } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { codeInput } from './code-input.js';
import { alert, codePhrase, formatWait, hidden, pageHead, postForm, tf } from './components.js';
import { html, type Html } from './html.js';
import { layout } from './layout.js';

export type VerifyMethod = 'email' | 'sms' | 'totp' | 'webauthn' | 'recovery_code';
export type VerifyError =
  | 'invalid_code'
  | 'code_expired'
  | 'exhausted'
  | 'rate_limited'
  | 'locked'
  | 'delivery_failed'
  | 'csrf';

export interface VerifyModel {
  rd: string;
  method: VerifyMethod;
  /** Already masked (a***@example.com, +49 *** **78). */
  destination?: string;
  /** Every method the user can use (the current one included or not). */
  methods: Array<{ type: VerifyMethod; destination?: string }>;
  /** A code was just sent to `destination`. */
  sent?: boolean;
  /** The SMS could not be sent, so the code went by email. */
  fellBack?: boolean;
  error?: VerifyError;
  attemptsLeft?: number;
  /** What runs out when `attemptsLeft` reaches 0: this code (send a new one) or the account (locked). */
  limit?: 'code' | 'account';
  /**
   * Said once after a POST (post/redirect/get): a code was sent (`sent`, after choosing a method), a new
   * code was sent (`resent`), or a new code cannot be sent yet (`cooldown`, see `resendIn`).
   */
  notice?: 'sent' | 'resent' | 'cooldown';
  /** Masked address the `sent`/`resent` notice names. */
  sentTo?: string;
  /** Seconds until "Send a new code" works again (the button counts down with JavaScript). */
  resendIn?: number;
  /** Seconds. */
  retryAfter?: number;
  /** Offer "trust this device". */
  rememberDevice: boolean;
  /** Days a trusted device stays trusted (shown next to the checkbox when given). */
  trustDays?: number;
  codeLength: number;
  codeCharset: string;
  /** JSON PublicKeyCredentialRequestOptions (base64url buffers) for portal.js; passkeys need JavaScript. */
  webauthnOptions?: string;
}

const METHOD_NAME: Record<VerifyMethod, MessageKey> = {
  email: 'method.email',
  sms: 'method.sms',
  totp: 'method.totp',
  webauthn: 'method.webauthn',
  recovery_code: 'method.recovery_code',
};

const SWITCH_LABEL: Record<VerifyMethod, MessageKey> = {
  email: 'verify.switch.email',
  sms: 'verify.switch.sms',
  totp: 'verify.switch.totp',
  webauthn: 'verify.switch.webauthn',
  recovery_code: 'verify.switch.recovery_code',
};

function isDelivered(method: VerifyMethod): boolean {
  return method === 'email' || method === 'sms';
}

function instructions(ctx: ViewContext, m: VerifyModel): Html {
  const t = ctx.t;
  const dest = html`<strong class="nowrap">${m.destination ?? ''}</strong>`;
  const length = m.codeLength;
  const code = codePhrase(ctx, m.codeLength, m.codeCharset);
  switch (m.method) {
    case 'email':
    case 'sms':
      if (m.fellBack) return tf(ctx, 'verify.fell_back', { destination: dest, code });
      if (m.sent === false) return tf(ctx, `verify.not_sent.${m.method}`, { destination: dest });
      return m.destination
        ? tf(ctx, `verify.sent.${m.method}`, { destination: dest, code })
        : html`${t.t('verify.sent.generic')}`;
    case 'totp':
      return html`${t.t('verify.totp', { length })}`;
    case 'recovery_code':
      return html`${t.t('verify.recovery_code')}`;
    case 'webauthn':
      return html`${t.t('verify.webauthn')}`;
  }
}

function errorText(ctx: ViewContext, m: VerifyModel): string {
  const t = ctx.t;
  switch (m.error) {
    case 'invalid_code':
      // One rule (auth/second-step.ts): the fewer of this code's attempts and the account's; the words say which.
      if (m.attemptsLeft === undefined) return t.t('verify.error.invalid_code');
      if (m.limit === 'code') return m.attemptsLeft > 0 ? t.t('verify.error.invalid_code_left_code', { count: m.attemptsLeft }) : t.t('verify.error.invalid_code_last');
      return t.t('verify.error.invalid_code_left', { count: m.attemptsLeft });
    case 'code_expired':
      return t.t('verify.error.code_expired');
    case 'exhausted':
      return t.t('verify.error.exhausted');
    case 'rate_limited':
      return m.retryAfter
        ? t.t('verify.error.rate_limited_wait', { wait: formatWait(ctx, m.retryAfter) })
        : t.t('verify.error.rate_limited');
    case 'locked':
      return t.t('verify.error.locked');
    case 'delivery_failed':
      return t.t('verify.error.delivery_failed');
    case 'csrf':
      return t.t('error.csrf');
    default:
      return '';
  }
}

/** "Remember this device" (trusted devices on): the same for a code and a passkey. */
function rememberCheck(ctx: ViewContext, m: VerifyModel): Html | '' {
  return m.rememberDevice
    ? html`<div class="check">
<input id="remember_device" name="remember_device" type="checkbox" value="1">
<label for="remember_device">${m.trustDays ? ctx.t.t('verify.remember_days', { count: m.trustDays }) : ctx.t.t('verify.remember')}</label>
</div>`
    : '';
}

function codeForm(ctx: ViewContext, m: VerifyModel): Html {
  const t = ctx.t;
  const remember = rememberCheck(ctx, m);
  const recovery = m.method === 'recovery_code';
  return postForm(
    ctx,
    `${ctx.prefix}/verify`,
    html`${hidden('method', m.method)}
${codeInput(ctx, {
  length: recovery ? 0 : m.codeLength,
  charset: recovery ? 'recovery' : m.method === 'totp' ? 'digits' : m.codeCharset,
  invalid: m.error === 'invalid_code',
  describedBy: 'verify-instructions',
  label: recovery ? t.t('verify.recovery_label') : t.t('verify.code_label'),
})}
${remember}
<button class="button button--primary button--block" type="submit">${t.t('verify.submit')}</button>`,
    { rd: m.rd, className: 'stack' },
  );
}

function webauthnForm(ctx: ViewContext, m: VerifyModel): Html {
  const t = ctx.t;
  if (!m.webauthnOptions) return alert('info', t.t('verify.webauthn_unavailable'));
  return postForm(
    ctx,
    `${ctx.prefix}/verify`,
    html`${hidden('method', 'webauthn')}${hidden('credential', '')}
<div class="alert alert--info" role="status" data-webauthn-unsupported>${t.t('verify.webauthn_noscript')}</div>
<div class="alert alert--error" role="alert" data-webauthn-error hidden>${t.t('webauthn.failed')}</div>
${rememberCheck(ctx, m)}
<button class="button button--primary button--block" type="submit" data-webauthn-mode="get" data-webauthn-options="${m.webauthnOptions}" hidden>${t.t('verify.webauthn_button')}</button>`,
    { rd: m.rd, className: 'stack', attrs: html` data-webauthn-form` },
  );
}

function resendForm(ctx: ViewContext, m: VerifyModel): Html {
  if (!isDelivered(m.method) || m.error === 'locked') return html``;
  // Inside the cooldown portal.js disables the button and counts down on it; without JavaScript the
  // button stays usable and the server answers with the wait.
  const wait = m.resendIn && m.resendIn > 0 ? html` data-countdown="${m.resendIn}" data-countdown-text="${ctx.t.t('verify.resend_wait', { seconds: '{s}' })}"` : '';
  return postForm(
    ctx,
    `${ctx.prefix}/verify/resend`,
    html`${hidden('method', m.method)}<button class="button button--link" type="submit"${wait}>${ctx.t.t(m.sent === false ? 'verify.send' : 'verify.resend')}</button>`,
    { rd: m.rd, className: 'inline-form resend' },
  );
}

/** The one-time message after a POST: a code was (re)sent, or when the next one can be sent. */
function noticeAlert(ctx: ViewContext, m: VerifyModel): Html | '' {
  const to = html`<strong class="nowrap">${m.sentTo ?? ''}</strong>`;
  if (m.notice === 'resent' && m.sentTo) return alert('success', tf(ctx, 'verify.notice.resent', { destination: to }));
  if (m.notice === 'sent' && m.sentTo) return alert('success', tf(ctx, 'verify.notice.sent', { destination: to }));
  if (m.notice === 'cooldown') return alert('info', m.resendIn && m.resendIn > 0 ? ctx.t.t('verify.notice.cooldown', { wait: formatWait(ctx, m.resendIn) }) : ctx.t.t('verify.notice.cooldown_over'));
  return '';
}

function methodChooser(ctx: ViewContext, m: VerifyModel): Html {
  const others = m.methods.filter((x) => x.type !== m.method);
  if (others.length === 0 || m.error === 'locked') return html``;
  const items = others.map(
    (x) =>
      html`<li>${postForm(
        ctx,
        `${ctx.prefix}/verify`,
        html`${hidden('method', x.type)}<button class="button button--choice" type="submit"><span class="choice__name">${ctx.t.t(SWITCH_LABEL[x.type])}</span>${x.destination ? html`<span class="choice__detail">${x.destination}</span>` : ''}</button>`,
        { rd: m.rd },
      )}</li>`,
  );
  return html`<section class="other-methods" aria-labelledby="other-methods-title">
<h2 id="other-methods-title" class="subtitle">${ctx.t.t('verify.other_methods')}</h2>
<ul class="choices">${items}</ul>
</section>`;
}

export function verifyPage(ctx: ViewContext, m: VerifyModel): string {
  const t = ctx.t;
  const title = t.t('verify.title');
  const errorAlert = m.error ? alert('error', errorText(ctx, m)) : noticeAlert(ctx, m);
  const main =
    m.error === 'locked'
      ? html`<p><a class="button button--block" href="${ctx.prefix}/login">${t.t('common.back_to_login')}</a></p>`
      : m.method === 'webauthn'
        ? webauthnForm(ctx, m)
        : codeForm(ctx, m);
  const body = html`<div class="card">
<p class="eyebrow">${t.t(METHOD_NAME[m.method])}</p>
${pageHead(title)}
<p class="lead" id="verify-instructions">${instructions(ctx, m)}</p>
${errorAlert}
${main}
${resendForm(ctx, m)}
${methodChooser(ctx, m)}
<p class="card__foot"><a href="${ctx.prefix}/login">${t.t('verify.other_account')}</a> · <a href="${ctx.prefix}/recover">${t.t('login.lost_factor')}</a></p>
</div>`;
  return layout(ctx, title, body, { webauthn: m.method === 'webauthn' && m.webauthnOptions !== undefined });
}
