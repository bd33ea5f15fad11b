import { translator } from '../../src/portal/i18n/index.js';
import type { ViewContext } from '../../src/portal/views/index.js';
import {
  accountPage,
  enrollChoicePage,
  enrollDestinationPage,
  enrollTotpPage,
  enrollWebauthnPage,
  errorPage,
  invitePage,
  loginPage,
  messagePage,
  outboxPage,
  recoverPage,
  reportPage,
  recoveryCodesConfirmPage,
  recoveryCodesPage,
  signOutPage,
  verifyPage,
} from '../../src/portal/views/index.js';

export const QR_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h29v29H0z"/><path stroke="#000000" d="M4 4.5h7m2 0h1"/></svg>';

export function context(lang = 'en', extra: Partial<ViewContext> = {}): ViewContext {
  return { lang, t: translator(lang), prefix: '/_gateway', productTitle: 'Video Portal', csrf: 'tok.en', user: { name: 'Alice Operator' }, ...extra };
}

/** Every page in several states, rendered with `v` in every model string. */
export function renderAll(ctx: ViewContext, v = 'value'): Array<[string, string]> {
  const methods = [
    { type: 'email' as const, destination: `a***@${v}` },
    { type: 'sms' as const, destination: `+49 *** ${v}` },
    { type: 'totp' as const },
    { type: 'webauthn' as const },
    { type: 'recovery_code' as const },
  ];
  const verifyBase = { rd: `/app?x=${v}`, methods, rememberDevice: true, codeLength: 6, codeCharset: 'digits' };
  return [
    ['login', loginPage(ctx, { rd: `/${v}` })],
    ['login-error', loginPage(ctx, { rd: `/${v}`, username: v, error: 'invalid_credentials' })],
    ['login-rate', loginPage(ctx, { rd: v, error: 'rate_limited', retryAfter: 125, notice: 'session_expired' })],
    ['login-providers', loginPage(ctx, { rd: `/${v}`, providers: [{ name: 'entra', displayName: v }, { name: 'kc', displayName: `Keycloak ${v}` }] })],
    ['login-providers-only', loginPage(ctx, { rd: `/${v}`, providers: [{ name: 'entra', displayName: v }], passwordForm: false })],
    ['verify-email', verifyPage(ctx, { ...verifyBase, method: 'email', destination: `a***@${v}`, sent: true })],
    ['verify-sms-fallback', verifyPage(ctx, { ...verifyBase, method: 'sms', destination: `b***@${v}`, sent: true, fellBack: true, error: 'invalid_code', attemptsLeft: 2 })],
    ['verify-totp', verifyPage(ctx, { ...verifyBase, method: 'totp', trustDays: 30 })],
    ['verify-recovery', verifyPage(ctx, { ...verifyBase, method: 'recovery_code', error: 'rate_limited', retryAfter: 30 })],
    ['verify-webauthn', verifyPage(ctx, { ...verifyBase, method: 'webauthn', webauthnOptions: `{"challenge":"${v}"}` })],
    ['verify-locked', verifyPage(ctx, { ...verifyBase, method: 'email', destination: v, error: 'locked' })],
    ['verify-resent', verifyPage(ctx, { ...verifyBase, method: 'email', destination: v, notice: 'resent', sentTo: `b***@${v}`, resendIn: 28 })],
    ['verify-cooldown', verifyPage(ctx, { ...verifyBase, method: 'sms', destination: v, notice: 'cooldown', resendIn: 12 })],
    ['verify-last-attempt', verifyPage(ctx, { ...verifyBase, method: 'email', destination: v, error: 'invalid_code', attemptsLeft: 0, limit: 'code' })],
    ['enroll-totp', enrollTotpPage(ctx, { qrSvg: QR_SVG, uri: `otpauth://totp/Portal:${encodeURIComponent(v)}?secret=JBSWY3DPEHPK3PXP&issuer=Portal`, secretBase32: 'JBSWY3DPEHPK3PXPJBSWY3DP', error: 'invalid_code', rd: v })],
    ['enroll-totp-replace', enrollTotpPage(ctx, { qrSvg: QR_SVG, uri: `otpauth://totp/Portal:${encodeURIComponent(v)}?secret=JBSWY3DPEHPK3PXP&issuer=Portal`, secretBase32: 'JBSWY3DPEHPK3PXPJBSWY3DP', rd: v, replaces: true, cancel: `/${v}` })],
    ['enroll-totp-passwordless', enrollTotpPage(ctx, { qrSvg: QR_SVG, uri: `otpauth://totp/Portal:${encodeURIComponent(v)}?secret=JBSWY3DPEHPK3PXP&issuer=Portal`, secretBase32: 'JBSWY3DPEHPK3PXPJBSWY3DP', rd: v, passwordless: true })],
    ['enroll-sms-enter', enrollDestinationPage(ctx, { kind: 'sms', step: 'enter', rd: v })],
    ['enroll-email-confirm', enrollDestinationPage(ctx, { kind: 'email', step: 'confirm', destination: v, rd: v, error: 'invalid_code' })],
    ['enroll-choice', enrollChoicePage(ctx, { methods: ['totp', 'email', 'sms', 'webauthn'], rd: `/${v}`, required: true })],
    ['enroll-choice-optional', enrollChoicePage(ctx, { methods: ['totp', 'email'], rd: `/${v}`, required: false })],
    ['enroll-webauthn', enrollWebauthnPage(ctx, { rd: v, creationOptions: `{"challenge":"${v}"}`, error: 'failed' })],
    ['enroll-webauthn-unavailable', enrollWebauthnPage(ctx, { rd: v })],
    ['recovery-codes', recoveryCodesPage(ctx, { codes: ['abcd-efgh', v] })],
    ['recovery-codes-replaced', recoveryCodesPage(ctx, { codes: ['abcd-efgh', v], replaced: true })],
    ['recovery-codes-confirm', recoveryCodesConfirmPage(ctx, { remaining: 7, cancel: `/${v}` })],
    ['sign-out', signOutPage(ctx, { everywhere: false, cancel: `/${v}` })],
    ['sign-out-everywhere', signOutPage(ctx, { everywhere: true, cancel: `/${v}` })],
    ['error-502', errorPage(ctx, { status: 502, requestId: v, home: '/', retry: `/${v}` })],
    ['outbox', outboxPage(ctx, { messages: [{ channel: 'email', to: `a@${v}`, subject: v, text: v, code: v, at: '2026-01-02T03:04:05Z' }, { channel: 'sms', to: '+4915112345678', text: v, at: v }] })],
    [
      'account',
      accountPage(ctx, {
        user: { name: v, username: v, email: `${v}@example.com`, groups: [v, 'operators'] },
        methods: [
          { type: 'totp', label: v, removable: true, id: `m-${v}` },
          { type: 'email', label: `a***@${v}`, removable: false },
          { type: 'recovery_code', label: '7 / 10', removable: false },
        ],
        devices: [{ id: `d-${v}`, name: v, ip: v, lastUsedAt: '2026-01-02T03:04:05Z', current: true }],
        sessions: [
          { id: `s-${v}`, ip: v, userAgent: v, createdAt: v, current: false, lastSeenAt: v, method: v, app: true },
          { id: 's2', ip: '10.0.0.1', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0', createdAt: '2026-01-01T00:00:00Z', current: true },
        ],
        canOptOut: true,
        canOptIn: false,
        notice: v,
      }),
    ],
    ['recover-request', recoverPage(ctx, { step: 'request', username: v })],
    ['recover-sent', recoverPage(ctx, { step: 'sent' })],
    ['recover-reset', recoverPage(ctx, { step: 'reset', token: v })],
    ['invite', invitePage(ctx, { token: v, username: v, error: 'mismatch' })],
    ['report-confirm', reportPage(ctx, { step: 'confirm', token: v })],
    ['report-csrf', reportPage(ctx, { step: 'csrf', token: v })],
    ['report-done', reportPage(ctx, { step: 'done', token: v })],
    ['report-gone', reportPage(ctx, { step: 'gone', token: v })],
    ['message', messagePage(ctx, { title: v, message: v, status: 403, link: { href: `/${v}`, label: v } })],
  ];
}

export interface FormInfo {
  attrs: string;
  method: string;
  action: string | undefined;
  inner: string;
  names: string[];
}

/** The forms of a page (forms never nest in our markup). */
export function forms(page: string): FormInfo[] {
  const out: FormInfo[] = [];
  for (const m of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attrs = m[1] ?? '';
    const inner = m[2] ?? '';
    out.push({
      attrs,
      method: /\smethod="([^"]*)"/.exec(attrs)?.[1] ?? 'get',
      action: /\saction="([^"]*)"/.exec(attrs)?.[1],
      inner,
      names: [...inner.matchAll(/\sname="([^"]*)"/g)].map((x) => x[1] as string),
    });
  }
  return out;
}

export function field(form: FormInfo, name: string): string | undefined {
  return new RegExp(`<(?:input|select|textarea|button)\\b[^>]*\\sname="${name}"[^>]*>`).exec(form.inner)?.[0];
}

export function valueOf(form: FormInfo, name: string): string | undefined {
  const tag = field(form, name);
  return tag ? /\svalue="([^"]*)"/.exec(tag)?.[1] : undefined;
}
