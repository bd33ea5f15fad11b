import { escapeHtml } from '../util/html.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGS, resolveLanguage, type Catalog, type ChangeKind, type Language, type MessageKind, type MethodName } from './i18n/index.js';

export { escapeHtml };
export { MESSAGE_KINDS, LANGUAGES, resolveLanguage, type MessageKind, type Language } from './i18n/index.js';

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
  /** Short text for SMS (the code kinds have their own; others use the subject). */
  sms: string;
}

/**
 * Variables each kind reads (others are ignored; a missing one renders empty). Every kind also reads
 * `title` (the product title) and `name` (the greeting; no greeting when empty). `minutes` becomes
 * `lifetime`, a localised phrase ("5 minutes", "7 Tage", "24 часа"), unless `lifetime` is given. A
 * `method` that is a method's internal name (`totp`, `recovery_code`, ...) becomes its localised name,
 * and factor_changed's `change` (`added`, `removed`, `disabled`, `reset`; default `added`) becomes
 * `what`, the sentence that says what happened; its `item` (a passkey's name) follows the method's name.
 */
export const KIND_VARS: Readonly<Record<MessageKind, readonly string[]>> = {
  code: ['code', 'minutes'],
  verify_destination: ['code', 'minutes', 'destination'],
  locked: ['time', 'ip', 'device'],
  new_device: ['device', 'ip', 'time', 'report_link'],
  factor_changed: ['method', 'change', 'item', 'time', 'report_link'],
  recovery_code_used: ['remaining', 'time'],
  new_recovery_codes: ['time'],
  invite: ['link', 'minutes'],
  recovery_link: ['link', 'minutes'],
  operator_report: ['user', 'ip', 'time'],
};

const MAX_TEMPLATE_BYTES = 64 * 1024;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** `[[ ... ]]`: an optional segment, dropped when any placeholder inside it is empty. */
const OPTIONAL = /\[\[([\s\S]*?)\]\]/g;

/**
 * Renders one message in `lang` (unknown → en). Operator files in `overrides.dir` win over the
 * built-in text: `<kind>.<lang>.<ext>`, else `<kind>.<ext>`, for ext `subject`, `txt`, `html`, `sms`,
 * with `{{var}}` placeholders (HTML-escaped in `.html`) and `[[optional {{var}} segments]]` dropped
 * when a variable inside is empty. An overridden `.txt` without an `.html` also
 * gives the HTML body.
 */
export function render(kind: MessageKind, lang: string, vars: Readonly<Record<string, string>>, overrides?: { dir?: string | undefined }): RenderedMessage {
  const language = resolveLanguage(lang);
  const catalog = CATALOGS[language];
  const message = catalog.messages[kind];
  if (message === undefined) throw new TypeError(`unknown message kind '${String(kind)}'`);
  const values = withDerived(vars, catalog, kind);

  const paragraphs = [...(values.name ? [catalog.greeting] : []), ...message.body, catalog.footer];
  const builtIn: RenderedMessage = {
    subject: oneLine(fill(message.subject, values, plain)),
    text: paragraphs.map((p) => textParagraph(p, values)).filter((p) => p !== '').join('\n\n') + '\n',
    html: htmlDocument(language, fill(message.subject, values, escapeHtml), paragraphs.map((p) => htmlParagraph(p, values)).filter((p) => p !== '<p></p>').join('\n')),
    sms: oneLine(fill(message.sms ?? message.subject, values, plain)),
  };
  if (overrides?.dir === undefined) return builtIn;

  const file = (ext: string): string | undefined => readOverride(overrides.dir as string, kind, language, ext);
  const subject = file('subject');
  const text = file('txt');
  const html = file('html');
  const sms = file('sms');
  return {
    subject: subject === undefined ? builtIn.subject : oneLine(fill(subject, values, plain)),
    text: text === undefined ? builtIn.text : fill(text, values, plain),
    html:
      html !== undefined
        ? fill(html, values, escapeHtml)
        : text !== undefined
          ? htmlDocument(language, escapeHtml(subject === undefined ? builtIn.subject : oneLine(fill(subject, values, plain))), textToHtml(fill(text, values, plain)))
          : builtIn.html,
    sms: sms === undefined ? builtIn.sms : oneLine(fill(sms, values, plain)),
  };
}


/** "5 minutes", "2 Stunden", "7 дней": whole days or hours when `minutes` divides evenly. */
export function formatLifetime(minutes: number, lang: string): string {
  return lifetimePhrase(minutes, CATALOGS[resolveLanguage(lang)]);
}

function lifetimePhrase(minutes: number, catalog: Catalog): string {
  const m = Math.max(1, Math.floor(minutes));
  const [n, unit] = m % 1440 === 0 ? [m / 1440, 'day' as const] : m % 60 === 0 ? [m / 60, 'hour' as const] : [m, 'minute' as const];
  const forms = catalog.units[unit];
  const category = new Intl.PluralRules(catalog.lang).select(n);
  return `${n} ${forms[category] ?? forms.other}`;
}

function withDerived(vars: Readonly<Record<string, string>>, catalog: Catalog, kind: MessageKind): Record<string, string> {
  const values: Record<string, string> = { title: 'Portcullis', ...vars };
  for (const key of Object.keys(values)) values[key] = String(values[key] ?? '');
  // Internal method names never reach the reader.
  if (values.method && Object.hasOwn(catalog.methods, values.method)) values.method = catalog.methods[values.method as MethodName];
  if (kind === 'factor_changed' && values.method && values.item) values.method = `${values.method} (${values.item})`;
  if (kind === 'factor_changed' && !values.what) {
    const change = values.change && Object.hasOwn(catalog.changes, values.change) ? (values.change as ChangeKind) : 'added';
    // `disabled` and `reset` need no method; `added`/`removed` only say something with one.
    const needsMethod = change === 'added' || change === 'removed';
    values.what = needsMethod && !values.method ? '' : fill(catalog.changes[change], { method: values.method ?? '' }, plain);
  }
  if (!values.lifetime && values.minutes !== undefined) {
    const minutes = Number(values.minutes);
    if (Number.isFinite(minutes) && minutes > 0) values.lifetime = lifetimePhrase(minutes, catalog);
  }
  return values;
}

function fill(template: string, values: Readonly<Record<string, string>>, encode: (v: string) => string): string {
  const value = (name: string): string => (Object.hasOwn(values, name) ? (values[name] as string) : '');
  // Optional segments are resolved on the template alone, then one pass fills the placeholders: a value
  // that itself contains `{{x}}` or `[[` is never expanded.
  const kept = template.replace(OPTIONAL, (_, inner: string) => {
    const names = [...inner.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
    return names.every((n) => value(n) !== '') ? inner : '';
  });
  return kept.replace(PLACEHOLDER, (_, name: string) => encode(value(name)));
}

function plain(value: string): string {
  return value;
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

function textParagraph(paragraph: string, values: Readonly<Record<string, string>>): string {
  if (paragraph === '{{code}}') return `    ${values.code ?? ''}`;
  return fill(paragraph, values, plain);
}

function htmlParagraph(paragraph: string, values: Readonly<Record<string, string>>): string {
  if (paragraph === '{{code}}') {
    return `<p class="portcullis-code" style="font-family:monospace;font-size:28px;font-weight:bold;letter-spacing:4px;margin:24px 0">${escapeHtml(values.code ?? '')}</p>`;
  }
  if (paragraph === '{{link}}') {
    const link = values.link ?? '';
    const safe = /^https?:\/\//i.test(link);
    return safe
      ? `<p style="margin:24px 0"><a class="portcullis-link" href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`
      : `<p>${escapeHtml(link)}</p>`;
  }
  if (paragraph.includes('{{report_link}}') && /^https?:\/\//i.test(values.report_link ?? '')) {
    // The "this wasn't me" link inside its sentence: an anchor, the rest escaped.
    const marker = '\u0000report-link\u0000';
    const anchor = `<a class="portcullis-report-link" href="${escapeHtml(values.report_link ?? '')}">${escapeHtml(values.report_link ?? '')}</a>`;
    return `<p>${fill(paragraph, { ...values, report_link: marker }, escapeHtml).replace(marker, anchor)}</p>`;
  }
  return `<p>${fill(paragraph, values, escapeHtml)}</p>`;
}

function textToHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .filter((p) => p.trim() !== '')
    .map((p) => `<p>${escapeHtml(p.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

function htmlDocument(lang: Language, escapedSubject: string, body: string): string {
  return [
    '<!doctype html>',
    `<html lang="${lang}" dir="ltr">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapedSubject}</title></head>`,
    '<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;max-width:560px;margin:0 auto;padding:24px">',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function readOverride(dir: string, kind: MessageKind, lang: Language, ext: string): string | undefined {
  // kind and lang come from fixed lists, so these names cannot leave `dir`.
  for (const name of [`${kind}.${lang}.${ext}`, `${kind}.${ext}`]) {
    let content: Buffer;
    try {
      content = readFileSync(join(dir, name));
    } catch {
      continue;
    }
    if (content.length > MAX_TEMPLATE_BYTES) continue;
    return content.toString('utf8');
  }
  return undefined;
}
