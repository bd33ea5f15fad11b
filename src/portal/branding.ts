import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { productName, type portalSchema } from '../config/schema/misc.js';
import type { z } from 'zod';
import { asset, type Asset } from './static/assets.js';
import type { BrandView } from './views/context.js';

export type { BrandView } from './views/context.js';

type PortalConfig = z.infer<typeof portalSchema>;

/** The largest logo file accepted. */
export const MAX_LOGO_BYTES = 256 * 1024;

const LOGO_TYPES: Readonly<Record<string, string>> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};


/** `portal.branding`, compiled once per config: the view's part and the assets it links. */
export interface Branding {
  view: (prefix: string) => BrandView;
  /** Served under `${portal_prefix}/static/<name>` next to the portal's own assets. */
  assets: ReadonlyMap<string, Asset>;
}

function hex(n: number): string {
  return Math.round(Math.max(0, Math.min(255, n)))
    .toString(16)
    .padStart(2, '0');
}

/** `#rrggbb` mixed with `other` (0..1 of it). */
function mix(color: string, other: [number, number, number], amount: number): string {
  const c = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  return `#${c.map((v, i) => hex(v + (other[i]! - v) * amount)).join('')}`;
}

/** WCAG relative luminance of `#rrggbb`. */
function luminance(color: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(color.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The accent colour as custom properties over portal.css: buttons, links and focus rings in light mode,
 * a lighter shade on dark backgrounds; the text on accent buttons is white or near-black, whichever
 * reads better (WCAG contrast).
 */
export function accentCss(color: string): string {
  const accent = color.toLowerCase();
  const onAccent = (1.05 / (luminance(accent) + 0.05) >= (luminance(accent) + 0.05) / 0.05) ? '#ffffff' : '#0b1422';
  const dark = mix(accent, [255, 255, 255], 0.35);
  return `:root {
  --accent: ${accent};
  --accent-hover: ${mix(accent, [0, 0, 0], 0.18)};
  --accent-text: ${onAccent};
  --accent-soft: ${mix(accent, [255, 255, 255], 0.9)};
  --focus: ${accent};
}
@media (prefers-color-scheme: dark) {
  :root {
    --accent: ${dark};
    --accent-hover: ${mix(dark, [255, 255, 255], 0.2)};
    --accent-text: #0b1422;
    --accent-soft: ${mix(accent, [23, 28, 36], 0.78)};
    --focus: ${dark};
  }
}
`;
}

/**
 * Reads and checks the branding of `portal` (the logo file is read here, once per config load; a
 * missing, unreadable or oversized file is an error with the key's name).
 */
export function compileBranding(portal: PortalConfig, read: (path: string) => Buffer = readFileSync): Branding {
  const b = portal.branding;
  const assets = new Map<string, Asset>();
  let logoName: string | undefined;
  if (b.logo_file) {
    const ext = extname(b.logo_file).toLowerCase();
    const type = LOGO_TYPES[ext];
    if (!type) throw new Error(`portal.branding.logo_file: '${b.logo_file}' must be an .svg, .png, .jpg or .webp file`);
    let body: Buffer;
    try {
      body = read(b.logo_file);
    } catch (err) {
      throw new Error(`portal.branding.logo_file: cannot read '${b.logo_file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (body.length > MAX_LOGO_BYTES) throw new Error(`portal.branding.logo_file: '${b.logo_file}' is ${body.length} bytes; at most ${MAX_LOGO_BYTES} are accepted`);
    logoName = `brand-logo${ext === '.jpeg' ? '.jpg' : ext}`;
    assets.set(logoName, asset(type, body));
  }
  if (b.accent_color) assets.set('brand.css', asset('text/css; charset=utf-8', accentCss(b.accent_color)));
  const name = productName(portal);
  const url = (prefix: string, file: string) => `${prefix}/static/${file}?v=${assets.get(file)!.version}`;
  return {
    assets,
    view: (prefix) => ({
      name,
      ...(logoName ? { logoUrl: url(prefix, logoName) } : {}),
      ...(assets.has('brand.css') ? { cssUrl: url(prefix, 'brand.css') } : {}),
      ...(b.help_url ? { helpUrl: b.help_url } : {}),
    }),
  };
}
