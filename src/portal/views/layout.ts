import { assetUrl } from '../static/assets.js';
import type { ViewContext } from './context.js';
import { html, safeHref, type Html } from './html.js';

export type { ViewContext } from './context.js';
export { PORTAL_CSP, PORTAL_SECURITY_HEADERS } from './csp.js';

const logoSvg = (className: string): Html => html`<svg class="${className}" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><path d="M12 2 4 5v6c0 5.2 3.4 9.6 8 11 4.6-1.4 8-5.8 8-11V5l-8-3Z" fill="currentColor" opacity=".16"/><path d="M12 2 4 5v6c0 5.2 3.4 9.6 8 11 4.6-1.4 8-5.8 8-11V5l-8-3Z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/><path d="M8.5 12.2l2.4 2.4 4.6-4.8" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export interface LayoutOptions {
  /** Wider column for the account page. */
  wide?: boolean;
  /** A passkey ceremony runs on the page: @simplewebauthn/browser is loaded before portal.js. */
  webauthn?: boolean;
}

/** The product's mark: the configured logo, else the Portcullis shield. */
export function brandMark(ctx: ViewContext, className = 'brand__mark'): Html {
  const logo = ctx.brand?.logoUrl;
  return logo ? html`<img class="${className} brand__logo" src="${logo}" alt="" height="32">` : logoSvg(className);
}

/** The whole HTML document around a page body. */
export function layout(ctx: ViewContext, title: string, body: Html, options: LayoutOptions = {}): string {
  const { t } = ctx;
  const help = ctx.brand?.helpUrl ? html`<a class="topbar__link" href="${safeHref(ctx.brand.helpUrl)}" rel="noopener noreferrer">${t.t('layout.help')}</a>` : '';
  const user = ctx.user
    ? html`<a class="topbar__user" href="${ctx.prefix}/account"><span class="visually-hidden">${t.t('layout.signed_in_as')} </span>${ctx.user.name}</a>`
    : '';
  const nav = help || user ? html`<nav class="topbar__nav" aria-label="${t.t('layout.nav')}">${help}${user}</nav>` : '';
  const doc = html`<!doctype html>
<html lang="${ctx.lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="same-origin">
<title>${title} · ${ctx.productTitle}</title>
<link rel="icon" href="${assetUrl(ctx.prefix, 'favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl(ctx.prefix, 'portal.css')}">
${ctx.brand?.cssUrl ? html`<link rel="stylesheet" href="${ctx.brand.cssUrl}">` : ''}
${options.webauthn ? html`<script src="${assetUrl(ctx.prefix, 'webauthn.js')}" defer></script>
` : ''}<script src="${assetUrl(ctx.prefix, 'portal.js')}" defer></script>
</head>
<body class="${options.wide ? 'page page--wide' : 'page'}">
<a class="skip-link" href="#main">${t.t('layout.skip')}</a>
<header class="topbar"><div class="topbar__inner"><span class="brand">${brandMark(ctx)}<span class="brand__name">${ctx.productTitle}</span></span>${nav}</div></header>
<main id="main" class="main" tabindex="-1">
${body}
</main>
<footer class="footer"><p>${t.t('layout.footer')}</p></footer>
</body>
</html>
`;
  return doc.value;
}
