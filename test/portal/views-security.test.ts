import t from 'tap';
import { SUPPORTED_LANGUAGES } from '../../src/portal/i18n/index.js';
import { escapeHtml, html, raw, safeHref } from '../../src/portal/views/html.js';
import { PORTAL_CSP, PORTAL_SECURITY_HEADERS } from '../../src/portal/views/index.js';
import { context, forms, renderAll } from './views-fixtures.js';

const HOSTILE = `"><img src=x onerror=alert(1)><script>alert('x')</script>'\`&`;

void t.test('html helper escapes by default, raw() and nested fragments pass through', (t) => {
  t.equal(escapeHtml(`<a href="x">'&\``), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#96;');
  t.equal(html`<p>${'<b>'}</p>`.value, '<p>&lt;b&gt;</p>');
  t.equal(html`<p>${raw('<b>ok</b>')}</p>`.value, '<p><b>ok</b></p>');
  t.equal(html`<ul>${['<a>', html`<li>${'&'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&amp;</li></ul>');
  t.equal(html`${null}${undefined}${false}${true}${0}`.value, '0');
  t.equal(String(html`x`), 'x');
  t.end();
});

void t.test('safeHref keeps same-site paths and http(s) URLs only', (t) => {
  t.equal(safeHref('/app?x=1'), '/app?x=1');
  t.equal(safeHref('https://vms.example.com/x'), 'https://vms.example.com/x');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', '//evil.example', '/\\evil.example', 'data:text/html,x', 'vbscript:x', '', undefined, 'relative'])
    t.equal(safeHref(bad), '#', String(bad));
  t.end();
});

void t.test('every POST form on every page carries a csrf field', (t) => {
  for (const lang of SUPPORTED_LANGUAGES) {
    for (const [name, page] of renderAll(context(lang))) {
      const all = forms(page);
      for (const f of all) {
        t.equal(f.method, 'post', `${lang}/${name}: forms post`);
        t.ok(f.names.includes('csrf'), `${lang}/${name}: form ${f.action ?? '(current URL)'} has csrf`);
      }
      t.equal((page.match(/<form\b/g) ?? []).length, all.length, `${lang}/${name}: all forms parsed`);
    }
  }
  t.end();
});

void t.test('the csrf token is escaped too', (t) => {
  for (const [name, page] of renderAll(context('en', { csrf: HOSTILE }))) {
    t.notOk(page.includes(HOSTILE), name);
    t.notMatch(page, /<img/, name);
  }
  t.end();
});

void t.test('hostile values are escaped everywhere, in text and attributes', (t) => {
  const ctx = context('en', { productTitle: HOSTILE, user: { name: HOSTILE } });
  for (const [name, page] of renderAll(ctx, HOSTILE)) {
    t.notMatch(page, /<img/, `${name}: no injected element`);
    t.notMatch(page, /<script>/, `${name}: no inline script`);
    // Every attribute value is well formed: no raw quote can close one early, and with the quoted
    // values removed no tag has an event handler attribute.
    const tags = page.match(/<[a-z][^>]*>/gi) ?? [];
    for (const tag of tags) {
      t.notMatch(tag, /="[^"]*"[^\s>/]/, `${name}: attribute not broken out of in ${tag.slice(0, 60)}`);
      t.notMatch(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+=/i, `${name}: no handler attribute in ${tag.slice(0, 60)}`);
    }
    t.match(page, /&lt;script&gt;alert\(&#39;x&#39;\)&lt;\/script&gt;/, `${name}: shown as text`);
  }
  t.end();
});

void t.test('no external URL in any page, except the otpauth URI (its text, and the "Open in authenticator app" link)', (t) => {
  for (const lang of SUPPORTED_LANGUAGES) {
    for (const [name, page] of renderAll(context(lang))) {
      t.notMatch(page, /https?:\/\//i, `${lang}/${name}`);
      t.notMatch(page, /\ssrc="(?!\/_gateway\/static\/)/, `${lang}/${name}: src only from the portal`);
      t.notMatch(page, /\shref="(?!\/|#|otpauth:\/\/totp\/)/, `${lang}/${name}: links are same-site (or the otpauth:// set-up link)`);
    }
  }
  t.end();
});

void t.test('CSP: same-origin scripts and styles, no inline, no framing', (t) => {
  t.match(PORTAL_CSP, /default-src 'none'/);
  t.match(PORTAL_CSP, /script-src 'self'(;|$)/);
  t.match(PORTAL_CSP, /style-src 'self'(;|$)/);
  t.match(PORTAL_CSP, /frame-ancestors 'none'/);
  t.match(PORTAL_CSP, /base-uri 'none'/);
  t.match(PORTAL_CSP, /object-src 'none'/);
  t.notMatch(PORTAL_CSP, /unsafe-inline|unsafe-eval|\*/);
  t.equal(PORTAL_SECURITY_HEADERS['Content-Security-Policy'], PORTAL_CSP);
  t.equal(PORTAL_SECURITY_HEADERS['X-Frame-Options'], 'DENY');
  for (const [name, page] of renderAll(context())) {
    t.notMatch(page, /<script(?![^>]*\ssrc=)/, `${name}: no inline script`);
    t.notMatch(page, /\sstyle=|<style/, `${name}: no inline style`);
    for (const tag of page.match(/<[a-z][^>]*>/gi) ?? []) t.notMatch(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+=/i, `${name}: no event handler attributes`);
  }
  t.end();
});

void t.test('pages are accessible: every visible input has a label, one h1, lang set', (t) => {
  for (const lang of SUPPORTED_LANGUAGES) {
    for (const [name, page] of renderAll(context(lang))) {
      t.equal((page.match(/<h1\b/g) ?? []).length, 1, `${lang}/${name}: one h1`);
      t.match(page, new RegExp(`<html lang="${lang}"`));
      for (const input of page.match(/<input\b[^>]*>/g) ?? []) {
        if (/type="hidden"/.test(input)) continue;
        const id = /\sid="([^"]+)"/.exec(input)?.[1];
        t.ok(id, `${lang}/${name}: input has an id: ${input.slice(0, 60)}`);
        t.match(page, new RegExp(`<label for="${id}">`), `${lang}/${name}: label for ${id}`);
      }
      const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      t.equal(new Set(ids).size, ids.length, `${lang}/${name}: ids are unique`);
    }
  }
  t.end();
});
