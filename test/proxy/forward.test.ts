import { createHash } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { closedPort, startGateway, startUpstream, upstream } from './harness.js';

const MiB = 1024 * 1024;

/** A deterministic stream of `total` bytes, generated on the fly (never held in memory). */
function generated(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk.length, total - sent);
      chunk[0] = sent & 0xff; // vary content per chunk
      sent += n;
      this.push(n === chunk.length ? Buffer.from(chunk) : chunk.subarray(0, n));
    },
  });
}

async function sha256Of(stream: AsyncIterable<Buffer>, onChunk?: () => void): Promise<{ hex: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c);
    size += c.length;
    onChunk?.();
  }
  return { hex: h.digest('hex'), size };
}

void t.test('streams a 256 MiB download with its checksum intact and flat memory', async (t) => {
  const total = 256 * MiB;
  const expected = await sha256Of(generated(total));
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
    generated(total).pipe(res);
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let n = 0;
  const res = await request(`${gw.url}/big`);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-length'], String(total));
  const got = await sha256Of(res.body, () => {
    if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  });
  t.equal(got.size, total);
  t.equal(got.hex, expected.hex);
  t.ok(peak - before < 96 * MiB, `rss grew by ${Math.round((peak - before) / MiB)} MiB for a 256 MiB body`);
});

void t.test('streams a 256 MiB chunked upload with its checksum intact and flat memory', async (t) => {
  const total = 256 * MiB;
  const expected = await sha256Of(generated(total));
  const up = await startUpstream(t, (req, res) => {
    void sha256Of(req).then((r) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...r, te: req.headers['transfer-encoding'] ?? null }));
    });
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const res = await request(`${gw.url}/upload`, { method: 'PUT', body: generated(total) });
  clearInterval(timer);
  const body = (await res.body.json()) as { hex: string; size: number; te: string | null };
  t.equal(res.statusCode, 200);
  t.equal(body.size, total);
  t.equal(body.hex, expected.hex);
  t.equal(body.te, 'chunked');
  t.ok(peak - before < 96 * MiB, `rss grew by ${Math.round((peak - before) / MiB)} MiB for a 256 MiB upload`);
});

void t.test('a sized upload keeps its Content-Length', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    void sha256Of(req).then((r) => res.end(JSON.stringify({ ...r, len: req.headers['content-length'] })));
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const payload = Buffer.alloc(300_000, 7);
  const res = await request(`${gw.url}/x`, { method: 'POST', body: payload });
  const body = (await res.body.json()) as { size: number; len: string };
  t.same(body, { ...body, size: 300_000, len: '300000' });
});

void t.test('upstream refused: 502 as JSON, or as an HTML page for browsers, never a stack trace', async (t) => {
  const port = await closedPort();
  const gw = await startGateway(t, [upstream({ url: `http://127.0.0.1:${port}` })]);
  const json = await request(`${gw.url}/api`, { headers: { accept: 'application/json', 'x-request-id': 'req-123' } });
  t.equal(json.statusCode, 502);
  t.match(json.headers['content-type'], /application\/json/);
  const body = (await json.body.json()) as Record<string, unknown>;
  t.same(body, { error: 'upstream_unavailable', message: 'The application is unavailable', request_id: 'req-123' });
  const html = await request(`${gw.url}/page`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  t.equal(html.statusCode, 502);
  t.match(html.headers['content-type'], /text\/html/);
  t.equal(html.headers['x-content-type-options'], 'nosniff');
  const text = await html.body.text();
  t.match(text, /The application is unavailable/);
  t.notMatch(text, /ECONNREFUSED|at .*\.js/);
  const post = await request(`${gw.url}/form`, { method: 'POST', body: 'a=1' });
  t.equal(post.statusCode, 502);
  await post.body.text();
  t.same(gw.done, [502, 502, 502]);
});

void t.test('upstream reset mid-response: the client sees a closed connection and the gateway serves the next request', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000, 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.end('fine');
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/reset`);
  t.equal(res.statusCode, 200);
  await t.rejects(res.body.arrayBuffer());
  const next = await request(`${gw.url}/next`);
  t.equal(next.statusCode, 200);
  t.equal(await next.body.text(), 'fine');
});

void t.test('upstream too slow for response_headers: 504', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    const timer = setTimeout(() => res.end('late'), 5_000);
    res.on('close', () => clearTimeout(timer));
  });
  const gw = await startGateway(t, [upstream({ url: up.url, timeouts: { response_headers: '200ms' } })]);
  const res = await request(`${gw.url}/slow`, { headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 504);
  t.match(await res.body.json(), { error: 'upstream_timeout' });
});

void t.test('idle timeout cuts a silent body; idle 0 lets a slow stream flow', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first');
    const timer = setTimeout(() => res.end('second'), 2_000);
    res.on('close', () => clearTimeout(timer));
  });
  // undici checks body timeouts with a coarse (about 1 s) timer.
  const idle = await startGateway(t, [upstream({ url: up.url, timeouts: { idle: '200ms' } })]);
  const cut = await request(`${idle.url}/`);
  await t.rejects(cut.body.text());
  const open = await startGateway(t, [upstream({ url: up.url, timeouts: { idle: 0 } })]);
  const ok = await request(`${open.url}/`);
  t.equal(await ok.body.text(), 'firstsecond');
});

void t.test('client abort cancels the upstream request', async (t) => {
  let upstreamClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x'.repeat(1024)), 10);
    res.on('close', () => {
      clearInterval(timer);
      upstreamClosed();
    });
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const ac = new AbortController();
  const res = await request(`${gw.url}/endless`, { signal: ac.signal });
  t.equal(res.statusCode, 200);
  ac.abort();
  await t.rejects(res.body.text());
  await closed;
  t.pass('upstream response closed after the client went away');
});

void t.test('preserves status, multiple Set-Cookie and drops hop-by-hop response headers', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
    res.setHeader('Keep-Alive', 'timeout=99');
    res.setHeader('X-Hop', 'secret');
    res.setHeader('Connection', 'X-Hop');
    res.setHeader('X-Custom', 'kept');
    res.statusCode = 418;
    res.end('teapot');
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/`);
  t.equal(res.statusCode, 418);
  t.same(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
  t.equal(res.headers['x-custom'], 'kept');
  t.equal(res.headers['x-hop'], undefined);
  t.not(res.headers['keep-alive'], 'timeout=99');
  t.equal(await res.body.text(), 'teapot');
});

void t.test('relays trailers of a chunked response', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('data');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end();
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/`);
  t.equal(await res.body.text(), 'data');
  t.same(res.trailers, { 'x-checksum': 'abc' });
});

void t.test('an endless multipart/x-mixed-replace stream flows without buffering', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    const timer = setInterval(() => res.write('--frame\r\nContent-Type: text/plain\r\n\r\nhello\r\n'), 20);
    res.on('close', () => clearInterval(timer));
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/stream`);
  t.match(res.headers['content-type'], /multipart\/x-mixed-replace/);
  let seen = '';
  for await (const c of res.body) {
    seen += (c as Buffer).toString('latin1');
    if (seen.split('--frame').length > 4) break;
  }
  t.ok(seen.split('--frame').length > 4, 'several parts arrived while the stream is open');
});

void t.test('HEAD and 204/304 answers carry no body', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/204') res.writeHead(204).end();
    else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const head = await request(`${gw.url}/`, { method: 'HEAD' });
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-length'], '5');
  t.equal(await head.body.text(), '');
  const nc = await request(`${gw.url}/204`);
  t.equal(nc.statusCode, 204);
  t.equal(await nc.body.text(), '');
});

void t.test('keep-alive reuse: many sequential requests on one client connection', async (t) => {
  const up = await startUpstream(t, (req, res) => res.end(req.url));
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const sock = net.connect(gw.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  let data = '';
  sock.on('data', (c) => (data += c.toString()));
  for (let i = 0; i < 5; i++) sock.write(`GET /r${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if ((data.match(/HTTP\/1\.1 200/g) ?? []).length === 5) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
  t.match(data, /\/r0[\s\S]*\/r4/);
});

void t.test('onDone reports the status; Proxy.close aborts what is still in flight', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/hang') {
      res.writeHead(200);
      res.write('started');
      return;
    }
    res.writeHead(201).end('made');
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const made = await request(`${gw.url}/make`);
  t.equal(await made.body.text(), 'made');
  t.same(gw.done, [201]);
  const hanging = await request(`${gw.url}/hang`);
  const reading = hanging.body.text().then(
    () => 'ended',
    () => 'closed',
  );
  await gw.proxy.close();
  t.equal(await reading, 'closed');
});

void t.test('an upstream that answers before reading the upload: the client gets that answer, the gateway keeps serving', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/reject') {
      // Node reads and discards the rest of the body after this answer; an upstream that instead
      // closes the connection mid-upload makes undici fail the request (502), as a reset would.
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end('{"error":"too_large"}');
      return;
    }
    res.end('fine');
  });
  const gw = await startGateway(t, [upstream({ url: up.url })]);
  const res = await request(`${gw.url}/reject`, { method: 'POST', body: generated(32 * MiB) }).catch((e: Error) => e);
  if (res instanceof Error) t.pass(`connection closed while uploading (${res.message})`);
  else {
    t.equal(res.statusCode, 413);
    await res.body.text().catch(() => '');
  }
  const next = await request(`${gw.url}/next`);
  t.equal(await next.body.text(), 'fine');
});
