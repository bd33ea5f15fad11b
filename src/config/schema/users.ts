import { z } from 'zod';
import { duration } from './common.js';

export const ldapSchema = z.strictObject({
  url: z.string().regex(/^ldaps?:\/\//, "must start with 'ldap://' or 'ldaps://'"),
  start_tls: z.boolean().default(false),
  bind_dn: z.string().min(1),
  bind_password: z.string(),
  base_dn: z.string().min(1),
  user_filter: z.string().includes('{username}', { message: "must contain '{username}'" }).default('(&(objectClass=person)(uid={username}))'),
  group_filter: z.string().optional(),
  group_base_dn: z.string().optional(),
  /** Resolve nested Active Directory groups (LDAP_MATCHING_RULE_IN_CHAIN). */
  nested_groups: z.boolean().default(false),
  attributes: z
    .strictObject({
      username: z.string().default('uid'),
      email: z.string().default('mail'),
      phone: z.string().default('mobile'),
      display_name: z.string().default('displayName'),
      group_name: z.string().default('cn'),
      member_of: z.string().default('memberOf'),
    })
    .prefault({}),
  timeout: duration().prefault('5s'),
  tls: z.strictObject({ ca_file: z.string().optional(), insecure_skip_verify: z.boolean().default(false) }).prefault({}),
  pool_size: z.number().int().min(1).max(64).default(4),
});

export const usersSchema = z
  .strictObject({
    file: z.string().optional(),
    ldap: ldapSchema.optional(),
    /** Password verification runs off the event loop; these bound the work queue. */
    hashing: z
      .strictObject({
        /** `auto`: one fewer than the cores (at least 1), so hashing under a flood leaves a core to the proxy. */
        concurrency: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
        queue: z.number().int().min(1).max(100_000).default(64),
      })
      .prefault({}),
    /** `portcullis users invite`: lifetime of the one-time set-password link. */
    invite_ttl: duration().prefault('7d'),
  })
  .prefault({});

export const regulationSchema = z
  .strictObject({
    /** Wrong passwords per user within `window` before sign-in answers 429. */
    max_failures: z.number().int().min(1).default(5),
    /** Wrong passwords per client address within `window`. */
    max_failures_per_client: z.number().int().min(1).default(20),
    window: duration().prefault('10m'),
    block: duration().prefault('5m'),
  })
  .prefault({});
