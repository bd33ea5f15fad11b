import { z } from 'zod';
import { cidr, duration, httpUrl, listenAddress, originUrl } from './common.js';

export const serverSchema = z
  .strictObject({
    listen: listenAddress().default('0.0.0.0:8080'),
    tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).optional(),
    /** Used in emails and redirects; a list when several hosts are served. */
    public_url: z.union([httpUrl(), z.array(httpUrl()).min(1)]).optional(),
    trusted_proxies: z.array(cidr()).default([]),
    /**
     * Origins (`scheme://host[:port]`) besides those the gateway serves from which a browser may send a
     * cookie-authenticated state-changing request or WebSocket handshake (SPEC §3).
     */
    allowed_origins: z.array(originUrl()).default([]),
    /** `X-Request-Id` on every answer (the id in the logs; error answers always carry it). */
    expose_request_id: z.boolean().default(true),
    /** Strict-Transport-Security on every answer when the portal is HTTPS (TLS listener or https public_url); 0 = off. */
    hsts: z
      .strictObject({
        max_age: duration().prefault('365d'),
        include_subdomains: z.boolean().default(false),
      })
      .prefault({}),
    /**
     * Request headers removed before any request reaches an upstream, bypass routes included: method and
     * URL overrides that an upstream framework may honour (a GET let through by a rule becomes a DELETE).
     */
    strip_request_headers: z
      .array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a header name'))
      .default(['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url', 'x-rewrite-url']),
    portal_prefix: z
      .string()
      .regex(/^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/, "must be a path such as '/_gateway' (no trailing slash)")
      .default('/_gateway'),
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default(1),
    /** Reload the config when the file changes (SIGHUP always reloads). */
    watch_config: z.boolean().default(false),
    limits: z
      .strictObject({
        max_header_size: z.number().int().min(1024).max(1_048_576).default(16_384),
        header_timeout: duration().prefault('10s'),
        request_timeout: duration().prefault(0),
        keep_alive_timeout: duration().prefault('65s'),
        max_form_body: z.number().int().min(1024).max(10_485_760).default(65_536),
        /** Open WebSockets per client address across all upstreams (beside each upstream's max_connections). */
        max_websockets_per_client: z.number().int().min(1).max(65_536).default(256),
      })
      .prefault({}),
    shutdown_timeout: duration().prefault('30s'),
    /**
     * While draining, an idle keep-alive connection is kept this long (within shutdown_timeout) so that the
     * client's next request on it is answered (with `Connection: close`) instead of racing the close; 0
     * closes idle connections as the drain begins.
     */
    shutdown_keepalive_grace: duration().prefault('3s'),
  })
  .prefault({});

export const adminSchema = z
  .strictObject({
    /** Metrics, /healthz and /readyz; empty string disables the admin listener. */
    listen: z.union([listenAddress(), z.literal('')]).default('127.0.0.1:9090'),
  })
  .prefault({});
