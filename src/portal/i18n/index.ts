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

export { negotiateLanguage } from '../../http/language.js';
