import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { boundedFetch, reachable, ResponseTooLarge } from '../../src/idp/fetch.js';

async function server(t: Test, handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const opts = { method: 'GET', headers: {}, body: undefined, redirect: 'manual' as const };

void t.test('only https://, or http:// on a loopback address', (t) => {
  t.ok(reachable(new URL('https://idp.example.com/x')));
  t.ok(reachable(new URL('http://127.0.0.1:9/x')));
  t.ok(reachable(new URL('http://[::1]:9/x')));
  t.ok(reachable(new URL('http://localhost/x')));
  t.notOk(reachable(new URL('http://idp.example.com/x')));
  t.notOk(reachable(new URL('http://10.1.2.3/x')));
  t.notOk(reachable(new URL('file:///etc/passwd')));
  t.end();
});

void t.test('answers pass through with their status and headers; a body over the bound is refused', async (t) => {
  const base = await server(t, (req, res) => {
    if (req.url === '/small') return void res.writeHead(201, { 'content-type': 'application/json', 'x-test': '1' }).end('{"ok":true}');
    if (req.url === '/declared') return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' }).end('x'.repeat(5000));
    if (req.url === '/streamed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
      return void res.end();
    }
    if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://evil.example/' }).end();
    res.writeHead(204).end();
  });
  const fetch = boundedFetch(4096);
  const small = await fetch(`${base}/small`, opts);
  t.equal(small.status, 201);
  t.equal(small.headers.get('x-test'), '1');
  t.same(await small.json(), { ok: true });
  t.equal((await fetch(`${base}/empty`, opts)).status, 204);
  const redirect = await fetch(`${base}/redirect`, opts);
  t.equal(redirect.status, 302, 'redirects are not followed');
  await t.rejects(fetch(`${base}/declared`, opts), ResponseTooLarge, 'a declared length over the bound');
  await t.rejects(fetch(`${base}/streamed`, opts), ResponseTooLarge, 'a streamed body over the bound');
  await t.rejects(fetch('http://idp.example.com/x', opts), /refusing to contact http:\/\/idp\.example\.com/);
});
