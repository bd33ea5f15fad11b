import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/schema/index.js';
import type { ErrorPages } from '../http/respond.js';
import { negotiateLanguage } from '../http/language.js';
import { translator } from './i18n/index.js';
import type { BrandView, ViewContext } from './views/context.js';
import { PORTAL_SECURITY_HEADERS } from './views/csp.js';
import { errorPage } from './views/pages.js';

/** Temporary failures: trying the same page again may work. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * The gateway's error pages (400, 403, 404, 405, 429, 5xx) in the portal's layout and the visitor's
 * language, with the request id to quote. Built once per config; the gateway hands it to every place
 * that answers with an error (pipeline, proxy, refusals, the portal's own routes).
 */
export function createErrorPages(config: Readonly<Config>, brand: BrandView): ErrorPages {
  const prefix = config.server.portal_prefix;
  const languages = config.portal.languages;
  return (req: IncomingMessage, e) => {
    const header = req.headers['accept-language'];
    const lang = negotiateLanguage(typeof header === 'string' ? header.slice(0, 512) : undefined, languages);
    const ctx: ViewContext = { lang, t: translator(lang), prefix, productTitle: brand.name, brand };
    const url = req.url ?? '';
    const retry = RETRYABLE.has(e.status) && (req.method === 'GET' || req.method === 'HEAD') && url.startsWith('/') && !url.startsWith('//') ? url : undefined;
    const html = errorPage(ctx, { status: e.status, requestId: e.requestId, home: config.portal.default_redirect, ...(retry ? { retry } : {}) });
    return { html, headers: PORTAL_SECURITY_HEADERS };
  };
}
