import t from 'tap';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { ASSETS, ASSET_CACHE_CONTROL, assetUrl, serveAsset } from '../../src/portal/static/assets.js';

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
    // The SVG namespace name is an identifier, never fetched.
    t.notMatch(text.replace('xmlns="http://www.w3.org/2000/svg"', ''), /https?:\/\//i, name);
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
