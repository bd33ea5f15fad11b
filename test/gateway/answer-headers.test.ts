/**
 * The gateway's own headers on proxied answers (HSTS, X-Request-Id) travel with the upstream's head in one
 * `writeHead` (issue 15), and a signed-in answer's registration for revocation ends with the answer (the
 * proxy's `onDone`, not a listener of its own). What must hold whichever way they are written:
 * - the request id on the answer is the one the upstream got; an upstream's own X-Request-Id or
 *   Strict-Transport-Security is kept; 400 and 502/504 answers carry both; `expose_request_id: false` drops
 *   only the id, and not from the gateway's own error answers;
 * - nothing stays registered after answers that ended, failed or were cut, and an open stream is.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startStack, type Stack } from '../fixtures/gateway.js';

interface Origin {
  url: string;
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function origin(): Promise<Origin> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/own') {
      res.writeHead(200, { 'x-request-id': 'from-the-app', 'strict-transport-security': 'max-age=60', 'content-type': 'text/plain' });
      res.end('own');
    } else if (req.url === '/malformed') {
      // A head no parser may accept (a control character in a value), written byte for byte.
      res.socket?.end('HTTP/1.1 200 OK\r\nX-Leak: a\u0001b\r\nX-Other: leaked\r\nContent-Length: 2\r\n\r\nok');
    } else if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part\n'); // and never ends
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function stackWith(t: Test, server: Record<string, unknown>): Promise<{ stack: Stack; app: Origin; token: string }> {
  const app = await origin();
  const dead = await deadPort();
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', public_url: 'https://vms.example.com', ...server },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/public/**'], policy: 'bypass' }] },
      upstreams: [
        { name: 'dead', url: `http://127.0.0.1:${dead}`, match: { path_prefix: '/dead' } },
        { name: 'app', url: app.url },
      ],
    },
  });
  t.teardown(async () => {
    await stack.close();
    await app.close();
  });
  const login = await request(`${stack.url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'svc', password: 'svc-password-1' }) });
  const { token } = (await login.body.json()) as { token: string };
  t.ok(token, 'signed in');
  return { stack, app, token };
}

const live = (stack: Stack): number => stack.gateway.gateway.core.connections.size;

void t.test('HSTS and X-Request-Id on proxied answers, the upstream\'s own kept, and on 502', async (t) => {
  const { stack, app, token } = await stackWith(t, {});
  const auth = { authorization: `Bearer ${token}` };
  for (const path of ['/public/x', '/x']) {
    const res = await request(`${stack.url}${path}`, { headers: auth });
    t.equal(await res.body.text(), 'ok', path);
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000', `${path}: HSTS`);
    t.match(String(res.headers['x-request-id']), /^\S+$/, `${path}: a request id`);
    t.equal(res.headers['x-request-id'], app.seen.at(-1)?.['x-request-id'], `${path}: the id the upstream got`);
  }
  const own = await request(`${stack.url}/own`, { headers: auth });
  await own.body.dump();
  t.equal(own.headers['x-request-id'], 'from-the-app', 'the upstream\'s own X-Request-Id is kept');
  t.equal(own.headers['strict-transport-security'], 'max-age=60', 'and its own Strict-Transport-Security');
  const down = await request(`${stack.url}/dead/x`, { headers: { ...auth, accept: 'application/json' } });
  const body = (await down.body.json()) as { error: string; request_id: string };
  t.equal(down.statusCode, 502);
  t.equal(body.error, 'upstream_unavailable');
  t.equal(down.headers['strict-transport-security'], 'max-age=31536000', '502: HSTS');
  t.equal(down.headers['x-request-id'], body.request_id, '502: the request id');
  const bad = await request(`${stack.url}/malformed`, { headers: { ...auth, accept: 'application/json' } });
  const badBody = (await bad.body.json()) as { error: string; request_id: string };
  t.equal(bad.statusCode, 502, 'a malformed upstream head: 502');
  t.equal(badBody.error, 'upstream_unavailable');
  t.equal(bad.headers['x-other'], undefined, 'none of its headers reach the client');
  t.equal(bad.headers['strict-transport-security'], 'max-age=31536000', 'malformed head: HSTS');
  t.equal(bad.headers['x-request-id'], badBody.request_id, 'malformed head: the request id');
  t.equal(live(stack), 0, 'and nothing stays registered');
  const refused = await request(`${stack.url}/x`);
  await refused.body.dump();
  t.equal(refused.statusCode, 401);
  t.equal(refused.headers['strict-transport-security'], 'max-age=31536000', 'a refusal: HSTS');
  t.match(String(refused.headers['x-request-id']), /^\S+$/, 'a refusal: a request id');
  // A request refused before any rule (a hostile path, two Host headers): the same headers, the body's id.
  for (const [what, path, headers] of [
    ['an encoded slash', '/a/..%2f..%2fetc/passwd', {}],
    ['a NUL byte', '/a%00b', {}],
  ] as const) {
    const bad = await request(`${stack.url}${path}`, { headers });
    const badBody = (await bad.body.json()) as { error: string; request_id: string };
    t.equal(bad.statusCode, 400, what);
    t.equal(bad.headers['strict-transport-security'], 'max-age=31536000', `${what}: HSTS`);
    t.equal(bad.headers['x-request-id'], badBody.request_id, `${what}: the body's request id`);
  }
});

void t.test('expose_request_id: false drops the id from proxied answers, not HSTS', async (t) => {
  const { stack, app, token } = await stackWith(t, { expose_request_id: false });
  const res = await request(`${stack.url}/x`, { headers: { authorization: `Bearer ${token}` } });
  await res.body.dump();
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-request-id'], undefined, 'no id on the answer');
  t.ok(app.seen.at(-1)?.['x-request-id'], 'the upstream still gets one');
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  const bad = await request(`${stack.url}/a/..%2fx`);
  await bad.body.dump();
  t.equal(bad.statusCode, 400);
  t.match(String(bad.headers['x-request-id']), /^\S+$/, 'an error answer still names its id (server.expose_request_id)');
  t.equal(bad.headers['strict-transport-security'], 'max-age=31536000', 'a 400 keeps HSTS');
});

void t.test('a signed-in answer is registered while it runs and released when it ends, fails or is cut', async (t) => {
  const { stack, token } = await stackWith(t, {});
  const auth = { authorization: `Bearer ${token}` };
  t.equal(live(stack), 0);
  for (let i = 0; i < 5; i++) await (await request(`${stack.url}/x`, { headers: auth })).body.dump();
  t.equal(live(stack), 0, 'answers that ended');
  await (await request(`${stack.url}/dead/x`, { headers: auth })).body.dump();
  t.equal(live(stack), 0, 'a 502');
  await (await request(`${stack.url}/public/x`)).body.dump();
  t.equal(live(stack), 0, 'a bypass answer without a session is never registered');

  const controller = new AbortController();
  const stream = await request(`${stack.url}/stream`, { headers: auth, signal: controller.signal });
  t.equal(stream.statusCode, 200);
  t.equal(live(stack), 1, 'an open stream is registered (revocation can close it)');
  controller.abort();
  await stream.body.dump().catch(() => undefined);
  for (let i = 0; i < 100 && live(stack) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(live(stack), 0, 'a stream the client cut');

  const revoked = await request(`${stack.url}/stream`, { headers: auth });
  t.equal(live(stack), 1);
  const out = await request(`${stack.url}/_gateway/api/v1/logout`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  t.equal(out.statusCode, 204);
  const ended = await revoked.body.text().then(
    () => 'ended',
    () => 'cut',
  );
  t.equal(ended, 'cut', 'logout cut the open stream');
  for (let i = 0; i < 100 && live(stack) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(live(stack), 0, 'a stream closed by revocation');
});
