import type { MessageKey, MessageVars } from '../i18n/types.js';
import type { ViewContext } from './context.js';
import { Html, html, escapeHtml, type HtmlValue } from './html.js';

/** The hidden CSRF field every POST form carries. */
export function csrfField(ctx: ViewContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf ?? ''}">`;
}

export function hidden(name: string, value: string | number | undefined): Html {
  return html`<input type="hidden" name="${name}" value="${value ?? ''}">`;
}

/**
 * A POST form with the CSRF field (and `rd` when given). `extra` goes on the form element's class.
 */
export function postForm(
  ctx: ViewContext,
  action: string,
  content: HtmlValue,
  opts: { rd?: string | undefined; className?: string; attrs?: Html } = {},
): Html {
  return html`<form method="post" action="${action}"${opts.className ? html` class="${opts.className}"` : ''}${opts.attrs ?? ''}>${csrfField(ctx)}${opts.rd !== undefined ? hidden('rd', opts.rd) : ''}${content}</form>`;
}

export type AlertKind = 'error' | 'warning' | 'info' | 'success';

export function alert(kind: AlertKind, content: HtmlValue): Html {
  const role = kind === 'error' ? 'alert' : 'status';
  return html`<div class="alert alert--${kind}" role="${role}">${content}</div>`;
}

/**
 * Translate with rich variables: the message text and string variables are escaped; `Html`
 * variables (e.g. `<strong>` around a masked address) are inserted as they are.
 */
export function tf(ctx: ViewContext, key: MessageKey, vars: Record<string, string | number | Html>): Html {
  const plain: MessageVars = {};
  const fragments: Html[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (value instanceof Html) {
      plain[name] = `\uE000${fragments.length}\uE000`;
      fragments.push(value);
    } else plain[name] = value;
  }
  const text = escapeHtml(ctx.t.t(key, plain));
  return new Html(text.replace(/\uE000(\d+)\uE000/g, (_m, i: string) => fragments[Number(i)]?.value ?? ''));
}

/** "5 minutes" / "30 seconds" in the page language (rounded up, never 0). */
export function formatWait(ctx: ViewContext, seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return ctx.t.t('wait.seconds', { count: s });
  const m = Math.ceil(s / 60);
  if (m < 120) return ctx.t.t('wait.minutes', { count: m });
  return ctx.t.t('wait.hours', { count: Math.ceil(m / 60) });
}

/** A date string shown in the page language, as a <time> element (UTC); unparseable text shown as is. */
export function timeEl(ctx: ViewContext, value: string): Html {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return html`<span>${value}</span>`;
  let text: string;
  try {
    text = new Intl.DateTimeFormat(ctx.lang, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'UTC',
      timeZoneName: 'short',
    }).format(ms);
  } catch {
    text = new Date(ms).toISOString();
  }
  return html`<time datetime="${new Date(ms).toISOString()}">${text}</time>`;
}

/** Page heading with an optional lead paragraph. */
export function pageHead(title: string, lead?: HtmlValue): Html {
  return html`<h1 class="title">${title}</h1>${lead ? html`<p class="lead">${lead}</p>` : ''}`;
}

/** "a 6-digit code" / "an 8-character code" in the page language. */
export function codePhrase(ctx: ViewContext, length: number, charset: string): string {
  return ctx.t.t(charset === 'digits' ? 'code.digits' : 'code.characters', { count: length });
}
