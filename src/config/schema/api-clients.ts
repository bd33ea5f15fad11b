import { z } from 'zod';
import { cidr, duration, httpUrl } from './common.js';

const hex256 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-character hex SHA-256 of the key');

export const apiClientSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.@-]+$/, 'must be letters, digits, ., _, @ or -'),
    api_key: z
      .strictObject({
        header: z.string().regex(/^[A-Za-z0-9-]+$/).default('X-API-Key'),
        /** One digest, or several while keys are rotated. */
        sha256: z.union([hex256, z.array(hex256).min(1)]),
      })
      .optional(),
    bearer_jwt: z
      .strictObject({
        jwks_url: httpUrl().optional(),
        jwks_file: z.string().optional(),
        secret: z.string().min(32, 'must be at least 32 characters for HS256').optional(),
        issuer: z.string().optional(),
        audience: z.union([z.string(), z.array(z.string())]).optional(),
        algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256'])).optional(),
        leeway: duration().prefault('30s'),
        subject_claim: z.string().default('sub'),
      })
      .refine((j) => [j.jwks_url, j.jwks_file, j.secret].filter((x) => x !== undefined).length === 1, { message: 'set exactly one of jwks_url, jwks_file or secret' })
      .optional(),
    basic: z.strictObject({ users: z.array(z.string().min(1)).min(1), cache_ttl: duration().prefault('60s') }).optional(),
    networks: z.array(cidr()).optional(),
    upstreams: z.array(z.string()).optional(),
    /** Forward the credential header upstream (removed by default). */
    keep_credential: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const kinds = [c.api_key, c.bearer_jwt, c.basic].filter((x) => x !== undefined).length;
    if (kinds > 1) ctx.addIssue({ code: 'custom', message: 'set one credential kind (api_key, bearer_jwt or basic) per client' });
    if (kinds === 0 && !c.networks?.length) ctx.addIssue({ code: 'custom', message: 'needs a credential (api_key, bearer_jwt, basic) or networks' });
  });
export type ApiClientConfig = z.infer<typeof apiClientSchema>;

export const apiClientsSchema = z.array(apiClientSchema).default([]);
