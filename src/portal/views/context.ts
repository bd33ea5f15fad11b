import type { Translator } from '../i18n/types.js';

/** What every view needs besides its own model. */
export interface ViewContext {
  lang: string;
  t: Translator;
  /** `server.portal_prefix`, e.g. `/_gateway` (no trailing slash). */
  prefix: string;
  /** `portal.title`. */
  productTitle: string;
  /** The CSRF token for this page's forms (in-session token, or the pre-session login token). */
  csrf?: string;
  /** The signed-in user, when there is one (shows the account link in the header). */
  user?: { name: string };
  /** `portal.branding`: logo, accent stylesheet and help link (the name is `productTitle`). */
  brand?: BrandView;
}

/** What the views show of `portal.branding`: the name, and where the logo, the accent stylesheet and the help page are. */
export interface BrandView {
  name: string;
  logoUrl?: string;
  cssUrl?: string;
  helpUrl?: string;
}
