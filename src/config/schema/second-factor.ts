import { z } from 'zod';
import { duration } from './common.js';

export const FACTOR_METHODS = ['totp', 'email', 'sms', 'webauthn', 'recovery_code'] as const;
export const factorMethod = z.enum(FACTOR_METHODS);
export type FactorMethod = z.infer<typeof factorMethod>;

export const CODE_CHARSETS = ['digits', 'letters', 'alphanumeric', 'alphanumeric_mixed_case'] as const;
export const NOTIFY_EVENTS = ['new_device', 'factor_changed', 'recovery_code_used', 'locked'] as const;

const assignment = z
  .strictObject({ user: z.string().min(1).optional(), group: z.string().min(1).optional(), method: factorMethod })
  .refine((a) => (a.user === undefined) !== (a.group === undefined), { message: 'set exactly one of user or group' });

export const secondFactorSchema = z
  .strictObject({
    policy: z.enum(['required', 'optional', 'off']).default('required'),
    methods: z.array(factorMethod).min(1).default([...FACTOR_METHODS]),
    code: z
      .strictObject({
        length: z.number().int().min(4).max(12).default(6),
        charset: z.enum(CODE_CHARSETS).default('digits'),
        ttl: duration().prefault('5m'),
        max_attempts: z.number().int().min(1).max(20).default(3),
        resend_after: duration().prefault('30s'),
      })
      .prefault({}),
    totp: z
      .strictObject({
        issuer: z.string().min(1).default('Portcullis'),
        algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).default('SHA1'),
        digits: z.union([z.literal(6), z.literal(8)]).default(6),
        period: duration().prefault('30s'),
        skew: z.number().int().min(0).max(3).default(1),
      })
      .prefault({}),
    webauthn: z
      .strictObject({
        rp_id: z.string().optional(),
        rp_name: z.string().default('Portcullis'),
        user_verification: z.enum(['required', 'preferred', 'discouraged']).default('preferred'),
        timeout: duration().prefault('2m'),
      })
      .prefault({}),
    recovery_codes: z.strictObject({ count: z.number().int().min(4).max(32).default(10) }).prefault({}),
    /** Lost second factor: a one-time reset link by email (seed 004). */
    recovery: z.strictObject({ email_reset: z.boolean().default(true), link_ttl: duration().prefault('30m') }).prefault({}),
    /** "This wasn't me" links in the new-device and factor-changed emails (issue 16; README "Revocation and 'This wasn't me'"). */
    report: z.strictObject({ enabled: z.boolean().default(true), link_ttl: duration().prefault('24h') }).prefault({}),
    /** Addresses told by email when a user reports "this wasn't me" (SPEC §2). */
    notify_operators: z.array(z.string().regex(/^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/, 'must be an email address')).default([]),
    /**
     * App passwords for legacy mobile apps that can only send a username and password (HTTP Basic or
     * the JSON API's login with `app_password: true`): accepted only by rules with `app_passwords: true`.
     */
    app_passwords: z
      .strictObject({
        enabled: z.boolean().default(false),
        max_per_user: z.number().int().min(1).max(50).default(10),
        /** An app password ends this long after it was made; 0 = never (it still ends with the password). */
        lifetime: duration().prefault('365d'),
      })
      .prefault({}),
    /**
     * Changes to the user's own credentials (add or remove a method, a destination, new recovery codes,
     * forget devices, end sessions, app passwords) need a second factor younger than this; 0 = off.
     */
    sensitive_action_age: duration().prefault('5m'),
    trusted_devices: z.strictObject({ enabled: z.boolean().default(true), lifetime: duration().prefault('30d') }).prefault({}),
    lockout: z
      .strictObject({
        max_failures: z.number().int().min(1).max(100).default(4),
        window: duration().prefault('15m'),
        duration: duration().prefault(0),
        notify: z.boolean().default(true),
      })
      .prefault({}),
    notify_user: z.array(z.enum(NOTIFY_EVENTS)).default([...NOTIFY_EVENTS]),
    assignments: z.array(assignment).default([]),
  })
  .prefault({});
