import { de } from './de.js';
import { en } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { nl } from './nl.js';
import { ru } from './ru.js';
import { LANGUAGES, type Catalog, type Language } from './types.js';

export * from './types.js';

export const CATALOGS: Readonly<Record<Language, Catalog>> = Object.freeze({ en, de, fr, es, nl, ru });

/** `de-DE`, `DE`, `de_AT` → `de`; anything unknown → `en`. */
export function resolveLanguage(lang: string | undefined): Language {
  const base = String(lang ?? '')
    .trim()
    .toLowerCase()
    .split(/[-_]/)[0];
  return (LANGUAGES as readonly string[]).includes(base ?? '') ? (base as Language) : 'en';
}
