import { de } from './de.js';
import { en } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { nl } from './nl.js';
import { ru } from './ru.js';
import type { Catalogue, Message, MessageKey, MessageVars, Translator } from './types.js';

export type { Catalogue, Message, MessageKey, MessageVars, Translator } from './types.js';

export const CATALOGUES: Readonly<Record<string, Catalogue>> = { en, de, fr, es, nl, ru };
export const SUPPORTED_LANGUAGES = Object.keys(CATALOGUES) as readonly string[];

function pick(message: Message, lang: string, vars: MessageVars | undefined): string {
  if (typeof message === 'string') return message;
  const count = Number(vars?.['count'] ?? 0);
  const exact = message[`=${count}`];
  if (exact !== undefined) return exact;
  let form: string;
  try {
    form = new Intl.PluralRules(lang).select(count);
  } catch {
    form = count === 1 ? 'one' : 'other';
  }
  return message[form] ?? message.other;
}

function fill(text: string, vars: MessageVars | undefined): string {
  if (!vars) return text;
  return text.replace(/\{([a-z_]+)\}/g, (m, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : m));
}

/** A translator for `lang` (unknown languages get English; missing keys fall back to English). */
export function translator(lang: string): Translator {
  const code = Object.hasOwn(CATALOGUES, lang) ? lang : 'en';
  const catalogue = CATALOGUES[code] as Catalogue;
  return {
    lang: code,
    t(key: MessageKey, vars?: MessageVars): string {
      const message = Object.hasOwn(catalogue, key) ? catalogue[key] : Object.hasOwn(en, key) ? en[key] : undefined;
      if (message === undefined) return key;
      return fill(pick(message, code, vars), vars);
    },
    has(key: string): boolean {
      return Object.hasOwn(en, key);
    },
  };
}

const MAX_ACCEPT_LANGUAGE = 1024;
const MAX_RANGES = 32;

/**
 * The language to show: the `cookieLang` choice when supported, else the best `Accept-Language`
 * match by q-value (exact tag first, then its primary subtag: de-AT → de), else `supported[0]`.
 */
export function negotiateLanguage(acceptLanguage: string | undefined, supported: readonly string[], cookieLang?: string): string {
  const fallback = supported[0] ?? 'en';
  const lookup = new Map(supported.map((s) => [s.toLowerCase(), s]));
  if (cookieLang) {
    const c = lookup.get(cookieLang.trim().toLowerCase());
    if (c) return c;
  }
  if (!acceptLanguage) return fallback;
  const ranges: Array<{ tag: string; q: number; order: number }> = [];
  const parts = acceptLanguage.slice(0, MAX_ACCEPT_LANGUAGE).split(',').slice(0, MAX_RANGES);
  parts.forEach((part, order) => {
    const [rawTag = '', ...params] = part.trim().split(';');
    const tag = rawTag.trim().toLowerCase();
    if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
      else if (/^\s*q\s*=/i.test(p)) q = 0; // malformed q: treat as not acceptable
    }
    if (q > 0) ranges.push({ tag, q, order });
  });
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { tag } of ranges) {
    if (tag === '*') return fallback;
    const exact = lookup.get(tag);
    if (exact) return exact;
    const primary = tag.split('-')[0] as string;
    const base = lookup.get(primary);
    if (base) return base;
    // A supported regional variant for a bare request (pt → pt-br).
    for (const [k, v] of lookup) if (k.split('-')[0] === primary) return v;
  }
  return fallback;
}
