import http from 'node:http';
import type { Gateway } from './runtime.js';

/** `/metrics`, `/healthz`, `/readyz` — on the admin listener only, never the public one. */
export function createAdminServer(gw: () => Gateway | undefined): http.Server {
  const server = http.createServer((req, res) => void answer(req, res));
  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const g = gw();
    try {
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"status":"ok"}');
      }
      if (path === '/readyz') {
        if (!g) {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end('{"status":"starting"}');
        }
        if (g.draining) {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end('{"status":"draining"}');
        }
        // Identity providers are reported, not required: one that is down takes away its button, not the
        // gateway (sessions, passwords and the other providers keep working).
        const health = g.core.identityProviders.health();
        const providers = Object.keys(health).length ? { identity_providers: Object.fromEntries(Object.entries(health).map(([name, h]) => [name, h.status])) } : {};
        try {
          await g.core.store.ping();
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ status: 'ready', store: 'ok', config: 'loaded', ...providers }));
        } catch {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ status: 'not_ready', store: 'unreachable', config: 'loaded', ...providers }));
        }
      }
      if (path === '/metrics' && g) {
        const body = await g.core.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': g.core.metrics.registry.contentType });
        return void res.end(body);
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal"}');
    }
  }
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  return server;
}
