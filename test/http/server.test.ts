import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { createHttpServer, drain, type HttpServerOptions } from '../../src/http/server.js';
import { startGateway, startUpstream, upstream } from '../proxy/harness.js';

const base: HttpServerOptions = { maxHeaderSize: 2048, headerTimeout: 400, requestTimeout: 0, keepAliveTimeout: 5000 };

async function start(t: { teardown(fn: () => unknown): void }, handler: http.RequestListener, opts: Partial<HttpServerOptions> = {}): Promise<{ server: http.Server; port: number }> {
  const server = createHttpServer({ ...base, ...opts }, handler) as http.Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (c) => (data += c.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(data));
    sock.write(text);
  });
}

void t.test('oversized request headers answer 431', async (t) => {
  const { port } = await start(t, (_req, res) => res.end('ok'));
  const answer = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  t.match(answer, /^HTTP\/1\.1 431 /);
  t.match(answer, /headers_too_large/);
  const ok = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(ok, /^HTTP\/1\.1 200/);
});

void t.test('malformed requests answer 400', async (t) => {
  const { port } = await start(t, (_req, res) => res.end('ok'));
  t.match(await raw(port, 'NONSENSE\r\n\r\n'), /^HTTP\/1\.1 400 /);
});

void t.test('a client that drips its headers is cut off after headerTimeout', async (t) => {
  let handled = 0;
  const { port } = await start(t, (_req, res) => {
    handled++;
    res.end('ok');
  });
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  let data = '';
  sock.on('data', (c) => (data += c.toString()));
  sock.write('GET / HTTP/1.1\r\n');
  const drip = setInterval(() => {
    if (!sock.destroyed) sock.write('X-A: b\r\n');
  }, 50);
  await new Promise((r) => sock.once('close', r));
  clearInterval(drip);
  t.equal(handled, 0, 'the request never reached the handler');
  t.match(data, /^(HTTP\/1\.1 408 |)/, 'answered 408 or closed');
});

void t.test('drain: idle keep-alive closed, in-flight request finishes, new connections refused', async (t) => {
  let release: () => void = () => undefined;
  const { server, port } = await start(t, (req, res) => {
    if (req.url === '/slow') release = () => res.end('finished');
    else res.end('quick');
  });
  const idle = net.connect(port, '127.0.0.1');
  idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => idle.once('data', r));
  const idleClosed = new Promise((r) => idle.once('close', r));
  const slow = request(`http://127.0.0.1:${port}/slow`);
  await new Promise((r) => setTimeout(r, 50));
  const drained = drain(server, 5000);
  await idleClosed;
  t.pass('idle keep-alive connection closed at once');
  const refused = await request(`http://127.0.0.1:${port}/`).then(
    () => false,
    () => true,
  );
  t.ok(refused, 'no new connections');
  release();
  const res = await slow;
  t.equal(await res.body.text(), 'finished');
  t.equal(res.headers.connection, 'close');
  await drained;
  t.notOk(server.listening);
});

void t.test('drain with a long stream in flight: bounded, the stream is closed cleanly', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    const timer = setInterval(() => res.write('--frame\r\n\r\nx\r\n'), 20);
    res.on('close', () => clearInterval(timer));
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/stream`);
  t.equal(res.statusCode, 200);
  const reading = res.body.text().then(
    () => 'ended',
    () => 'closed',
  );
  await drain(gw.server, 300);
  t.notOk(gw.server.listening);
  t.ok(['ended', 'closed'].includes(await reading), 'the client stream ended');
});

void t.test('drain of an idle server resolves at once', async (t) => {
  const { server } = await start(t, (_req, res) => res.end());
  await drain(server, 10_000);
  t.notOk(server.listening);
});

void t.test('TLS: the server speaks HTTPS and the client is seen as https', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { Agent } = await import('undici');
  const { resolveClient } = await import('../../src/http/client.js');
  const { NetworkSet } = await import('../../src/util/net.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const none = new NetworkSet([]);
  const { port } = await start(t, (req, res) => res.end(resolveClient(req, none).proto), { tls: { cert: readFileSync(`${dir}/cert.pem`), key: readFileSync(`${dir}/key.pem`) } });
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  t.teardown(() => agent.close());
  const res = await request(`https://127.0.0.1:${port}/`, { dispatcher: agent });
  t.equal(await res.body.text(), 'https');
});
