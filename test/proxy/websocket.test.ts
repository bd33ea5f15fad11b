import http from 'node:http';
import { wsText } from '../fixtures/ws-text.js';
import net from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { closedPort, listen, startGateway, upstream } from './harness.js';

async function wsUpstream(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const server = http.createServer((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ noServer: true });
  const seen: http.IncomingHttpHeaders[] = [];
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope');
      return;
    }
    seen.push(req.headers);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      ws.send('hello from upstream');
      ws.on('message', (m) => ws.send(`echo:${wsText(m)}`));
    });
  });
  const port = await listen(server);
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${port}`, seen };
}

function open(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: string[]; next: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: string[] = [];
    const waiters: Array<(m: string) => void> = [];
    ws.on('message', (m) => {
      const text = wsText(m);
      const w = waiters.shift();
      if (w) w(text);
      else messages.push(text);
    });
    const next = (): Promise<string> => {
      const m = messages.shift();
      return m !== undefined ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
    };
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
  });
}

void t.test('WebSocket push and echo flow through the proxy with header hygiene', async (t) => {
  const up = await wsUpstream(t);
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const { ws, next } = await open(`ws://127.0.0.1:${gw.port}/events`, { remote_user: 'mallory', cookie: 'portcullis_session=s; keep=1' });
  t.teardown(() => ws.terminate());
  t.equal(await next(), 'hello from upstream', 'server push arrives');
  ws.send('ping');
  t.equal(await next(), 'echo:ping');
  const big = 'x'.repeat(200_000);
  ws.send(big);
  t.equal((await next()).length, big.length + 5, 'large frame intact');
  const h = up.seen[0] ?? {};
  t.equal(h['remote-user'], 'alice');
  t.equal(h.cookie, 'keep=1');
  t.equal(h['x-forwarded-for'], '127.0.0.1');
});

void t.test('refused when the upstream has websocket: false, before any byte reaches it', async (t) => {
  const up = await wsUpstream(t);
  const gw = await startGateway(t, [upstream({ url: up.url, websocket: false })]);
  const err = await open(`ws://127.0.0.1:${gw.port}/events`).then(
    () => undefined,
    (e: { status?: number }) => e,
  );
  t.equal(err?.status, 403);
  t.equal(up.seen.length, 0);
});

void t.test('a non-101 upstream answer is relayed', async (t) => {
  const up = await wsUpstream(t);
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const err = await open(`ws://127.0.0.1:${gw.port}/refuse`).then(
    () => undefined,
    (e: { status?: number }) => e,
  );
  t.equal(err?.status, 403);
});

void t.test('upstream down: 502 on the upgrade, gateway keeps serving', async (t) => {
  const port = await closedPort();
  const gw = await startGateway(t, [upstream({ url: `http://127.0.0.1:${port}` })]);
  for (let i = 0; i < 2; i++) {
    const err = await open(`ws://127.0.0.1:${gw.port}/events`).then(
      () => undefined,
      (e: { status?: number }) => e,
    );
    t.equal(err?.status, 502);
  }
});

void t.test('upstream closing the WebSocket closes the client side; client closing closes upstream', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  let upstreamClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (m) => {
        if (wsText(m) === 'bye') ws.close(4000, 'done');
      });
      ws.on('close', upstreamClosed);
    }),
  );
  const port = await listen(server);
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const gw = await startGateway(t, [upstream({ url: `http://127.0.0.1:${port}` })]);
  const a = await open(`ws://127.0.0.1:${gw.port}/`);
  const code = new Promise<number>((r) => a.ws.once('close', (c) => r(c)));
  a.ws.send('bye');
  t.equal(await code, 4000);
  await closed;
  const b = await open(`ws://127.0.0.1:${gw.port}/`);
  let bClosed: () => void = () => undefined;
  const bDone = new Promise<void>((r) => (bClosed = r));
  wss.clients.forEach((c) => c.once('close', bClosed));
  b.ws.terminate();
  await bDone;
  t.pass('upstream saw the client go away');
});

void t.test('a raw socket that sends garbage after the handshake does not crash the gateway', async (t) => {
  const up = await wsUpstream(t);
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const sock = net.connect(gw.port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write('GET /events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  await new Promise((r) => sock.once('data', r));
  sock.write(Buffer.alloc(1000, 0xff));
  await new Promise((r) => sock.once('close', r));
  const { ws, next } = await open(`ws://127.0.0.1:${gw.port}/events`);
  t.equal(await next(), 'hello from upstream');
  ws.terminate();
});

void t.test('a silent WebSocket is closed after timeouts.idle', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('error', () => undefined)));
  const port = await listen(server);
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const gw = await startGateway(t, [upstream({ url: `http://127.0.0.1:${port}`, timeouts: { idle: '300ms' } })]);
  const { ws } = await open(`ws://127.0.0.1:${gw.port}/`);
  ws.on('error', () => undefined);
  const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
  t.equal(code, 1006, 'connection cut, no close frame');
});
