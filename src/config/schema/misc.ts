import { z } from 'zod';
import { duration, httpUrl } from './common.js';

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name');

export const identitySchema = z
  .strictObject({
    headers: z
      .strictObject({
        // Each header may be renamed or turned off with `false` (client copies of the default name are
        // still removed: an upstream that trusts Remote-Email must never receive a client's).
        user: headerName.or(z.literal(false)).default('Remote-User'),
        groups: headerName.or(z.literal(false)).default('Remote-Groups'),
        email: headerName.or(z.literal(false)).default('Remote-Email'),
        name: headerName.or(z.literal(false)).default('Remote-Name'),
        /** How the caller authenticated: `session`, `oidc:NAME` (a session begun at identity provider NAME), `api_key`, `bearer_jwt`, `basic` or `network`. */
        method: headerName.or(z.literal(false)).default('Remote-Auth-Method'),
      })
      .prefault({}),
    jwt_assertion: z
      .strictObject({
        header: headerName.default('X-Portcullis-Assertion'),
        private_key_file: z.string().min(1),
        algorithm: z.enum(['ES256', 'EdDSA']).optional(),
        ttl: duration().prefault('60s'),
        audience: z.string().optional(),
      })
      .optional(),
  })
  .prefault({});

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'nl', 'ru'] as const;

export const portalSchema = z
  .strictObject({
    title: z.string().min(1).default('Portcullis'),
    languages: z.array(z.enum(LANGUAGES)).min(1).default([...LANGUAGES]),
    /** Where a signed-in user lands when `rd` is missing or refused. */
    default_redirect: z.string().startsWith('/').default('/'),
    /** The portal's look: shown in the top bar and on the sign-in card, and the name in emails. */
    branding: z
      .strictObject({
        /** The product's name on every page and in every email (default: `title`). */
        product_name: z.string().min(1).max(80).optional(),
        /** An SVG, PNG, JPEG or WebP image (at most 256 KiB), shown at 32 px high. */
        logo_file: z
          .string()
          .min(1)
          .regex(/\.(svg|png|jpe?g|webp)$/i, 'must be an .svg, .png, .jpg or .webp file')
          .optional(),
        /** Buttons, links and focus rings, as `#rrggbb`. */
        accent_color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, "must be a colour written as '#rrggbb' (for example '#1f5fbf')")
          .optional(),
        /** A "Help" link in the top bar: your support page (http or https). */
        help_url: httpUrl().optional(),
      })
      .prefault({}),
    /** Show the username and password form on the sign-in page (false: identity provider buttons only). */
    password_form: z.boolean().default(true),
  })
  .prefault({});

/** The product's name as pages and emails show it: `portal.branding.product_name`, else `portal.title`. */
export function productName(portal: { title: string; branding: { product_name?: string | undefined } }): string {
  return portal.branding.product_name ?? portal.title;
}

export const loggingSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  })
  .prefault({});
