import type { Catalog } from './types.js';

export const nl: Catalog = {
  lang: 'nl',
  units: {
    minute: { one: 'minuut', other: 'minuten' },
    hour: { one: 'uur', other: 'uur' },
    day: { one: 'dag', other: 'dagen' },
  },
  greeting: 'Hallo {{name}},',
  footer: 'Dit bericht is automatisch verzonden door {{title}}. U kunt niet op dit bericht antwoorden.',
  methods: {
    totp: 'authenticator-app',
    email: 'code per e-mail',
    sms: 'code per sms',
    webauthn: 'passkey of beveiligingssleutel',
    recovery_code: 'herstelcodes',
  },
  changes: {
    added: 'Toegevoegd: {{method}}.',
    removed: 'Verwijderd: {{method}}.',
    disabled: 'Verificatie in twee stappen is uitgeschakeld.',
    reset: 'Verificatie in twee stappen is opnieuw ingesteld: u stelt die bij uw volgende aanmelding opnieuw in.',
  },
  messages: {
    code: {
      subject: 'Uw inlogcode voor {{title}}',
      body: [
        'Uw inlogcode voor {{title}} is:',
        '{{code}}',
        'De code is {{lifetime}} geldig. Deel deze code nooit met iemand.',
        'Hebt u niet geprobeerd in te loggen? Dan kent iemand mogelijk uw wachtwoord: wijzig uw wachtwoord direct.',
      ],
      sms: '{{code}} is uw inlogcode voor {{title}}, {{lifetime}} geldig. Was u dit niet? Wijzig uw wachtwoord.',
    },
    verify_destination: {
      subject: 'Bevestig uw contactgegevens voor {{title}}',
      body: [
        'Voer deze code in om {{destination}} voor {{title}} te bevestigen:',
        '{{code}}',
        'De code is {{lifetime}} geldig.',
        'Hebt u hier niet om gevraagd? Negeer dan dit bericht en wijzig uw wachtwoord.',
      ],
      sms: '{{code}} is uw code voor {{title}} om dit telefoonnummer te bevestigen, {{lifetime}} geldig.',
    },
    locked: {
      subject: 'Uw account bij {{title}} is geblokkeerd',
      body: [
        'Uw account bij {{title}} is geblokkeerd na te veel onjuiste verificatiecodes.',
        '[[Wanneer: {{time}}.]][[ Vanaf het adres {{ip}}.]][[ Browser of app: {{device}}.]]',
        'Was u dit zelf? Vraag dan uw beheerder om het account te deblokkeren. Zo niet, dan kent iemand uw wachtwoord: wijzig het zodra het account weer is gedeblokkeerd.',
      ],
      sms: 'Uw account bij {{title}} is geblokkeerd na te veel onjuiste codes. Neem contact op met uw beheerder.',
    },
    new_device: {
      subject: 'Nieuwe aanmelding bij {{title}}',
      body: [
        'Er is zojuist met uw account bij {{title}} ingelogd vanaf een nieuw apparaat[[: {{device}}]][[ ({{ip}})]][[, {{time}}]].',
        'Was u dit zelf, dan hoeft u niets te doen. Zo niet, wijzig dan uw wachtwoord en verwijder het apparaat via uw accountpagina.',
        "[[Was u dit niet? Open dan deze link: u wordt overal afgemeld, uw vertrouwde apparaten worden vergeten en uw account wordt vergrendeld tot het hersteld is: {{report_link}}]]",
      ],
    },
    factor_changed: {
      subject: 'Uw tweede factor voor {{title}} is gewijzigd',
      body: [
        'De tweede factor van uw account bij {{title}} is gewijzigd[[ ({{time}})]].[[ {{what}}]]',
        'Hebt u deze wijziging niet zelf aangebracht? Wijzig dan uw wachtwoord en neem direct contact op met uw beheerder.',
        "[[Was u dit niet? Open dan deze link: u wordt overal afgemeld, uw vertrouwde apparaten worden vergeten en uw account wordt vergrendeld tot het hersteld is: {{report_link}}]]",
      ],
    },
    recovery_code_used: {
      subject: 'Er is een herstelcode voor {{title}} gebruikt',
      body: [
        'Er is een herstelcode gebruikt om in te loggen op uw account bij {{title}}[[ ({{time}})]].[[ Resterende herstelcodes: {{remaining}}.]]',
        'Was u dit niet? Wijzig dan uw wachtwoord en neem direct contact op met uw beheerder.',
      ],
    },
    new_recovery_codes: {
      subject: 'Er zijn nieuwe herstelcodes voor {{title}} gemaakt',
      body: [
        'Er zijn nieuwe herstelcodes gemaakt voor uw account bij {{title}}[[ ({{time}})]]. Uw eerdere herstelcodes werken niet meer.',
        'Hebt u dit niet gedaan, wijzig dan uw wachtwoord en neem onmiddellijk contact op met uw beheerder.',
      ],
    },
    invite: {
      subject: 'Stel uw wachtwoord voor {{title}} in',
      body: [
        'Er is een account voor u aangemaakt bij {{title}}. Open deze link om uw wachtwoord in te stellen en in te loggen:',
        '{{link}}',
        'De link werkt één keer en is {{lifetime}} geldig.',
        'Verwachtte u deze uitnodiging niet? Dan kunt u dit bericht negeren.',
      ],
    },
    recovery_link: {
      subject: 'Uw tweede factor voor {{title}} opnieuw instellen',
      body: [
        'Er is gevraagd om de tweede factor van uw account bij {{title}} opnieuw in te stellen omdat het apparaat kwijt is. Open deze link om verder te gaan:',
        '{{link}}',
        'De link werkt één keer en is {{lifetime}} geldig.',
        'Was u dit niet? Negeer dan dit bericht en wijzig uw wachtwoord.',
      ],
    },
    operator_report: {
      subject: "{{title}}: {{user}} heeft activiteit gemeld die niet van hem of haar was",
      body: [
        "{{user}} heeft de link 'Dit was ik niet' in een beveiligingsmail gebruikt[[ ({{time}})]][[ vanaf {{ip}}]].",
        "Alle sessies en open verbindingen van de gebruiker zijn beëindigd, de vertrouwde apparaten vergeten en openstaande codes en links ingetrokken. Het account is vergrendeld.",
        "Ontgrendel het na controle met `portcullis users unlock {{user}}`, of laat de gebruiker het herstellen met het wachtwoord en een herstellink per e-mail.",
      ],
    },
  },
};
