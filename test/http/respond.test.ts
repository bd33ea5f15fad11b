import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { readForm, readJson } from '../../src/http/body.js';
import { redirect, sendError, sendHtml, sendJson } from '../../src/http/respond.js';
import { isPortcullisError } from '../../src/errors/index.js';

async function serve(t: { teardown(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

void t.test('sendError answers JSON by default, merged with extra fields, with security headers', async (t) => {
  const url = await serve(t, (req, res) => sendError(req, res, 429, 'rate_limited', 'Too many attempts', 'rid', { retry_after: 30, error: 'ignored' }));
  const res = await request(url);
  t.equal(res.statusCode, 429);
  t.same(await res.body.json(), { retry_after: 30, error: 'rate_limited', message: 'Too many attempts', request_id: 'rid' });
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['cache-control'], 'no-store');
  t.equal(res.headers['referrer-policy'], 'no-referrer');
  t.equal(res.headers['x-request-id'], 'rid');
});

void t.test('sendError answers an escaped HTML page to browsers', async (t) => {
  const url = await serve(t, (req, res) => sendError(req, res, 502, 'upstream_unavailable', '<b>down</b> & "out"', 'r<1>'));
  const res = await request(url, { headers: { accept: 'text/html' } });
  t.equal(res.statusCode, 502);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
  const html = await res.body.text();
  t.match(html, /&lt;b&gt;down&lt;\/b&gt; &amp; &quot;out&quot;/);
  t.notMatch(html, /<b>down/);
  t.match(html, /r&lt;1&gt;/);
});

void t.test('sendJson, sendHtml, redirect', async (t) => {
  const url = await serve(t, (req, res) => {
    if (req.url === '/j') sendJson(res, 201, { ok: true }, { 'X-Extra': '1' });
    else if (req.url === '/h') sendHtml(res, 200, '<p>hi</p>');
    else redirect(res, 303, '/_gateway/login?rd=%2F');
  });
  const j = await request(`${url}/j`);
  t.equal(j.statusCode, 201);
  t.equal(j.headers['x-extra'], '1');
  t.same(await j.body.json(), { ok: true });
  const h = await request(`${url}/h`);
  t.equal(h.headers['x-frame-options'], 'DENY');
  t.equal(await h.body.text(), '<p>hi</p>');
  const r = await request(`${url}/r`);
  t.equal(r.statusCode, 303);
  t.equal(r.headers.location, '/_gateway/login?rd=%2F');
  await r.body.text();
});

void t.test('sendError after headers were sent cuts the connection instead of corrupting it', async (t) => {
  const url = await serve(t, (req, res) => {
    res.writeHead(200);
    res.write('partial');
    sendError(req, res, 500, 'internal', 'x', 'r');
  });
  await t.rejects(request(url).then((res) => res.body.text()));
});

void t.test('readForm and readJson: content type, size and syntax checked', async (t) => {
  const url = await serve(t, (req, res) => {
    const reader = req.url === '/form' ? readForm(req, 100).then((f) => Object.fromEntries(f)) : readJson(req, 100, { timeoutMs: 300 });
    reader.then(
      (value) => sendJson(res, 200, { value }),
      (err: unknown) => {
        if (isPortcullisError(err)) sendError(req, res, err.status, err.code, err.message, 'r');
        else sendError(req, res, 500, 'internal', 'x', 'r');
      },
    );
  });
  const form = await request(`${url}/form`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: 'username=al%20ice&password=p' });
  t.same(await form.body.json(), { value: { username: 'al ice', password: 'p' } });
  const json = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1]}' });
  t.same(await json.body.json(), { value: { a: [1] } });
  const wrongType = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  t.equal(wrongType.statusCode, 400);
  t.match(await wrongType.body.json(), { error: 'PORTCULLIS_ERR_BAD_REQUEST' });
  const badJson = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
  t.equal(badJson.statusCode, 400);
  await badJson.body.text();
  const declared = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(500) });
  t.equal(declared.statusCode, 413);
  t.match(await declared.body.json(), { error: 'PORTCULLIS_ERR_BODY_TOO_LARGE' });
  const chunked = await request(`${url}/json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Readable.from(
      (function* () {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(50, 0x20);
      })(),
    ),
  }).catch((e: Error) => e);
  if (!(chunked instanceof Error)) {
    t.equal(chunked.statusCode, 413);
    await chunked.body.text();
  } else t.pass('connection closed after an oversized chunked body');
});

void t.test('a body that never finishes times out with 400', async (t) => {
  const url = await serve(t, (req, res) => {
    readJson(req, 1000, { timeoutMs: 200 }).then(
      () => sendJson(res, 200, {}),
      (err: unknown) => {
        if (isPortcullisError(err)) sendError(req, res, err.status, err.code, err.message, 'r');
      },
    );
  });
  const u = new URL(url);
  const net = await import('node:net');
  const sock = net.connect(Number(u.port), u.hostname);
  sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"');
  let data = '';
  sock.on('data', (c) => (data += c.toString()));
  await new Promise((r) => sock.once('close', r));
  t.match(data, /^HTTP\/1\.1 400/);
  t.match(data, /connection: close/i);
});

void t.test('sendError keeps a bodyless request keep-alive, closes one whose body was left unread', async (t) => {
  const url = await serve(t, (req, res) => sendError(req, res, 404, 'not_found', 'Not found', 'r'));
  const get = await request(url);
  t.not(get.headers.connection, 'close');
  await get.body.text();
  const post = await request(url, { method: 'POST', body: Readable.from([Buffer.alloc(10)]) });
  t.equal(post.headers.connection, 'close');
  await post.body.text();
});
