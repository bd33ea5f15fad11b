import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CATALOGS } from '../../src/delivery/i18n/index.js';
import { KIND_VARS, LANGUAGES, MESSAGE_KINDS, escapeHtml, formatLifetime, render, resolveLanguage } from '../../src/delivery/templates.js';

const VARS: Record<string, string> = {
  title: 'Acme VMS',
  name: 'Alice Operator',
  code: '482913',
  minutes: '5',
  destination: '+49 *** *** 78',
  device: 'Firefox on Linux',
  ip: '203.0.113.7',
  time: '2026-01-02 03:04 UTC',
  method: 'sms',
  change: 'removed',
  remaining: '7',
  link: 'https://vms.example.com/_gateway/invite/tok123',
  report_link: 'https://vms.example.com/_gateway/report/eyJ1IjoiYWxpY2UifQ.sig123',
  user: 'alice',
};

void t.test('every kind in every language renders completely', (t) => {
  for (const kind of MESSAGE_KINDS) {
    for (const lang of LANGUAGES) {
      const m = render(kind, lang, VARS);
      const label = `${kind}/${lang}`;
      for (const part of ['subject', 'text', 'html', 'sms'] as const) {
        t.ok(m[part].trim().length > 0, `${label} ${part} non-empty`);
        t.notMatch(m[part], /\{\{|\}\}/, `${label} ${part} has no placeholder left`);
      }
      t.match(m.subject, /Acme VMS/, `${label} subject names the product`);
      t.match(m.text, /Alice Operator/, `${label} greets by name`);
      t.match(m.html, new RegExp(`<html lang="${lang}"`), `${label} html lang`);
      const catalog = CATALOGS[lang];
      // Shown localised: the method's name, and what changed ("Removed: code by text message (SMS).").
      const shown: Record<string, string> = { ...VARS, method: catalog.methods.sms, change: catalog.changes.removed.replace('{{method}}', catalog.methods.sms) };
      for (const v of KIND_VARS[kind]) {
        // `item` (a passkey's name): its own test below.
        if (v === 'minutes' || v === 'item') continue;
        t.ok(m.text.includes(shown[v]!), `${label} text has ${v}`);
        t.ok(m.html.includes(escapeHtml(shown[v]!)), `${label} html has ${v}`);
      }
      t.notMatch(m.text, /\b(totp|recovery_code|webauthn)\b/, `${label} names no method by its internal name`);
      if (kind === 'code' || kind === 'verify_destination') {
        t.ok(m.sms.includes('482913'), `${label} sms has the code`);
        t.ok(m.sms.length <= 160, `${label} sms is short (${m.sms.length})`);
      }
      if (KIND_VARS[kind].includes('minutes')) t.ok(m.text.includes(formatLifetime(5, lang)), `${label} states the lifetime`);
    }
  }
  t.end();
});

void t.test('the code message says lifetime, product and what to do if it was not you', (t) => {
  const m = render('code', 'en', VARS);
  t.match(m.text, /valid for 5 minutes/);
  t.match(m.text, /Acme VMS/);
  t.match(m.text, /If you didn't try to sign in.*change your password/);
  t.match(m.text, /^ {4}482913$/m, 'the code stands on its own line');
  t.match(m.html, /class="portcullis-code"[^>]*>482913</);
  t.match(m.sms, /^482913 is your Acme VMS sign-in code, valid for 5 minutes/);
  t.end();
});

void t.test('the languages differ and are chosen leniently', (t) => {
  const subjects = new Set(LANGUAGES.map((l) => render('code', l, VARS).subject));
  t.equal(subjects.size, LANGUAGES.length, 'each language has its own text');
  t.match(render('code', 'de', VARS).text, /5 Minuten lang gültig/);
  t.match(render('code', 'ru', VARS).text, /Срок действия кода — 5 минут\./);
  t.equal(resolveLanguage('de-AT'), 'de');
  t.equal(resolveLanguage('FR_ca'), 'fr');
  t.equal(resolveLanguage('xx'), 'en');
  t.equal(resolveLanguage(''), 'en');
  t.equal(resolveLanguage(undefined), 'en');
  t.equal(render('code', 'tlh', VARS).subject, render('code', 'en', VARS).subject, 'unknown → en');
  t.equal(render('code', '../../etc/passwd', VARS).subject, render('code', 'en', VARS).subject);
  t.end();
});

void t.test('lifetimes use the plural forms and larger units', (t) => {
  t.equal(formatLifetime(1, 'en'), '1 minute');
  t.equal(formatLifetime(5, 'en'), '5 minutes');
  t.equal(formatLifetime(1.5, 'en'), '1 minute', 'rounded down, never overstated');
  t.equal(formatLifetime(0.2, 'en'), '1 minute');
  t.equal(formatLifetime(60, 'en'), '1 hour');
  t.equal(formatLifetime(7 * 1440, 'en'), '7 days');
  t.equal(formatLifetime(1, 'ru'), '1 минута');
  t.equal(formatLifetime(3, 'ru'), '3 минуты');
  t.equal(formatLifetime(5, 'ru'), '5 минут');
  t.equal(formatLifetime(21, 'ru'), '21 минута');
  t.equal(formatLifetime(24 * 60, 'ru'), '1 день');
  t.equal(formatLifetime(2 * 1440, 'ru'), '2 дня');
  t.equal(formatLifetime(120, 'de'), '2 Stunden');
  t.equal(formatLifetime(180, 'nl'), '3 uur');
  t.equal(formatLifetime(1, 'fr'), '1 minute');
  t.equal(formatLifetime(2, 'es'), '2 minutos');
  t.match(render('invite', 'en', { ...VARS, minutes: String(7 * 1440) }).text, /valid for 7 days/);
  t.match(render('code', 'en', { ...VARS, lifetime: 'a short while' }).text, /valid for a short while/, 'explicit lifetime wins');
  t.end();
});

void t.test('every catalog has every kind with body paragraphs', (t) => {
  for (const lang of LANGUAGES) {
    for (const kind of MESSAGE_KINDS) {
      const msg = CATALOGS[lang].messages[kind];
      t.ok(msg.body.length >= 2, `${lang}/${kind}`);
      if (KIND_VARS[kind].includes('code')) t.ok(msg.body.includes('{{code}}') && msg.sms !== undefined, `${lang}/${kind} code paragraph and sms`);
      if (KIND_VARS[kind].includes('link')) t.ok(msg.body.includes('{{link}}'), `${lang}/${kind} link paragraph`);
    }
  }
  t.end();
});

void t.test('hostile values are escaped in HTML and never expanded', (t) => {
  const hostile = '<script>alert("x")</script> & {{code}}';
  const m = render('new_device', 'en', { ...VARS, name: hostile, device: '<img src=x onerror=alert(1)>' });
  t.notMatch(m.html, /<script>/);
  t.notMatch(m.html, /<img/);
  t.match(m.html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; \{\{code\}\}/, 'the one HTML escaper (util/html.ts)');
  t.match(m.text, /Hello <script>alert\("x"\)<\/script> & \{\{code\}\},/, 'plain text keeps the value as typed');
  t.notMatch(m.text, /482913/, 'a value containing {{code}} is not expanded');
  const subj = render('code', 'en', { ...VARS, title: 'Evil\r\nBcc: x@example.com' }).subject;
  t.notMatch(subj, /[\r\n]/, 'no line breaks in the subject');
  t.end();
});

void t.test('links are anchors only when http(s)', (t) => {
  const ok = render('invite', 'en', VARS).html;
  t.match(ok, /<a class="portcullis-link" href="https:\/\/vms\.example\.com\/_gateway\/invite\/tok123">/);
  const bad = render('invite', 'en', { ...VARS, link: 'javascript:alert(1)' }).html;
  t.notMatch(bad, /href=/);
  t.match(bad, /javascript:alert\(1\)/);
  t.end();
});

void t.test('missing variables render empty and without a greeting when nameless', (t) => {
  const m = render('locked', 'en', {});
  t.notMatch(m.text, /Hello/);
  t.match(m.subject, /Your Portcullis account has been locked/, 'the title defaults to Portcullis');
  t.notMatch(m.text, /\{\{/);
  t.end();
});

void t.test('operator override files win, per language then generic', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tpl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'code.txt'), 'Generic: {{code}} for {{name}} ({{lifetime}})\n');
  writeFileSync(join(dir, 'code.de.txt'), 'Deutsch: {{code}} ({{lifetime}})\n');
  writeFileSync(join(dir, 'code.de.subject'), 'Code für {{title}}\n');
  writeFileSync(join(dir, 'invite.html'), '<p>Hi {{name}}, <a href="{{link}}">go</a></p>');
  writeFileSync(join(dir, 'code.sms'), 'SMS {{code}}');

  const en = render('code', 'en', { ...VARS, name: '<b>Bob</b>' }, { dir });
  t.equal(en.text, 'Generic: 482913 for <b>Bob</b> (5 minutes)\n');
  t.equal(en.subject, render('code', 'en', VARS).subject, 'no subject override: built-in');
  t.match(en.html, /<p>Generic: 482913 for &lt;b&gt;Bob&lt;\/b&gt; \(5 minutes\)<\/p>/, 'HTML made from the text override, escaped');
  t.equal(en.sms, 'SMS 482913');

  const de = render('code', 'de', VARS, { dir });
  t.equal(de.text, 'Deutsch: 482913 (5 Minuten)\n');
  t.equal(de.subject, 'Code für Acme VMS');

  const invite = render('invite', 'fr', { ...VARS, name: '<i>x</i>' }, { dir });
  t.equal(invite.html, '<p>Hi &lt;i&gt;x&lt;/i&gt;, <a href="https://vms.example.com/_gateway/invite/tok123">go</a></p>');
  t.equal(invite.text, render('invite', 'fr', { ...VARS, name: '<i>x</i>' }).text, 'text stays built-in');

  const missing = render('code', 'en', VARS, { dir: join(dir, 'does-not-exist') });
  t.same(missing, render('code', 'en', VARS), 'a missing folder means built-in templates');
  t.end();
});

void t.test('oversized override files are ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tpl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'locked.txt'), 'x'.repeat(70 * 1024));
  t.equal(render('locked', 'en', VARS, { dir }).text, render('locked', 'en', VARS).text);
  t.end();
});

void t.test('optional details are left out cleanly when missing', (t) => {
  for (const lang of LANGUAGES) {
    const device = render('new_device', lang, { title: 'Acme', name: 'A' });
    t.notMatch(device.text, /\(\)|: ,|, \.|\[\[|\]\]/, `${lang} new_device`);
    const factor = render('factor_changed', lang, { title: 'Acme', name: 'A', method: 'totp' });
    t.ok(factor.text.includes(CATALOGS[lang].methods.totp), `${lang} factor_changed names the authenticator app in words`);
    t.notMatch(factor.text, /totp/, `${lang} factor_changed: no internal name`);
    t.notMatch(factor.text, /\(\)|\[\[/, `${lang} factor_changed`);
    for (const change of ['disabled', 'reset'] as const) {
      const text = render('factor_changed', lang, { title: 'Acme', name: 'A', change }).text;
      t.ok(text.includes(CATALOGS[lang].changes[change]), `${lang} factor_changed ${change} says so`);
    }
    t.notMatch(render('factor_changed', lang, { title: 'Acme', name: 'A', change: 'removed' }).text, /\{\{|: \./, `${lang} removed without a method says nothing half`);
    const rc = render('recovery_code_used', lang, { title: 'Acme', name: 'A' });
    t.notMatch(rc.text, /: \.|\(\)|\[\[/, `${lang} recovery_code_used`);
    t.ok(render('recovery_code_used', lang, { title: 'Acme', remaining: '3' }).text.includes(': 3.'), `${lang} remaining shown when given`);
  }
  t.match(render('new_device', 'en', { ip: '198.51.100.1' }).text, /from a new device \(198\.51\.100\.1\)\./);
  t.notMatch(render('new_device', 'en', { device: '[[x]] {{ip}}' }).text, /198/, 'a value with markers stays literal');
  t.match(render('new_device', 'en', { device: '[[x]] {{ip}}' }).text, /\[\[x\]\] \{\{ip\}\}/);
  t.end();
});

void t.test('"this wasn\'t me": the link is an optional paragraph of new_device and factor_changed, an anchor in HTML', (t) => {
  for (const kind of ['new_device', 'factor_changed'] as const) {
    const { report_link: _omitted, ...without } = VARS;
    const plain = render(kind, 'en', without);
    t.notMatch(plain.text, /wasn't you, open this link/, `${kind}: no sentence without a link`);
    t.notMatch(plain.html, /<p><\/p>/, `${kind}: no empty paragraph`);
    t.notMatch(plain.text, /\n\n\n/, `${kind}: no blank paragraph in the text`);
    const m = render(kind, 'en', VARS);
    t.match(m.text, /If this wasn't you, open this link .*lock your account .*https:\/\/vms\.example\.com\/_gateway\/report\/eyJ1IjoiYWxpY2UifQ\.sig123/);
    t.match(m.html, /<a class="portcullis-report-link" href="https:\/\/vms\.example\.com\/_gateway\/report\/eyJ1IjoiYWxpY2UifQ\.sig123">/);
    const hostile = render(kind, 'en', { ...VARS, report_link: 'javascript:alert(1)' });
    t.notMatch(hostile.html, /href="javascript:/, `${kind}: only an http(s) link becomes an anchor`);
  }
  const ops = render('operator_report', 'de', { user: 'alice', ip: '203.0.113.7', time: '2026-01-02 03:04 UTC' });
  t.match(ops.subject, /alice/);
  t.match(ops.text, /portcullis users unlock alice/);
  t.end();
});

void t.test('factor_changed names the passkey that was added or removed, in every language, escaped in HTML', (t) => {
  for (const lang of LANGUAGES) {
    const catalog = CATALOGS[lang];
    for (const change of ['added', 'removed'] as const) {
      const m = render('factor_changed', lang, { ...VARS, method: 'webauthn', change, item: 'Work <laptop>' });
      const expected = catalog.changes[change].replace('{{method}}', `${catalog.methods.webauthn} (Work <laptop>)`);
      t.ok(m.text.includes(expected), `${lang} ${change}: "${expected}" in the text`);
      t.ok(m.html.includes(escapeHtml(expected)), `${lang} ${change}: escaped in the html`);
      t.notMatch(m.html, /<laptop>/, `${lang} ${change}: no raw markup from the name`);
    }
  }
  t.end();
});
