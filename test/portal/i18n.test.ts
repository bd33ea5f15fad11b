import t from 'tap';
import { CATALOGUES, SUPPORTED_LANGUAGES, negotiateLanguage, translator } from '../../src/portal/i18n/index.js';
import { en } from '../../src/portal/i18n/en.js';
import { LANGUAGES } from '../../src/config/schema/misc.js';

const placeholders = (s: string) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();
const forms = (m: unknown): string[] => (typeof m === 'string' ? [m] : Object.values(m as Record<string, string>));

void t.test('six languages, the same as the config schema allows', (t) => {
  t.same([...SUPPORTED_LANGUAGES].sort(), ['de', 'en', 'es', 'fr', 'nl', 'ru']);
  t.same([...SUPPORTED_LANGUAGES].sort(), [...LANGUAGES].sort());
  t.end();
});

void t.test('every key of en exists in every language, with the same placeholders, and no extra keys', (t) => {
  const keys = Object.keys(en);
  t.ok(keys.length > 100);
  for (const [lang, cat] of Object.entries(CATALOGUES)) {
    t.same(Object.keys(cat).sort(), [...keys].sort(), `${lang}: same key set`);
    for (const key of keys) {
      const m = (cat as Record<string, unknown>)[key];
      t.ok(m !== undefined, `${lang}: ${key}`);
      const enMessage = (en as Record<string, unknown>)[key];
      const enOther = typeof enMessage === 'string' ? enMessage : (enMessage as Record<string, string>)['other']!;
      const expected = placeholders(enOther);
      for (const text of forms(m)) {
        t.ok(text.trim().length > 0, `${lang}: ${key} not empty`);
        for (const p of placeholders(text)) t.ok(expected.includes(p), `${lang}: ${key} placeholder {${p}} is known`);
      }
      const other = typeof m === 'string' ? m : (m as Record<string, string>)['other'];
      t.ok(other, `${lang}: ${key} has an "other" form`);
      t.same(placeholders(other ?? ''), expected, `${lang}: ${key} placeholders`);
    }
  }
  t.end();
});

void t.test('translations are real translations, not English copies', (t) => {
  for (const lang of SUPPORTED_LANGUAGES.filter((l) => l !== 'en')) {
    const cat = CATALOGUES[lang] as Record<string, unknown>;
    const alike = new Set(['message.status', 'common.action_on']); // "Error {status}" is also Spanish; "{action}: {what}" is punctuation only
    const same = Object.keys(en).filter((k) => !alike.has(k)).filter((k) => typeof cat[k] === 'string' && cat[k] === (en as Record<string, unknown>)[k] && String(cat[k]).length > 12);
    t.same(same, [], `${lang}: no long message left in English`);
  }
  t.equal(translator('de').t('login.submit'), 'Anmelden');
  t.equal(translator('fr').t('login.password'), 'Mot de passe');
  t.equal(translator('es').t('login.username'), 'Nombre de usuario');
  t.equal(translator('nl').t('login.password'), 'Wachtwoord');
  t.equal(translator('ru').t('login.submit'), 'Войти');
  t.end();
});

void t.test('translator fills placeholders, leaves unknown ones, chooses plural forms', (t) => {
  const tr = translator('en');
  t.equal(tr.lang, 'en');
  t.equal(tr.t('login.lead', { product: 'VMS' }), 'Sign in to continue to VMS.');
  t.equal(tr.t('login.lead'), 'Sign in to continue to {product}.');
  t.equal(tr.t('login.lead', { product: '<b>' }), 'Sign in to continue to <b>.', 'plain text: escaping is the view layer’s job');
  t.equal(tr.t('wait.minutes', { count: 1 }), '1 minute');
  t.equal(tr.t('wait.minutes', { count: 5 }), '5 minutes');
  t.equal(tr.t('code.digits', { count: 6 }), 'a 6-digit code');
  t.equal(tr.t('code.digits', { count: 8 }), 'an 8-digit code', 'exact =N form first');
  const ru = translator('ru');
  t.equal(ru.t('verify.error.invalid_code_left', { count: 1 }), 'Неверный код. Осталась 1 попытка до блокировки учётной записи.');
  t.equal(ru.t('verify.error.invalid_code_left', { count: 3 }), 'Неверный код. Осталось 3 попытки до блокировки учётной записи.');
  t.equal(ru.t('verify.error.invalid_code_left', { count: 5 }), 'Неверный код. Осталось 5 попыток до блокировки учётной записи.');
  t.equal(ru.t('verify.error.invalid_code_left_code', { count: 2 }), 'Неверный код. С этим кодом осталось 2 попытки.');
  t.equal(tr.t('verify.error.invalid_code_left_code', { count: 2 }), 'That code is not correct. 2 attempts left with this code.');
  t.equal(tr.t('verify.error.invalid_code_left', { count: 1 }), 'That code is not correct. 1 attempt left before your account is locked.');
  t.equal(ru.t('wait.minutes', { count: 21 }), '21 минуту');
  t.equal(translator('fr').t('wait.minutes', { count: 0 }), '0 minute', 'French 0 is singular');
  t.ok(tr.has('login.title'));
  t.notOk(tr.has('nope.nothing'));
  t.notOk(tr.has('toString'));
  t.equal(tr.t('nope.nothing' as 'login.title'), 'nope.nothing', 'unknown key shows the key');
  t.end();
});

void t.test('unknown language falls back to English', (t) => {
  const tr = translator('xx');
  t.equal(tr.lang, 'en');
  t.equal(tr.t('login.submit'), 'Sign in');
  t.equal(translator('__proto__').lang, 'en');
  t.end();
});

void t.test('negotiateLanguage', (t) => {
  const all = SUPPORTED_LANGUAGES;
  t.equal(negotiateLanguage(undefined, all), 'en');
  t.equal(negotiateLanguage('', all), 'en');
  t.equal(negotiateLanguage('de', all), 'de');
  t.equal(negotiateLanguage('de-AT', all), 'de', 'region falls back to the language');
  t.equal(negotiateLanguage('DE-at', all), 'de', 'case-insensitive');
  t.equal(negotiateLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5', all), 'fr');
  t.equal(negotiateLanguage('en;q=0.5, nl;q=0.9', all), 'nl', 'q-values order');
  t.equal(negotiateLanguage('ja, ru;q=0.3', all), 'ru', 'skips unsupported');
  t.equal(negotiateLanguage('ja, zh', all), 'en', 'nothing supported: first supported');
  t.equal(negotiateLanguage('ja, zh', ['de', 'en']), 'de', 'default is the first supported');
  t.equal(negotiateLanguage('de;q=0, es', all), 'es', 'q=0 is not acceptable');
  t.equal(negotiateLanguage('*', ['nl', 'en']), 'nl');
  t.equal(negotiateLanguage('es;q=0.8, fr;q=0.8', all), 'es', 'ties keep the header order');
  t.equal(negotiateLanguage('de;q=abc, fr', all), 'fr', 'malformed q is not acceptable');
  t.equal(negotiateLanguage('de;q=1.5, fr;q=0.9', all), 'de', 'q is at most 1');
  t.equal(negotiateLanguage('<script>, ru', all), 'ru', 'malformed tags ignored');
  t.equal(negotiateLanguage('de', ['en', 'fr']), 'en', 'only configured languages');
  t.equal(negotiateLanguage('pt', ['en', 'pt-BR']), 'pt-BR', 'a regional variant for a bare request');
  t.equal(negotiateLanguage('de', all, 'ru'), 'ru', 'cookie choice wins');
  t.equal(negotiateLanguage('de', all, 'xx'), 'de', 'unsupported cookie ignored');
  t.equal(negotiateLanguage('de', ['en', 'de'], 'fr'), 'de', 'cookie for a language not configured ignored');
  t.equal(negotiateLanguage(`${'x,'.repeat(100_000)}de`, all), 'en', 'bounded: a huge header does not get far');
  t.equal(negotiateLanguage('en-US,en;q=0.9', all), 'en');
  t.end();
});
