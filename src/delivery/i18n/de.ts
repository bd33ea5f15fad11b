import type { Catalog } from './types.js';

export const de: Catalog = {
  lang: 'de',
  units: {
    minute: { one: 'Minute', other: 'Minuten' },
    hour: { one: 'Stunde', other: 'Stunden' },
    day: { one: 'Tag', other: 'Tage' },
  },
  greeting: 'Hallo {{name}},',
  footer: 'Diese Nachricht wurde automatisch von {{title}} gesendet. Bitte antworten Sie nicht darauf.',
  methods: {
    totp: 'Authenticator-App',
    email: 'Code per E-Mail',
    sms: 'Code per SMS',
    webauthn: 'Passkey oder Sicherheitsschlüssel',
    recovery_code: 'Wiederherstellungscodes',
  },
  changes: {
    added: 'Hinzugefügt: {{method}}.',
    removed: 'Entfernt: {{method}}.',
    disabled: 'Die Zwei-Schritt-Verifizierung wurde ausgeschaltet.',
    reset: 'Die Zwei-Schritt-Verifizierung wurde zurückgesetzt: Sie richten sie bei der nächsten Anmeldung neu ein.',
  },
  messages: {
    code: {
      subject: 'Ihr Anmeldecode für {{title}}',
      body: [
        'Ihr Anmeldecode für {{title}} lautet:',
        '{{code}}',
        'Er ist {{lifetime}} lang gültig. Geben Sie diesen Code niemals weiter.',
        'Wenn Sie nicht versucht haben, sich anzumelden, kennt möglicherweise jemand Ihr Passwort: Ändern Sie Ihr Passwort sofort.',
      ],
      sms: '{{code}} ist Ihr Anmeldecode für {{title}}, {{lifetime}} lang gültig. Nicht Sie? Ändern Sie Ihr Passwort.',
    },
    verify_destination: {
      subject: 'Bestätigen Sie Ihre Kontaktdaten für {{title}}',
      body: [
        'Geben Sie diesen Code ein, um {{destination}} für {{title}} zu bestätigen:',
        '{{code}}',
        'Er ist {{lifetime}} lang gültig.',
        'Wenn Sie dies nicht angefordert haben, ignorieren Sie diese Nachricht und ändern Sie Ihr Passwort.',
      ],
      sms: '{{code}} ist Ihr Code zur Bestätigung dieser Telefonnummer für {{title}}, {{lifetime}} lang gültig.',
    },
    locked: {
      subject: 'Ihr Konto bei {{title}} wurde gesperrt',
      body: [
        'Ihr Konto bei {{title}} wurde nach zu vielen falschen Bestätigungscodes gesperrt.',
        '[[Wann: {{time}}.]][[ Von der Adresse {{ip}}.]][[ Browser oder App: {{device}}.]]',
        'Wenn Sie das waren, bitten Sie Ihren Administrator, es zu entsperren. Wenn nicht, kennt jemand Ihr Passwort: Ändern Sie es, sobald das Konto entsperrt ist.',
      ],
      sms: 'Ihr Konto bei {{title}} wurde nach zu vielen falschen Codes gesperrt. Wenden Sie sich an Ihren Administrator.',
    },
    new_device: {
      subject: 'Neue Anmeldung bei {{title}}',
      body: [
        'Mit Ihrem Konto bei {{title}} hat sich soeben jemand von einem neuen Gerät angemeldet[[: {{device}}]][[ ({{ip}})]][[, {{time}}]].',
        'Wenn Sie das waren, ist nichts zu tun. Wenn nicht, ändern Sie Ihr Passwort und entfernen Sie das Gerät auf Ihrer Kontoseite.',
        "[[Wenn Sie das nicht waren, öffnen Sie diesen Link: Er meldet Sie überall ab, vergisst Ihre vertrauenswürdigen Geräte und sperrt Ihr Konto, bis es wiederhergestellt ist: {{report_link}}]]",
      ],
    },
    factor_changed: {
      subject: 'Ihr zweiter Faktor bei {{title}} wurde geändert',
      body: [
        'Der zweite Faktor Ihres Kontos bei {{title}} wurde geändert[[ ({{time}})]].[[ {{what}}]]',
        'Wenn Sie diese Änderung nicht vorgenommen haben, ändern Sie Ihr Passwort und wenden Sie sich umgehend an Ihren Administrator.',
        "[[Wenn Sie das nicht waren, öffnen Sie diesen Link: Er meldet Sie überall ab, vergisst Ihre vertrauenswürdigen Geräte und sperrt Ihr Konto, bis es wiederhergestellt ist: {{report_link}}]]",
      ],
    },
    recovery_code_used: {
      subject: 'Ein Wiederherstellungscode für {{title}} wurde verwendet',
      body: [
        'Für die Anmeldung bei Ihrem Konto bei {{title}} wurde ein Wiederherstellungscode verwendet[[ ({{time}})]].[[ Verbleibende Wiederherstellungscodes: {{remaining}}.]]',
        'Wenn Sie das nicht waren, ändern Sie Ihr Passwort und wenden Sie sich umgehend an Ihren Administrator.',
      ],
    },
    new_recovery_codes: {
      subject: 'Neue Wiederherstellungscodes für {{title}} wurden erstellt',
      body: [
        'Für Ihr Konto bei {{title}} wurden neue Wiederherstellungscodes erstellt[[ ({{time}})]]. Ihre bisherigen Wiederherstellungscodes funktionieren nicht mehr.',
        'Wenn Sie das nicht waren, ändern Sie Ihr Passwort und wenden Sie sich umgehend an Ihren Administrator.',
      ],
    },
    invite: {
      subject: 'Legen Sie Ihr Passwort für {{title}} fest',
      body: [
        'Für Sie wurde ein Konto bei {{title}} angelegt. Öffnen Sie diesen Link, um Ihr Passwort festzulegen und sich anzumelden:',
        '{{link}}',
        'Der Link funktioniert nur einmal und ist {{lifetime}} lang gültig.',
        'Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.',
      ],
    },
    recovery_link: {
      subject: 'Zweiten Faktor für {{title}} zurücksetzen',
      body: [
        'Es wurde angefordert, den zweiten Faktor Ihres Kontos bei {{title}} zurückzusetzen, weil das Gerät verloren gegangen ist. Öffnen Sie diesen Link, um fortzufahren:',
        '{{link}}',
        'Der Link funktioniert nur einmal und ist {{lifetime}} lang gültig.',
        'Wenn Sie das nicht waren, ignorieren Sie diese Nachricht und ändern Sie Ihr Passwort.',
      ],
    },
    operator_report: {
      subject: "{{title}}: {{user}} hat Aktivität als fremd gemeldet",
      body: [
        "{{user}} hat den Link „Das war ich nicht“ in einer Sicherheits-E-Mail verwendet[[ ({{time}})]][[ von {{ip}}]].",
        "Alle Sitzungen und offenen Verbindungen des Benutzers wurden beendet, seine vertrauenswürdigen Geräte vergessen und ausstehende Codes und Links zurückgezogen. Das Konto ist gesperrt.",
        "Entsperren Sie es nach Prüfung mit `portcullis users unlock {{user}}`, oder lassen Sie den Benutzer es mit seinem Passwort und einem Link per E-Mail wiederherstellen.",
      ],
    },
  },
};
