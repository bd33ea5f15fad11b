import { z } from 'zod';
import { isLoopbackHost } from '../../util/net.js';
import { duration, stringList } from './common.js';

/** Signing algorithms a `private_key_jwt` client assertion may use. */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/**
 * An OpenID Provider's issuer: `https://`, or `http://` on a loopback address only (a provider on this
 * machine, tests). No query, fragment or credentials: discovery appends `/.well-known/openid-configuration`.
 */
const issuer = () =>
  z.string().superRefine((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be the provider's issuer URL (https://...) but it's configured as '${v}'` });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: `must be an https:// URL but it's configured as '${v}'` });
    else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) ctx.addIssue({ code: 'custom', message: `must be an https:// URL (http:// is accepted only on a loopback address such as 127.0.0.1) but it's configured as '${v}'` });
    else if (url.search || url.hash || url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry a query, a fragment or credentials' });
  });

/** An OAuth scope token (RFC 6749 §3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be a scope name without spaces or quotes');
/** A claim name in the ID token or the UserInfo answer. */
const claim = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'must be a claim name');

export const identityProviderSchema = z
  .strictObject({
    /** Used in paths (`/_gateway/oidc/NAME/...`) and, for `users: claims`, in user names (`NAME:alice`). */
    name: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 lower-case letters, digits or -'),
    /** The button's label (default: the name). */
    display_name: z.string().min(1).max(64).optional(),
    issuer: issuer(),
    client_id: z.string().min(1).max(512),
    client_secret: z.string().min(1).optional(),
    private_key_jwt: z
      .strictObject({
        key_file: z.string().min(1),
        alg: z.enum(CLIENT_ASSERTION_ALGS).optional(),
        kid: z.string().min(1).max(256).optional(),
      })
      .optional(),
    /** How the client authenticates at the token endpoint (default: private_key_jwt with a key, else what the provider lists, basic first). */
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
    scopes: z.array(scope).min(1).default(['openid', 'email', 'profile']),
    claims: z
      .strictObject({
        username: claim.default('preferred_username'),
        email: claim.default('email'),
        display_name: claim.default('name'),
        groups: claim.default('groups'),
        phone: claim.default('phone_number'),
      })
      .prefault({}),
    /** `directory`: the username must be a user of users.file / users.ldap; `claims`: a user made from the claims. */
    users: z.enum(['directory', 'claims']).default('directory'),
    /** Non-empty: only members of one of these groups (from the groups claim) may sign in. */
    allowed_groups: stringList().default([]),
    /** `required`: Portcullis' own second step follows; `trust_idp_mfa`: skipped when the ID token shows MFA. */
    second_factor: z.enum(['required', 'trust_idp_mfa']).default('required'),
    /** `acr` values that count as multi-factor for `trust_idp_mfa`. */
    mfa_acr_values: stringList().default([]),
    /** At logout, send the browser on to the provider's end_session_endpoint. */
    end_session: z.boolean().default(false),
    /** Each request to the provider (discovery, token, keys, userinfo) gives up after this. */
    timeout: duration().prefault('10s'),
  })
  .superRefine((p, ctx) => {
    if (!p.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: "must include 'openid'" });
    if (p.client_secret !== undefined && p.private_key_jwt !== undefined) ctx.addIssue({ code: 'custom', path: ['private_key_jwt'], message: 'set either client_secret or private_key_jwt, not both' });
    if (p.client_secret === undefined && p.private_key_jwt === undefined) ctx.addIssue({ code: 'custom', message: 'needs client_secret (or client_secret_file) or private_key_jwt' });
    const method = p.token_endpoint_auth_method;
    if (method === 'private_key_jwt' && p.private_key_jwt === undefined) ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: 'private_key_jwt needs the private_key_jwt key' });
    if ((method === 'client_secret_basic' || method === 'client_secret_post') && p.client_secret === undefined) ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: `${method} needs client_secret` });
    if (p.timeout <= 0) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be longer than 0' });
  });

export type IdentityProviderConfig = z.infer<typeof identityProviderSchema>;

export const identityProvidersSchema = z.array(identityProviderSchema).default([]);
