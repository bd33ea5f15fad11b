import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PORTAL_CSS } from './portal-css.js';
import { PORTAL_JS } from './portal-js.js';

/** A static portal asset, ready to serve under `${portal_prefix}/static/<name>`. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Strong ETag (quoted) from the content hash. */
  readonly etag: string;
  /** Short content hash, used as `?v=` in page links so a changed asset is fetched again. */
  readonly version: string;
}

/** An asset from its content (text or bytes): the ETag and version come from its hash. */
export function asset(type: string, content: string | Buffer): Asset {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const hash = createHash('sha256').update(body).digest('base64url');
  return Object.freeze({ type, body, etag: `"${hash.slice(0, 27)}"`, version: hash.slice(0, 10) });
}

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2 4 5v6c0 5.2 3.4 9.6 8 11 4.6-1.4 8-5.8 8-11V5l-8-3Z" fill="#1f5fbf"/><path d="M8.5 12.2l2.4 2.4 4.6-4.8" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;

/**
 * @simplewebauthn/browser's own browser bundle (UMD: `window.SimpleWebAuthnBrowser`), served from the
 * portal like every asset (no CDN): portal.js runs the passkey ceremonies with it.
 */
function webauthnBrowserBundle(): Buffer {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  return readFileSync(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'));
}

export const ASSETS: Readonly<Record<string, Asset>> = Object.freeze({
  'portal.css': asset('text/css; charset=utf-8', PORTAL_CSS),
  'portal.js': asset('text/javascript; charset=utf-8', PORTAL_JS),
  'webauthn.js': asset('text/javascript; charset=utf-8', webauthnBrowserBundle()),
  'favicon.svg': asset('image/svg+xml', FAVICON_SVG),
});

/** The asset called `name` (e.g. `portal.css`), or undefined. */
export function serveAsset(name: string): Asset | undefined {
  return Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
}

/** Suggested Cache-Control for assets (the page links carry `?v=<hash>`). */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The URL of an asset with its version, for links in pages. */
export function assetUrl(prefix: string, name: string): string {
  const a = serveAsset(name);
  return `${prefix}/static/${name}${a ? `?v=${a.version}` : ''}`;
}
