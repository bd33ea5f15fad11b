import type { Catalog } from './types.js';

export const es: Catalog = {
  lang: 'es',
  units: {
    minute: { one: 'minuto', other: 'minutos' },
    hour: { one: 'hora', other: 'horas' },
    day: { one: 'día', other: 'días' },
  },
  greeting: 'Hola, {{name}}:',
  footer: 'Este mensaje se ha enviado automáticamente desde {{title}}. Por favor, no responda.',
  methods: {
    totp: 'aplicación de autenticación',
    email: 'código por correo electrónico',
    sms: 'código por SMS',
    webauthn: 'llave de acceso o llave de seguridad',
    recovery_code: 'códigos de recuperación',
  },
  changes: {
    added: 'Añadido: {{method}}.',
    removed: 'Eliminado: {{method}}.',
    disabled: 'Se ha desactivado la verificación en dos pasos.',
    reset: 'Se ha restablecido la verificación en dos pasos: la configurará de nuevo en su próximo inicio de sesión.',
  },
  messages: {
    code: {
      subject: 'Su código de inicio de sesión de {{title}}',
      body: [
        'Su código para iniciar sesión en {{title}} es:',
        '{{code}}',
        'Es válido durante {{lifetime}}. No comparta nunca este código con nadie.',
        'Si no ha intentado iniciar sesión, es posible que alguien conozca su contraseña: cámbiela ahora mismo.',
      ],
      sms: '{{code}} es su código de inicio de sesión de {{title}}, válido durante {{lifetime}}. ¿No ha sido usted? Cambie su contraseña.',
    },
    verify_destination: {
      subject: 'Confirme sus datos de contacto de {{title}}',
      body: [
        'Introduzca este código para confirmar {{destination}} en {{title}}:',
        '{{code}}',
        'Es válido durante {{lifetime}}.',
        'Si no lo ha solicitado, ignore este mensaje y cambie su contraseña.',
      ],
      sms: '{{code}} es su código de {{title}} para confirmar este número, válido durante {{lifetime}}.',
    },
    locked: {
      subject: 'Su cuenta de {{title}} ha sido bloqueada',
      body: [
        'Su cuenta de {{title}} se ha bloqueado tras demasiados códigos de verificación incorrectos.',
        '[[Cuándo: {{time}}.]][[ Desde la dirección {{ip}}.]][[ Navegador o aplicación: {{device}}.]]',
        'Si ha sido usted, pida a su administrador que la desbloquee. Si no, alguien conoce su contraseña: cámbiela en cuanto se desbloquee la cuenta.',
      ],
      sms: 'Su cuenta de {{title}} se ha bloqueado tras demasiados códigos incorrectos. Póngase en contacto con su administrador.',
    },
    new_device: {
      subject: 'Nuevo inicio de sesión en {{title}}',
      body: [
        'Se acaba de iniciar sesión en su cuenta de {{title}} desde un dispositivo nuevo[[: {{device}}]][[ ({{ip}})]][[, {{time}}]].',
        'Si ha sido usted, no tiene que hacer nada. Si no, cambie su contraseña y elimine el dispositivo desde la página de su cuenta.',
        "[[Si no ha sido usted, abra este enlace: cierra todas sus sesiones, olvida sus dispositivos de confianza y bloquea su cuenta hasta que se recupere: {{report_link}}]]",
      ],
    },
    factor_changed: {
      subject: 'Se ha cambiado su segundo factor de {{title}}',
      body: [
        'Se ha cambiado el segundo factor de su cuenta de {{title}}[[ ({{time}})]].[[ {{what}}]]',
        'Si no ha realizado este cambio, cambie su contraseña y póngase en contacto de inmediato con su administrador.',
        "[[Si no ha sido usted, abra este enlace: cierra todas sus sesiones, olvida sus dispositivos de confianza y bloquea su cuenta hasta que se recupere: {{report_link}}]]",
      ],
    },
    recovery_code_used: {
      subject: 'Se ha usado un código de recuperación de {{title}}',
      body: [
        'Se ha usado un código de recuperación para iniciar sesión en su cuenta de {{title}}[[ ({{time}})]].[[ Códigos de recuperación restantes: {{remaining}}.]]',
        'Si no ha sido usted, cambie su contraseña y póngase en contacto de inmediato con su administrador.',
      ],
    },
    new_recovery_codes: {
      subject: 'Se han creado nuevos códigos de recuperación de {{title}}',
      body: [
        'Se han creado nuevos códigos de recuperación para su cuenta de {{title}}[[ ({{time}})]]. Sus códigos de recuperación anteriores ya no funcionan.',
        'Si no ha sido usted, cambie su contraseña y contacte con su administrador de inmediato.',
      ],
    },
    invite: {
      subject: 'Establezca su contraseña de {{title}}',
      body: [
        'Se ha creado una cuenta para usted en {{title}}. Para establecer su contraseña e iniciar sesión, abra este enlace:',
        '{{link}}',
        'El enlace solo funciona una vez y es válido durante {{lifetime}}.',
        'Si no esperaba esta invitación, puede ignorar este mensaje.',
      ],
    },
    recovery_link: {
      subject: 'Restablezca su segundo factor de {{title}}',
      body: [
        'Se ha solicitado restablecer el segundo factor de su cuenta de {{title}} por la pérdida del dispositivo. Para continuar, abra este enlace:',
        '{{link}}',
        'El enlace solo funciona una vez y es válido durante {{lifetime}}.',
        'Si no ha sido usted, ignore este mensaje y cambie su contraseña.',
      ],
    },
    operator_report: {
      subject: "{{title}}: {{user}} ha indicado que una actividad no era suya",
      body: [
        "{{user}} ha usado el enlace «No he sido yo» de un correo de seguridad[[ ({{time}})]][[ desde {{ip}}]].",
        "Se han cerrado todas las sesiones y conexiones abiertas del usuario, se han olvidado sus dispositivos de confianza y se han retirado los códigos y enlaces pendientes. La cuenta está bloqueada.",
        "Después de comprobarlo, desbloquéela con `portcullis users unlock {{user}}`, o deje que el usuario la recupere con su contraseña y un enlace enviado por correo.",
      ],
    },
  },
};
