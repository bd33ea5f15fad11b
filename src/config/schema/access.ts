import { z } from 'zod';
import { cidr, duration } from './common.js';
import { factorMethod } from './second-factor.js';

export const POLICIES = ['bypass', 'one_factor', 'two_factor', 'deny'] as const;
export const policy = z.enum(POLICIES);
export type Policy = z.infer<typeof policy>;

export const ruleSchema = z.strictObject({
  hosts: z.array(z.string().min(1)).optional(),
  paths: z.array(z.string().startsWith('/', { message: "must start with '/'" })).optional(),
  methods: z.array(z.string().regex(/^[A-Za-z]+$/).transform((m) => m.toUpperCase())).optional(),
  networks: z.array(cidr()).optional(),
  users: z.array(z.string().min(1)).optional(),
  groups: z.array(z.string().min(1)).optional(),
  policy,
  /** Step-up: the second factor must be younger than this. */
  max_auth_age: duration().optional(),
  /**
   * Step-up that knows the factor: the session's second factor must have been one of these methods
   * (within `max_auth_age` when that is set too); a session verified another way is asked for one.
   */
  require_factor: z.array(factorMethod).min(1).optional(),
  /** A user's app password (HTTP Basic, or a token from the API login with `app_password: true`) also passes here. */
  app_passwords: z.boolean().optional(),
});
export type RuleConfig = z.infer<typeof ruleSchema>;

export const accessSchema = z
  .strictObject({
    default_policy: policy.default('two_factor'),
    /** Match rule paths without regard to case (for upstreams that do, such as IIS). */
    case_insensitive_paths: z.boolean().default(false),
    rules: z.array(ruleSchema).default([]),
  })
  .prefault({});
