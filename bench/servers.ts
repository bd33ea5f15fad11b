/**
 * The processes the benchmark races, each started as `node dist/bench/run.js --role <role> ...`
 * so every server has its own event loop (as in production), never the load generator's.
 *
 * The Node peers are unauthenticated reverse proxies as their users would write them: bare undici,
 * http-proxy, fastify + @fastify/http-proxy (undici inside) and express + http-proxy-middleware
 * (http-proxy inside), each with a keep-alive pool of 128 connections to the origin. All of them are
 * devDependencies: nothing here is part of the gateway.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyHttpProxy from '@fastify/http-proxy';
import express from 'express';
import Fastify from 'fastify';
import httpProxy from 'http-proxy';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { Pool } from 'undici';
import { WebSocketServer } from 'ws';
import { upstreamSchema } from '../src/config/schema/upstreams.js';
import { resolveClient } from '../src/http/client.js';
import { requestId } from '../src/http/request-id.js';
import { Proxy } from '../src/proxy/forward.js';
import { UpstreamRouter } from '../src/proxy/router.js';
import { NetworkSet } from '../src/util/net.js';

const KiB = Buffer.alloc(1024, 'x');
const STREAM_CHUNK = Buffer.alloc(64 * 1024, 'y');

/** The origin: 1 KiB for any path, N MiB streamed for /stream/N. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const m = /^\/stream\/(\d+)$/.exec(req.url ?? '');
  if (m) {
    const total = Number(m[1]) * 1024 * 1024;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += STREAM_CHUNK.length;
        if (!res.write(STREAM_CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': KiB.length });
  res.end(KiB);
}

const IDENTITY = Object.freeze(['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name']);
const COOKIES = Object.freeze(['portcullis_session', 'portcullis_device']);
const SET = Object.freeze({ 'Remote-User': 'bench' });

function portcullisProxy(target: string): http.RequestListener {
  const router = new UpstreamRouter([upstreamSchema.parse({ name: 'bench', url: target, max_connections: 128 })]);
  const proxy = new Proxy();
  const trusted = new NetworkSet([]);
  return (req, res) => {
    const client = resolveClient(req, trusted);
    const path = req.url ?? '/';
    const upstream = router.route(client.host, path);
    if (!upstream) {
      res.statusCode = 404;
      res.end();
      return;
    }
    proxy.web(req, res, { upstream, path: upstream.targetPath(path), requestId: requestId(req), client, setHeaders: SET, stripHeaders: IDENTITY, stripCookies: COOKIES });
  };
}

/** The smallest correct undici proxy: no header hygiene, just stream through. */
function bareUndici(target: string): http.RequestListener {
  const pool = new Pool(target, { connections: 128, pipelining: 1 });
  return (req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    delete headers.host;
    pool
      .stream({ path: req.url ?? '/', method: (req.method ?? 'GET'), headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, ({ statusCode, headers: h }) => {
        delete h.connection;
        delete h['keep-alive'];
        delete h['transfer-encoding'];
        res.writeHead(statusCode, h);
        return res;
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
  };
}

function bareHttpProxy(target: string): http.RequestListener {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const proxy = httpProxy.createProxyServer({ target, agent, xfwd: false });
  proxy.on('error', (_err, _req, res) => {
    if ('writeHead' in res && !res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  return (req, res) => proxy.web(req, res);
}

/** express + http-proxy-middleware, as its README shows it, with a keep-alive agent. */
function expressProxy(target: string): http.RequestListener {
  const app = express();
  app.use(createProxyMiddleware({ target, agent: new http.Agent({ keepAlive: true, maxSockets: 128 }) }));
  return app;
}

/** fastify + @fastify/http-proxy (reply-from on an undici Pool), listening on its own server. */
async function fastifyProxy(target: string): Promise<number> {
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  await app.register(fastifyHttpProxy, { upstream: target, undici: { connections: 128, pipelining: 1 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

/** Starts a role and prints `LISTENING <port>` for the parent. */
export async function runRole(role: string, target: string | undefined): Promise<void> {
  let handler: http.RequestListener;
  process.on('SIGTERM', () => process.exit(0));
  if (role === 'upstream') handler = upstreamHandler;
  else if (!target) throw new Error(`--target is required for ${role}`);
  else if (role === 'fastify') {
    process.stdout.write(`LISTENING ${await fastifyProxy(target)}\n`);
    return;
  } else if (role === 'portcullis-proxy') handler = portcullisProxy(target);
  else if (role === 'undici') handler = bareUndici(target);
  else if (role === 'http-proxy') handler = bareHttpProxy(target);
  else if (role === 'express') handler = expressProxy(target);
  else throw new Error(`unknown role ${role}`);
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  // The origin also echoes WebSockets at /ws (for the idle-WebSocket memory figure).
  if (role === 'upstream') new WebSocketServer({ server, path: '/ws', perMessageDeflate: false }).on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
}
