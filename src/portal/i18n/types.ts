import type { en } from './en.js';

/**
 * A message, or its plural forms chosen on the `count` variable: an exact `'=N'` form first, then the
 * `Intl.PluralRules` category (`zero`, `one`, `two`, `few`, `many`), then `other`.
 */
export type Message = string | PluralMessage;
export interface PluralMessage {
  readonly [form: string]: string;
  readonly other: string;
}

export type MessageKey = keyof typeof en;

/** Every language has every key of the English catalogue. */
export type Catalogue = { readonly [K in MessageKey]: Message };

export type MessageVars = Record<string, string | number>;

export interface Translator {
  readonly lang: string;
  /** The message with `{name}` placeholders filled in. Plain text: the view layer escapes it. */
  t(key: MessageKey, vars?: MessageVars): string;
  has(key: string): boolean;
}
