/** Every message the gateway sends. */
export const MESSAGE_KINDS = [
  'code',
  'locked',
  'new_device',
  'factor_changed',
  'recovery_code_used',
  'new_recovery_codes',
  'invite',
  'recovery_link',
  'verify_destination',
  'operator_report',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'nl', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

export const METHOD_NAMES = ['totp', 'email', 'sms', 'webauthn', 'recovery_code'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];
export const CHANGE_KINDS = ['added', 'removed', 'disabled', 'reset'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export type DurationUnit = 'minute' | 'hour' | 'day';
/** Word forms by CLDR plural category (Intl.PluralRules); `other` is the fallback. */
export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

export interface MessageText {
  subject: string;
  /**
   * Paragraphs. A paragraph that is exactly `{{code}}` or `{{link}}` is laid out specially (the code
   * set apart, the link as an anchor in HTML). `[[ ... ]]` marks an optional segment, left out when a
   * placeholder inside it is empty.
   */
  body: string[];
  /** Short SMS text; kinds without one use the subject. */
  sms?: string;
}

export interface Catalog {
  lang: Language;
  /** Phrase a lifetime reads as inside the sentences below ("5 minutes"). */
  units: Record<DurationUnit, PluralForms>;
  greeting: string;
  footer: string;
  /** Each method's name in a sentence (`{{method}}` of factor_changed): never the internal name. */
  methods: Record<MethodName, string>;
  /** factor_changed: what happened (`{{what}}`), by the `change` variable; `{{method}}` is the method's name. */
  changes: Record<ChangeKind, string>;
  messages: Record<MessageKind, MessageText>;
}
