import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { configSchema } from '../../src/config/schema/index.js';
import { createErrorPages } from '../../src/portal/error-pages.js';
import { SUPPORTED_LANGUAGES, translator } from '../../src/portal/i18n/index.js';
import { PORTAL_CSP } from '../../src/portal/views/csp.js';

const STATUSES = [400, 403, 404, 405, 429, 500, 502, 503, 504] as const;
const config = configSchema.parse({ session: { secret: 's'.repeat(40) }, upstreams: [{ name: 'app', url: 'http://127.0.0.1:9' }] });
const pages = createErrorPages(config, { name: 'Acme VMS' });

function req(lang: string, url = '/cams', method = 'GET'): IncomingMessage {
  return { headers: { 'accept-language': lang, accept: 'text/html' }, url, method } as unknown as IncomingMessage;
}

void t.test('every error status has its own words in every language, the request id and the portal CSP', (t) => {
  for (const lang of SUPPORTED_LANGUAGES) {
    const tr = translator(lang);
    for (const status of STATUSES) {
      const { html, headers } = pages(req(lang), { status, code: 'x', message: 'English message', requestId: 'req-123' });
      const label = `${lang}/${status}`;
      t.match(html, new RegExp(`<html lang="${lang}"`), `${label}: lang`);
      t.ok(html.includes(tr.t(`errorpage.${status}.title`)), `${label}: title`);
      t.ok(html.includes(`<code>req-123</code>`), `${label}: request id`);
      t.notMatch(html, /English message/, `${label}: never the English wire message`);
      t.match(html, /<title>[^<]+ · Acme VMS<\/title>/, `${label}: the product name`);
      t.equal(headers['Content-Security-Policy'], PORTAL_CSP);
    }
  }
  t.end();
});

void t.test('temporary failures of a GET offer to try the same page again; others lead to the start page', (t) => {
  const e = (status: number, r: IncomingMessage) => pages(r, { status, code: 'x', message: 'm', requestId: 'r' }).html;
  t.match(e(502, req('en', '/cams/1?x=1&y=2')), /href="\/cams\/1\?x=1&amp;y=2">Try again</);
  t.match(e(503, req('en')), /Try again/);
  t.match(e(404, req('en')), /href="\/">Go to the start page</);
  t.match(e(502, req('en', '/x', 'POST')), /Go to the start page/, 'a POST is not repeated by a link');
  t.match(e(502, req('en', '//evil.example/x')), /href="\/">Go to the start page</, 'never a link off the site');
  t.match(e(418, req('en')), /Something went wrong/, 'an unlisted status gets the generic words');
  t.match(e(404, req('xx-YY')), /<html lang="en"/, 'an unknown language: the first configured');
  t.end();
});
