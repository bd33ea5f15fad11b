import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { upstreamSchema, type UpstreamConfig } from '../../src/config/schema/upstreams.js';
import { resolveClient } from '../../src/http/client.js';
import { requestId } from '../../src/http/request-id.js';
import { sendError } from '../../src/http/respond.js';
import { createHttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { Proxy } from '../../src/proxy/forward.js';
import { UpstreamRouter } from '../../src/proxy/router.js';
import { NetworkSet } from '../../src/util/net.js';

/** The identity header names the gateway owns (as configured by default). */
export const IDENTITY = Object.freeze(['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name', 'X-Portcullis-Assertion']);
export const STRIP_COOKIES = Object.freeze(['portcullis_session', 'portcullis_device']);

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function upstream(input: Record<string, unknown>): UpstreamConfig {
  return upstreamSchema.parse({ name: 'app', ...input });
}

export interface TestGateway {
  url: string;
  port: number;
  server: http.Server;
  proxy: Proxy;
  router: UpstreamRouter;
  done: number[];
}

/** A minimal gateway: route, then proxy with fixed identity headers — what the lead's pipeline does after deciding. */
export async function startGateway(
  t: Teardown,
  upstreams: UpstreamConfig[],
  opts: { trusted?: string[]; setHeaders?: Record<string, string>; server?: Partial<HttpServerOptions> } = {},
): Promise<TestGateway> {
  const router = new UpstreamRouter(upstreams);
  const proxy = new Proxy();
  const trusted = new NetworkSet(opts.trusted ?? []);
  const done: number[] = [];
  const setHeaders = opts.setHeaders ?? { 'Remote-User': 'alice', 'Remote-Groups': 'operators,admins' };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const id = requestId(req);
    const client = resolveClient(req, trusted);
    const path = req.url ?? '/';
    const up = router.route(client.host, path);
    if (!up) {
      sendError(req, res, 404, 'not_found', 'No application here', id);
      return;
    }
    proxy.web(req, res, { upstream: up, path: up.targetPath(path), requestId: id, client, setHeaders, stripHeaders: IDENTITY, stripCookies: STRIP_COOKIES, onDone: (s) => done.push(s) });
  };
  const server = createHttpServer(
    { maxHeaderSize: 16_384, headerTimeout: 10_000, requestTimeout: 0, keepAliveTimeout: 5_000, ...opts.server },
    onRequest,
    (req, socket, head) => {
      const id = requestId(req);
      const client = resolveClient(req, trusted);
      const path = req.url ?? '/';
      const up = router.route(client.host, path);
      if (!up) {
        socket.destroy();
        return;
      }
      proxy.upgrade(req, socket, head, { upstream: up, path: up.targetPath(path), requestId: id, client, setHeaders, stripHeaders: IDENTITY, stripCookies: STRIP_COOKIES });
    },
  ) as http.Server;
  await listen(server);
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await proxy.close();
    await router.close();
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, proxy, router, done };
}

export async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A plain upstream server on a free port, closed in teardown. */
export async function startUpstream(t: Teardown, handler: http.RequestListener): Promise<{ url: string; port: number; server: http.Server }> {
  const server = http.createServer(handler);
  const port = await listen(server);
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${port}`, port, server };
}

/** A loopback port with nothing listening. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}
