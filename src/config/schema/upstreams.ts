import { z } from 'zod';
import { duration, httpUrl } from './common.js';

export const upstreamSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, ., _ or -'),
  url: httpUrl(),
  match: z
    .strictObject({
      hosts: z.array(z.string().min(1)).default([]),
      path_prefix: z.string().startsWith('/').default('/'),
    })
    .prefault({}),
  /** Remove `match.path_prefix` before forwarding. */
  strip_prefix: z.boolean().default(false),
  /** Send the client's Host header upstream instead of the upstream URL's host. */
  preserve_host: z.boolean().default(false),
  websocket: z.boolean().default(true),
  timeouts: z
    .strictObject({
      connect: duration().prefault('5s'),
      response_headers: duration().prefault('60s'),
      /** Longest silence on an open response body or WebSocket; 0 = none (long video streams). */
      idle: duration().prefault(0),
    })
    .prefault({}),
  max_connections: z.number().int().min(1).max(65_536).default(256),
});
export type UpstreamConfig = z.infer<typeof upstreamSchema>;

export const upstreamsSchema = z.array(upstreamSchema).default([]);
