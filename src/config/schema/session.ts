import { z } from 'zod';
import { duration } from './common.js';

const hostPort = () => z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, "must be 'host:port'");
const secret = () =>
  z.string().refine((v) => Buffer.byteLength(v) >= 32, { message: 'must be at least 32 bytes long (generate one with `openssl rand -base64 48`)' });

export const redisSchema = z
  .strictObject({
    url: z.string().regex(/^rediss?:\/\//, "must start with 'redis://' or 'rediss://'").default('redis://127.0.0.1:6379/0'),
    password: z.string().optional(),
    sentinel: z
      .strictObject({
        master_name: z.string().min(1),
        nodes: z.array(hostPort()).min(1),
        password: z.string().optional(),
        sentinel_password: z.string().optional(),
      })
      .optional(),
    cluster: z.strictObject({ nodes: z.array(hostPort()).min(1), password: z.string().optional() }).optional(),
    key_prefix: z.string().default('portcullis:'),
    connect_timeout: duration().prefault('5s'),
    command_timeout: duration().prefault('2s'),
  })
  .refine((r) => !(r.sentinel && r.cluster), { message: 'set either sentinel or cluster, not both' })
  .prefault({});

export const sessionSchema = z
  .strictObject({
    store: z.enum(['redis', 'memory']).default('redis'),
    redis: redisSchema,
    secret: secret().optional(),
    /** [new, old, ...]: the first signs, all verify. */
    secrets: z.array(secret()).min(1).optional(),
    cookie: z
      .strictObject({
        name: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('portcullis_session'),
        device_name: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('portcullis_device'),
        domain: z.string().default(''),
        secure: z.union([z.literal('auto'), z.boolean()]).default('auto'),
        same_site: z.enum(['lax', 'strict', 'none']).default('lax'),
        /**
         * The `__Host-` name prefix (browsers then accept the cookie only Secure, host-only, Path=/, so a
         * sibling subdomain cannot plant or shadow it): auto = on when `domain` is empty, `secure` is not
         * false and the portal is HTTPS (`public_url` https or a TLS listener).
         */
        host_prefix: z.union([z.literal('auto'), z.boolean()]).default('auto'),
      })
      .refine((c) => c.host_prefix !== true || (c.domain === '' && c.secure !== false), {
        error: 'host_prefix: true needs an empty domain and secure not false (browsers refuse a __Host- cookie otherwise)',
        path: ['host_prefix'],
      })
      .prefault({}),
    lifetime: duration().prefault('12h'),
    idle_timeout: duration().prefault(0),
    reverify_grace: duration().prefault('3m'),
    /** How long a verified session may be served from the in-process cache (revocations are pushed). */
    cache_ttl: duration().prefault('1s'),
  })
  .superRefine((s, ctx) => {
    if (!s.secret && !s.secrets) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'is required (>= 32 bytes); use ${SESSION_SECRET} or secret_file' });
    if (s.lifetime <= 0) ctx.addIssue({ code: 'custom', path: ['lifetime'], message: 'must be greater than 0' });
  })
  .prefault({});
