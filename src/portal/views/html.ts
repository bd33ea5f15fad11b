import { escapeHtml } from '../../util/html.js';

export { escapeHtml };
/**
 * Escape-by-default HTML templating. `html\`...\`` escapes every interpolated value unless it is an
 * `Html` fragment (made by `html` itself or by `raw()` for trusted markup such as the QR code SVG).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

/** Mark trusted markup as safe. Never pass user input here. */
export function raw(markup: string): Html {
  return new Html(markup);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false || value === true) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Join fragments (arrays are already accepted by `html`; this is for readability). */
export function join(parts: readonly HtmlValue[]): Html {
  return new Html(parts.map(render).join(''));
}

/**
 * A link target that cannot run script: a same-site path (`/x`, not `//x` or `/\x`) or an http(s)
 * URL; anything else becomes `#`.
 */
export function safeHref(url: string | undefined): string {
  if (!url) return '#';
  if (/^\/(?![/\\])/.test(url)) return url;
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
  } catch {
    // fall through
  }
  return '#';
}
