import type { Catalog } from './types.js';

export const en: Catalog = {
  lang: 'en',
  units: {
    minute: { one: 'minute', other: 'minutes' },
    hour: { one: 'hour', other: 'hours' },
    day: { one: 'day', other: 'days' },
  },
  greeting: 'Hello {{name}},',
  footer: 'This message was sent automatically by {{title}}. Please do not reply.',
  methods: {
    totp: 'authenticator app',
    email: 'code by email',
    sms: 'code by text message (SMS)',
    webauthn: 'passkey or security key',
    recovery_code: 'recovery codes',
  },
  changes: {
    added: 'Added: {{method}}.',
    removed: 'Removed: {{method}}.',
    disabled: 'Two-step verification was turned off.',
    reset: 'Two-step verification was reset: you will set it up again at your next sign-in.',
  },
  messages: {
    code: {
      subject: 'Your {{title}} sign-in code',
      body: [
        'Your sign-in code for {{title}} is:',
        '{{code}}',
        'It is valid for {{lifetime}}. Never share this code with anyone.',
        "If you didn't try to sign in, someone may know your password: change your password now.",
      ],
      sms: '{{code}} is your {{title}} sign-in code, valid for {{lifetime}}. Not you? Change your password.',
    },
    verify_destination: {
      subject: 'Confirm your {{title}} contact details',
      body: [
        'Enter this code to confirm {{destination}} for {{title}}:',
        '{{code}}',
        'It is valid for {{lifetime}}.',
        "If you didn't ask for this, ignore this message and change your password.",
      ],
      sms: '{{code}} is your {{title}} code to confirm this phone number, valid for {{lifetime}}.',
    },
    locked: {
      subject: 'Your {{title}} account has been locked',
      body: [
        'Your {{title}} account was locked after too many wrong verification codes.',
        '[[When: {{time}}.]][[ From the address {{ip}}.]][[ Browser or app: {{device}}.]]',
        "If this was you, ask your administrator to unlock it. If it wasn't, someone knows your password: change it as soon as the account is unlocked.",
      ],
      sms: 'Your {{title}} account was locked after too many wrong codes. Contact your administrator.',
    },
    new_device: {
      subject: 'New sign-in to {{title}}',
      body: [
        'Your {{title}} account was just used to sign in from a new device[[: {{device}}]][[ ({{ip}})]][[, {{time}}]].',
        "If this was you, there is nothing to do. If it wasn't, change your password and remove the device on your account page.",
        "[[If this wasn't you, open this link to sign out everywhere, forget your trusted devices and lock your account until it is recovered: {{report_link}}]]",
      ],
    },
    factor_changed: {
      subject: 'Your {{title}} second factor was changed',
      body: [
        'The second factor of your {{title}} account was changed[[ ({{time}})]].[[ {{what}}]]',
        "If you didn't make this change, change your password and contact your administrator immediately.",
        "[[If this wasn't you, open this link to sign out everywhere, forget your trusted devices and lock your account until it is recovered: {{report_link}}]]",
      ],
    },
    recovery_code_used: {
      subject: 'A {{title}} recovery code was used',
      body: [
        'A recovery code was used to sign in to your {{title}} account[[ ({{time}})]].[[ Recovery codes left: {{remaining}}.]]',
        "If this wasn't you, change your password and contact your administrator immediately.",
      ],
    },
    new_recovery_codes: {
      subject: 'New {{title}} recovery codes were created',
      body: [
        'New recovery codes were created for your {{title}} account[[ ({{time}})]]. Your earlier recovery codes no longer work.',
        'If you didn\'t do this, change your password and contact your administrator immediately.',
      ],
    },
    invite: {
      subject: 'Set your {{title}} password',
      body: [
        'An account has been created for you on {{title}}. To set your password and sign in, open this link:',
        '{{link}}',
        'The link works once and is valid for {{lifetime}}.',
        "If you weren't expecting this invitation, you can ignore this message.",
      ],
    },
    recovery_link: {
      subject: 'Reset your {{title}} second factor',
      body: [
        'Someone asked to reset the second factor of your {{title}} account because the device was lost. To continue, open this link:',
        '{{link}}',
        'The link works once and is valid for {{lifetime}}.',
        "If this wasn't you, ignore this message and change your password.",
      ],
    },
    operator_report: {
      subject: "{{title}}: {{user}} reported activity as not theirs",
      body: [
        "{{user}} used the \"this wasn't me\" link in a security email[[ ({{time}})]][[ from {{ip}}]].",
        "All of the user's sessions and open connections were ended, their trusted devices forgotten and outstanding codes and links withdrawn. The account is locked.",
        "Once you have checked, unlock it with `portcullis users unlock {{user}}`, or let the user recover it with their password and an emailed reset link.",
      ],
    },
  },
};
