import t from 'tap';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { ASSETS, ASSET_CACHE_CONTROL, assetUrl, serveAsset } from '../../src/portal/static/assets.js';
import { enrollWebauthnPage } from '../../src/portal/views/enroll.js';
import { verifyPage } from '../../src/portal/views/verify.js';
import { context } from './views-fixtures.js';

void t.test('portal.css and portal.js are served with types and content-hash ETags', (t) => {
  const css = serveAsset('portal.css');
  const js = serveAsset('portal.js');
  t.ok(css && js);
  t.equal(css!.type, 'text/css; charset=utf-8');
  t.equal(js!.type, 'text/javascript; charset=utf-8');
  for (const a of [css!, js!]) {
    t.match(a.etag, /^"[\w-]{20,}"$/);
    const hash = createHash('sha256').update(a.body).digest('base64url');
    t.equal(a.etag, `"${hash.slice(0, 27)}"`, 'ETag from the content');
    t.ok(a.body.length > 500);
  }
  t.not(css!.etag, js!.etag);
  t.match(ASSET_CACHE_CONTROL, /immutable/);
  t.end();
});

void t.test('the favicon is an SVG', (t) => {
  const icon = serveAsset('favicon.svg');
  t.equal(icon?.type, 'image/svg+xml');
  t.match(icon!.body.toString(), /^<svg /);
  t.notMatch(icon!.body.toString(), /<script|\son[a-z]+=/i);
  t.end();
});

void t.test('unknown and tricky names are not served', (t) => {
  for (const name of ['nope.css', '../portal.css', 'toString', '__proto__', 'constructor', '', 'PORTAL.CSS']) t.equal(serveAsset(name), undefined, name);
  t.end();
});

void t.test('asset URLs carry the version', (t) => {
  t.equal(assetUrl('/_gateway', 'portal.css'), `/_gateway/static/portal.css?v=${serveAsset('portal.css')!.version}`);
  t.equal(assetUrl('/p', 'nope.js'), '/p/static/nope.js');
  t.end();
});

void t.test('assets use no external resource', (t) => {
  for (const [name, a] of Object.entries(ASSETS)) {
    const text = a.body.toString('utf8');
    // The SVG namespace name is an identifier, never fetched; @simplewebauthn/browser names its docs in an
    // error message (text, never fetched).
    t.notMatch(text.replace('xmlns="http://www.w3.org/2000/svg"', '').replace(/https:\/\/simplewebauthn\.dev\/docs\/[\w/#-]*/g, ''), /https?:\/\//i, name);
    t.notMatch(text, /\bfetch\(|XMLHttpRequest|importScripts|\bimport\(/, `${name}: loads nothing`);
    if (name.endsWith('.css')) t.notMatch(text, /@import|url\(/i, `${name}: no imports or url()`);
  }
  t.end();
});

void t.test('the stylesheet: system fonts, light and dark', (t) => {
  const css = serveAsset('portal.css')!.body.toString();
  t.match(css, /system-ui/);
  t.match(css, /@media \(prefers-color-scheme: dark\)/);
  t.notMatch(css, /@font-face/);
  t.end();
});

void t.test('the script only enhances: no eval, no network, parses', (t) => {
  const js = serveAsset('portal.js')!.body.toString();
  t.notMatch(js, /\beval\(|new Function|fetch\(|XMLHttpRequest|innerHTML|document\.write/);
  t.doesNotThrow(() => new Script(js), 'valid JavaScript (compiled, not run)');
  t.end();
});

void t.test('webauthn.js is @simplewebauthn/browser’s own bundle, and only passkey pages load it', (t) => {
  const lib = serveAsset('webauthn.js');
  t.equal(lib?.type, 'text/javascript; charset=utf-8');
  t.match(lib!.body.toString('utf8', 0, 80), /@simplewebauthn\/browser@13\./, 'the library, at the version installed');
  t.doesNotThrow(() => new Script(lib!.body.toString()), 'parses as a script');
  t.match(lib!.body.toString(), /startAuthentication/);
  const ctx = context();
  const methods = [{ type: 'webauthn' as const }, { type: 'email' as const, destination: 'a***@example.com' }];
  const base = { rd: '/', methods, rememberDevice: false, codeLength: 6, codeCharset: 'digits' as const };
  const passkeyStep = verifyPage(ctx, { ...base, method: 'webauthn', webauthnOptions: '{"challenge":"c"}' });
  t.match(passkeyStep, /<script src="\/_gateway\/static\/webauthn\.js\?v=[\w-]+" defer><\/script>\s*<script src="\/_gateway\/static\/portal\.js/, 'the library before portal.js');
  t.notMatch(verifyPage(ctx, { ...base, method: 'email', destination: 'a***@example.com', sent: true }), /webauthn\.js/, 'a code step does not load it');
  t.match(enrollWebauthnPage(ctx, { rd: '/', creationOptions: '{"challenge":"c"}' }), /webauthn\.js/, 'the enrolment page loads it');
  t.notMatch(enrollWebauthnPage(ctx, { rd: '/' }), /webauthn\.js/, 'not when passkeys are unavailable');
  t.end();
});
