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
        try {
          await g.core.store.ping();
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ status: 'ready', store: 'ok', config: 'loaded' }));
        } catch {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ status: 'not_ready', store: 'unreachable', config: 'loaded' }));
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
