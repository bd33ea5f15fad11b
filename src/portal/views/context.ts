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
}
