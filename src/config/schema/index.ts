import { z } from 'zod';
import { accessSchema } from './access.js';
import { apiClientsSchema } from './api-clients.js';
import { deliverySchema } from './delivery.js';
import { identityProvidersSchema } from './identity-providers.js';
import { identitySchema, loggingSchema, portalSchema } from './misc.js';
import { secondFactorSchema } from './second-factor.js';
import { adminSchema, serverSchema } from './server.js';
import { sessionSchema } from './session.js';
import { upstreamsSchema } from './upstreams.js';
import { regulationSchema, usersSchema } from './users.js';

/** The whole `gateway.yaml`. The TypeScript type is derived from this, so the two cannot drift. */
export const configSchema = z.strictObject({
  server: serverSchema,
  admin: adminSchema,
  session: sessionSchema,
  users: usersSchema,
  identity_providers: identityProvidersSchema,
  regulation: regulationSchema,
  second_factor: secondFactorSchema,
  delivery: deliverySchema,
  upstreams: upstreamsSchema,
  access: accessSchema,
  api_clients: apiClientsSchema,
  identity: identitySchema,
  portal: portalSchema,
  logging: loggingSchema,
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export { FACTOR_METHODS, type FactorMethod } from './second-factor.js';
export { POLICIES, type Policy, type RuleConfig } from './access.js';
export type { UpstreamConfig } from './upstreams.js';
export type { ApiClientConfig } from './api-clients.js';
export type { IdentityProviderConfig } from './identity-providers.js';
