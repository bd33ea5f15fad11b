import type { MessageKey } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { codeInput } from './code-input.js';
import { alert, codePhrase, hidden, pageHead, postForm, tf } from './components.js';
import { html, raw, safeHref, type Html } from './html.js';
import { layout } from './layout.js';

export type EnrollMethod = 'totp' | 'email' | 'sms' | 'webauthn';

export interface EnrollTotpModel {
  /** Trusted SVG markup from the qrcode library. */
  qrSvg: string;
  uri: string;
  secretBase32: string;
  error?: 'invalid_code' | 'invalid_password' | 'csrf';
  rd: string;
  /** Digits of the TOTP code (second_factor.totp.digits); 6 when not given. */
  digits?: number;
  /** An authenticator app is already set up: this one replaces it (codes from the old app stop working). */
  replaces?: boolean;
  /** Where "Cancel" leads (the account page, or the way out of a required set-up). */
  cancel?: string;
  /** The user has no local password (made from an identity provider's claims): the first code alone confirms. */
  passwordless?: boolean;
}

export interface EnrollDestinationModel {
  kind: 'email' | 'sms';
  step: 'enter' | 'confirm';
  /** Shown on the confirm step (masked or as entered). */
  destination?: string;
  error?: 'invalid_destination' | 'invalid_code' | 'code_expired' | 'rate_limited' | 'delivery_failed' | 'csrf';
  rd: string;
  codeLength?: number;
  codeCharset?: string;
}

export interface EnrollChoiceModel {
  methods: EnrollMethod[];
  rd: string;
  /** The organisation requires two-step verification (no "not now"). */
  required: boolean;
}

/** Base32 secret in groups of four for reading aloud or typing. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** The secret's groups of four, each kept whole when the line wraps. */
function secretGroups(secret: string): Html {
  return html`${groupSecret(secret)
    .split(' ')
    .map((g, i) => html`${i > 0 ? ' ' : ''}<span class="secret__group">${g}</span>`)}`;
}

/** An `otpauth://` link for phones ("Open in authenticator app"); anything else is not linked. */
function otpauthHref(uri: string): string | undefined {
  return /^otpauth:\/\/totp\/[^\s"<>]*$/i.test(uri) ? uri : undefined;
}

/** The SVG namespace URI is implied for inline SVG in HTML; dropping it keeps pages free of URLs. */
function inlineSvg(svg: string): Html {
  return raw(svg.replace(/\s+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, ''));
}

const ERRORS: Record<string, MessageKey> = {
  invalid_code: 'verify.error.invalid_code',
  invalid_password: 'enroll.error.invalid_password',
  invalid_destination: 'enroll.error.invalid_destination',
  code_expired: 'verify.error.code_expired',
  rate_limited: 'verify.error.rate_limited',
  delivery_failed: 'verify.error.delivery_failed',
  csrf: 'error.csrf',
};

function errorAlert(ctx: ViewContext, error: string | undefined): Html | '' {
  if (!error) return '';
  const key = ERRORS[error];
  return alert('error', key ? ctx.t.t(key) : ctx.t.t('error.generic'));
}

export function enrollTotpPage(ctx: ViewContext, m: EnrollTotpModel): string {
  const t = ctx.t;
  const title = t.t('enroll.totp.title');
  const digits = m.digits ?? 6;
  const title2 = m.replaces ? t.t('enroll.totp.replace_title') : title;
  const open = otpauthHref(m.uri);
  const body = html`<div class="card">
${pageHead(title2, t.t('enroll.totp.lead'))}
${m.replaces ? alert('warning', t.t('enroll.totp.replaces')) : ''}
${errorAlert(ctx, m.error)}
<ol class="steps">
<li><p>${t.t('enroll.totp.step_scan')}</p>
<figure class="qr">${inlineSvg(m.qrSvg)}<figcaption class="visually-hidden">${t.t('enroll.totp.qr_alt')}</figcaption></figure>
${open ? html`<p class="open-app"><a class="button button--block" href="${open}">${t.t('enroll.totp.open_app')}</a><span class="hint">${t.t('enroll.totp.open_app_hint')}</span></p>` : ''}
<details class="manual">
<summary>${t.t('enroll.totp.manual')}</summary>
<p class="hint">${t.t('enroll.totp.secret_label')}</p>
<div class="secret"><code id="totp-secret">${secretGroups(m.secretBase32)}</code><button class="button button--small" type="button" data-copy="${m.secretBase32}" data-copied="${t.t('common.copied')}" hidden>${t.t('common.copy')}</button></div>
<p class="hint">${t.t('enroll.totp.uri_label')}</p>
<p class="uri"><code>${m.uri}</code></p>
</details>
</li>
<li><p>${m.passwordless ? t.t('enroll.totp.step_confirm_code', { length: digits }) : t.t('enroll.totp.step_confirm', { length: digits })}</p>
${postForm(
  ctx,
  `${ctx.prefix}/enroll/totp`,
  html`${m.passwordless ? '' : html`<div class="field">
<label for="password">${t.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${m.error === 'invalid_password' ? html` aria-invalid="true"` : ''}>
</div>`}
${codeInput(ctx, { length: digits, charset: 'digits', invalid: m.error === 'invalid_code', autofocus: false, label: t.t('enroll.totp.code_label') })}
<button class="button button--primary button--block" type="submit">${t.t('enroll.totp.submit')}</button>`,
  { rd: m.rd, className: 'stack' },
)}
</li>
</ol>
${m.cancel ? html`<p class="card__foot"><a href="${safeHref(m.cancel)}">${t.t('common.cancel')}</a></p>` : ''}
</div>`;
  return layout(ctx, title2, body);
}

export function enrollDestinationPage(ctx: ViewContext, m: EnrollDestinationModel): string {
  const t = ctx.t;
  const kind = m.kind;
  const title = t.t(`enroll.${kind}.title`);
  const action = `${ctx.prefix}/enroll/${kind}`;
  let content: Html;
  if (m.step === 'enter') {
    const input =
      kind === 'sms'
        ? html`<input id="destination" name="destination" type="tel" autocomplete="tel" inputmode="tel" required maxlength="32" placeholder="+49 151 2345678" aria-describedby="destination-hint"${m.error === 'invalid_destination' ? html` aria-invalid="true"` : ''} autofocus>`
        : html`<input id="destination" name="destination" type="email" autocomplete="email" autocapitalize="none" spellcheck="false" required maxlength="254" aria-describedby="destination-hint"${m.error === 'invalid_destination' ? html` aria-invalid="true"` : ''} autofocus>`;
    content = html`${pageHead(title, t.t(`enroll.${kind}.lead`))}
${errorAlert(ctx, m.error)}
${postForm(
  ctx,
  action,
  html`<div class="field">
<label for="destination">${t.t(`enroll.${kind}.label`)}</label>
${input}
<p class="hint" id="destination-hint">${t.t(`enroll.${kind}.hint`)}</p>
</div>
<button class="button button--primary button--block" type="submit">${t.t('enroll.send_code')}</button>`,
  { rd: m.rd, className: 'stack' },
)}`;
  } else {
    content = html`${pageHead(title, tf(ctx, `verify.sent.${kind}`, { destination: html`<strong class="nowrap">${m.destination ?? ''}</strong>`, code: codePhrase(ctx, m.codeLength ?? 6, m.codeCharset ?? 'digits') }))}
${errorAlert(ctx, m.error)}
${postForm(
  ctx,
  action,
  html`${codeInput(ctx, { length: m.codeLength ?? 6, charset: m.codeCharset ?? 'digits', invalid: m.error === 'invalid_code' })}
<button class="button button--primary button--block" type="submit">${t.t('enroll.confirm')}</button>`,
  { rd: m.rd, className: 'stack' },
)}
<p class="card__foot"><a href="${action}">${t.t(`enroll.${kind}.change`)}</a></p>`;
  }
  return layout(ctx, title, html`<div class="card">${content}</div>`);
}

const CHOICE: Record<EnrollMethod, { name: MessageKey; detail: MessageKey }> = {
  totp: { name: 'method.totp', detail: 'enroll.choice.totp' },
  email: { name: 'method.email', detail: 'enroll.choice.email' },
  sms: { name: 'method.sms', detail: 'enroll.choice.sms' },
  webauthn: { name: 'method.webauthn', detail: 'enroll.choice.webauthn' },
};

export function enrollChoicePage(ctx: ViewContext, m: EnrollChoiceModel): string {
  const t = ctx.t;
  const title = t.t('enroll.choice.title');
  const rdQuery = m.rd ? `?rd=${encodeURIComponent(m.rd)}` : '';
  const items = m.methods.map(
    (type) =>
      html`<li><a class="button button--choice" href="${ctx.prefix}/enroll/${type}${rdQuery}"><span class="choice__name">${t.t(CHOICE[type].name)}</span><span class="choice__detail">${t.t(CHOICE[type].detail)}</span></a></li>`,
  );
  const body = html`<div class="card">
${pageHead(title, t.t(m.required ? 'enroll.choice.required' : 'enroll.choice.optional'))}
<ul class="choices">${items}</ul>
${m.required ? '' : html`<p class="card__foot"><a href="${safeHref(m.rd || '/')}">${t.t('enroll.choice.skip')}</a></p>`}
</div>`;
  return layout(ctx, title, body);
}

export interface RecoveryCodesModel {
  codes: string[];
  /** Where "continue" leads (default: the account page). */
  next?: string;
  /** This set replaced an earlier one (whose codes no longer work): say so. */
  replaced?: boolean;
}

export function recoveryCodesPage(ctx: ViewContext, m: RecoveryCodesModel): string {
  const t = ctx.t;
  const title = t.t('recovery_codes.title');
  const body = html`<div class="card">
${pageHead(title, t.t('recovery_codes.lead'))}
${m.replaced ? alert('success', t.t('account.notice.recovery_codes_generated')) : ''}
${alert('warning', t.t('recovery_codes.warning'))}
<ol class="codes" id="recovery-codes">${m.codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p class="actions"><button class="button button--small" type="button" data-copy="${m.codes.join('\n')}" data-copied="${t.t('common.copied')}" hidden>${t.t('common.copy')}</button></p>
<p><a class="button button--primary button--block" href="${safeHref(m.next ?? `${ctx.prefix}/account`)}">${t.t('recovery_codes.done')}</a></p>
</div>`;
  return layout(ctx, title, body);
}

export interface EnrollWebauthnModel {
  rd: string;
  /**
   * JSON PublicKeyCredentialCreationOptions with base64url `challenge`, `user.id` and
   * `excludeCredentials[].id`, for portal.js. Without it the page says passkeys are unavailable.
   */
  creationOptions?: string;
  error?: 'failed' | 'csrf';
}

/**
 * Passkey registration. Needs JavaScript (WebAuthn has no form-only path): portal.js calls
 * `navigator.credentials.create` and posts `credential` (JSON with base64url fields) and `name`.
 */
export function enrollWebauthnPage(ctx: ViewContext, m: EnrollWebauthnModel): string {
  const t = ctx.t;
  const title = t.t('enroll.webauthn.title');
  const content = m.creationOptions
    ? postForm(
        ctx,
        `${ctx.prefix}/enroll/webauthn`,
        html`${hidden('credential', '')}
<div class="alert alert--info" role="status" data-webauthn-unsupported>${t.t('enroll.webauthn.unsupported')}</div>
<div class="alert alert--error" role="alert" data-webauthn-error hidden>${t.t('webauthn.failed')}</div>
<div class="field">
<label for="name">${t.t('enroll.webauthn.name_label')}</label>
<input id="name" name="name" type="text" autocomplete="off" required maxlength="64" aria-describedby="name-hint">
<p class="hint" id="name-hint">${t.t('enroll.webauthn.name_hint')}</p>
</div>
<button class="button button--primary button--block" type="submit" data-webauthn-mode="create" data-webauthn-options="${m.creationOptions}" hidden>${t.t('enroll.webauthn.submit')}</button>`,
        { rd: m.rd, className: 'stack', attrs: html` data-webauthn-form` },
      )
    : alert('info', t.t('enroll.webauthn.unavailable'));
  const body = html`<div class="card">
${pageHead(title, t.t('enroll.webauthn.lead'))}
${m.error === 'failed' ? alert('error', t.t('webauthn.failed')) : m.error === 'csrf' ? alert('error', t.t('error.csrf')) : ''}
${content}
</div>`;
  return layout(ctx, title, body, { webauthn: m.creationOptions !== undefined });
}
