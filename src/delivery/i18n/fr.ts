import type { Catalog } from './types.js';

export const fr: Catalog = {
  lang: 'fr',
  units: {
    minute: { one: 'minute', other: 'minutes' },
    hour: { one: 'heure', other: 'heures' },
    day: { one: 'jour', other: 'jours' },
  },
  greeting: 'Bonjour {{name}},',
  footer: 'Ce message a été envoyé automatiquement par {{title}}. Merci de ne pas y répondre.',
  methods: {
    totp: 'application d’authentification',
    email: 'code par e-mail',
    sms: 'code par SMS',
    webauthn: 'clé d’accès ou clé de sécurité',
    recovery_code: 'codes de récupération',
  },
  changes: {
    added: 'Ajout : {{method}}.',
    removed: 'Suppression : {{method}}.',
    disabled: 'La validation en deux étapes a été désactivée.',
    reset: 'La validation en deux étapes a été réinitialisée : vous la configurerez à nouveau lors de votre prochaine connexion.',
  },
  messages: {
    code: {
      subject: 'Votre code de connexion {{title}}',
      body: [
        'Votre code de connexion à {{title}} est :',
        '{{code}}',
        'Il est valable {{lifetime}}. Ne communiquez jamais ce code à personne.',
        "Si vous n'avez pas essayé de vous connecter, quelqu'un connaît peut-être votre mot de passe : changez-le immédiatement.",
      ],
      sms: "{{code}} est votre code de connexion {{title}}, valable {{lifetime}}. Ce n'était pas vous ? Changez votre mot de passe.",
    },
    verify_destination: {
      subject: 'Confirmez vos coordonnées {{title}}',
      body: [
        'Saisissez ce code pour confirmer {{destination}} pour {{title}} :',
        '{{code}}',
        'Il est valable {{lifetime}}.',
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message et changez votre mot de passe.",
      ],
      sms: '{{code}} est votre code {{title}} pour confirmer ce numéro, valable {{lifetime}}.',
    },
    locked: {
      subject: 'Votre compte {{title}} a été verrouillé',
      body: [
        'Votre compte {{title}} a été verrouillé après trop de codes de vérification erronés.',
        '[[Quand : {{time}}.]][[ Depuis l’adresse {{ip}}.]][[ Navigateur ou application : {{device}}.]]',
        "Si c'était vous, demandez à votre administrateur de le déverrouiller. Sinon, quelqu'un connaît votre mot de passe : changez-le dès que le compte sera déverrouillé.",
      ],
      sms: 'Votre compte {{title}} a été verrouillé après trop de codes erronés. Contactez votre administrateur.',
    },
    new_device: {
      subject: 'Nouvelle connexion à {{title}}',
      body: [
        "Quelqu'un vient de se connecter à votre compte {{title}} depuis un nouvel appareil[[ : {{device}}]][[ ({{ip}})]][[, {{time}}]].",
        "Si c'était vous, vous n'avez rien à faire. Sinon, changez votre mot de passe et supprimez l'appareil depuis la page de votre compte.",
        "[[Si ce n'était pas vous, ouvrez ce lien : il vous déconnecte partout, oublie vos appareils de confiance et verrouille votre compte jusqu'à sa récupération : {{report_link}}]]",
      ],
    },
    factor_changed: {
      subject: 'Votre second facteur {{title}} a été modifié',
      body: [
        'Le second facteur de votre compte {{title}} a été modifié[[ ({{time}})]].[[ {{what}}]]',
        "Si vous n'êtes pas à l'origine de cette modification, changez votre mot de passe et contactez immédiatement votre administrateur.",
        "[[Si ce n'était pas vous, ouvrez ce lien : il vous déconnecte partout, oublie vos appareils de confiance et verrouille votre compte jusqu'à sa récupération : {{report_link}}]]",
      ],
    },
    recovery_code_used: {
      subject: 'Un code de récupération {{title}} a été utilisé',
      body: [
        'Un code de récupération a été utilisé pour se connecter à votre compte {{title}}[[ ({{time}})]].[[ Codes de récupération restants : {{remaining}}.]]',
        "Si ce n'était pas vous, changez votre mot de passe et contactez immédiatement votre administrateur.",
      ],
    },
    new_recovery_codes: {
      subject: 'De nouveaux codes de récupération {{title}} ont été créés',
      body: [
        'De nouveaux codes de récupération ont été créés pour votre compte {{title}}[[ ({{time}})]]. Vos anciens codes de récupération ne fonctionnent plus.',
        'Si vous n’êtes pas à l’origine de cette action, changez votre mot de passe et contactez immédiatement votre administrateur.',
      ],
    },
    invite: {
      subject: 'Définissez votre mot de passe {{title}}',
      body: [
        'Un compte a été créé pour vous sur {{title}}. Pour définir votre mot de passe et vous connecter, ouvrez ce lien :',
        '{{link}}',
        "Ce lien ne fonctionne qu'une fois et reste valable {{lifetime}}.",
        "Si vous n'attendiez pas cette invitation, vous pouvez ignorer ce message.",
      ],
    },
    recovery_link: {
      subject: 'Réinitialisez votre second facteur {{title}}',
      body: [
        "La réinitialisation du second facteur de votre compte {{title}} a été demandée suite à la perte de l'appareil. Pour continuer, ouvrez ce lien :",
        '{{link}}',
        "Ce lien ne fonctionne qu'une fois et reste valable {{lifetime}}.",
        "Si ce n'était pas vous, ignorez ce message et changez votre mot de passe.",
      ],
    },
    operator_report: {
      subject: "{{title}} : {{user}} a signalé une activité qui n'était pas la sienne",
      body: [
        "{{user}} a utilisé le lien « Ce n'était pas moi » d'un e-mail de sécurité[[ ({{time}})]][[ depuis {{ip}}]].",
        "Toutes les sessions et connexions ouvertes de l'utilisateur ont été fermées, ses appareils de confiance oubliés et les codes et liens en attente retirés. Le compte est verrouillé.",
        "Après vérification, déverrouillez-le avec `portcullis users unlock {{user}}`, ou laissez l'utilisateur le récupérer avec son mot de passe et un lien envoyé par e-mail.",
      ],
    },
  },
};
