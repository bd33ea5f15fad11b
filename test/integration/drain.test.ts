/**
 * Shutting down one instance of several without losing requests (issue 12, rolling restart): readiness
 * answers 503 as the drain begins, every proxied WebSocket gets a close frame 1001 ("going away") so its
 * client reconnects elsewhere at once, and idle keep-alive connections stay for
 * `server.shutdown_keepalive_grace` so a request written into one is answered, not lost.
 */
import net from 'node:net';
import t from 'tap';
import { request } from 'undici';
import WebSocket from 'ws';
import { startStack } from '../fixtures/gateway.js';

const BYPASS = { access: { default_policy: 'bypass' as const } };

/** A raw keep-alive connection to `base` that has had one answer (GET /first) and is now idle. */
async function keptAlive(base: string): Promise<{ sock: net.Socket; ended: Promise<void>; data: string }> {
  const sock = net.connect(Number(new URL(base).port), '127.0.0.1');
  const conn = { sock, ended: new Promise<void>((r) => sock.once('close', () => r())), data: '' };
  sock.on('data', (c: Buffer) => (conn.data += c.toString()));
  sock.write('GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  while (!conn.data.includes('/first')) await new Promise((r) => setTimeout(r, 10));
  return conn;
}

/** A WebSocket to the echo upstream through the gateway at `base`, open. */
async function openWebSocket(base: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

void t.test('a drain closes WebSockets with 1001 at its start, readiness says draining, and it ends without waiting for shutdown_timeout', async (t) => {
  const stack = await startStack({ config: { ...BYPASS, server: { shutdown_timeout: '120s' } } });
  let closed = false;
  t.teardown(() => (closed ? undefined : stack.close()));
  const ws = await openWebSocket(stack.url);
  const echoed = new Promise<string>((r) => ws.once('message', (m: Buffer) => r(m.toString())));
  ws.send('hello');
  t.equal(await echoed, 'hello', 'the WebSocket works through the gateway');
  t.equal((await request(`${stack.gateway.adminUrl!}/readyz`)).statusCode, 200);

  const code = new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  // A stream in flight keeps the drain open while readiness is asked.
  const slow = net.connect(Number(new URL(stack.url).port), '127.0.0.1');
  slow.on('error', () => undefined);
  slow.write('POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc');
  await new Promise((r) => setTimeout(r, 100));
  const closing = stack.close().then(() => (closed = true));
  t.equal(await code, 1001, 'the client is told the server is going away');
  const ready = await request(`${stack.gateway.adminUrl!}/readyz`);
  t.equal(ready.statusCode, 503, 'readiness fails while draining');
  t.same(await ready.body.json(), { status: 'draining' });
  slow.end('defghij');
  await closing;
  t.ok(closed, 'the drain ended once the request was answered and the WebSocket gone (not after 120 s)');
  t.equal(ws.readyState, WebSocket.CLOSED);
});

void t.test('shutdown_keepalive_grace: a request written into an idle keep-alive connection during the drain is answered with Connection: close', async (t) => {
  const stack = await startStack({ config: { ...BYPASS, server: { shutdown_timeout: '120s', shutdown_keepalive_grace: '60s' } } });
  let closed = false;
  t.teardown(() => (closed ? undefined : stack.close()));
  const conn = await keptAlive(stack.url);
  const { sock, ended } = conn;
  t.match(conn.data, /^HTTP\/1\.1 200 /);
  t.notMatch(conn.data, /connection: close/i, 'kept alive before the drain');

  const closing = stack.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(closed, 'the idle connection holds the drain for the grace');
  t.notOk(sock.destroyed, 'the idle keep-alive connection is still open');
  await t.rejects(request(`${stack.url}/new`), 'no new connections are accepted');
  conn.data = '';
  sock.write('GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await ended;
  t.match(conn.data, /^HTTP\/1\.1 200 /, 'the request written into it is answered');
  t.match(conn.data, /\/second/);
  t.match(conn.data, /connection: close/i, 'with Connection: close');
  await closing;
  t.ok(closed, 'the drain ends as soon as the last connection is gone (not after the 60 s grace)');
});

void t.test('shutdown_keepalive_grace: 0 closes idle keep-alive connections as the drain begins', async (t) => {
  const stack = await startStack({ config: { ...BYPASS, server: { shutdown_timeout: '120s', shutdown_keepalive_grace: 0 } } });
  const { ended } = await keptAlive(stack.url);
  await stack.close();
  await ended;
  t.pass('closed by the drain');
});

void t.test('a WebSocket opened before a config reload is told to go away too', async (t) => {
  const stack = await startStack({ config: { ...BYPASS, server: { shutdown_timeout: '120s' } } });
  let closed = false;
  t.teardown(() => (closed ? undefined : stack.close()));
  const ws = await openWebSocket(stack.url);
  stack.gateway.reload(stack.gateway.gateway.config);
  const code = new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  await stack.close();
  closed = true;
  t.equal(await code, 1001);
});
