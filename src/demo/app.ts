import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { rawAnswer } from '../http/raw.js';
import { escapeHtml } from '../util/html.js';
import { cameraFrames } from './jpeg.js';

/**
 * The bundled demo app: a stand-in for a video-management web client that trusts the identity
 * headers it receives. Pages, a JSON API, a WebSocket and an endless MJPEG camera stream.
 */

export interface DemoApp {
  url: string;
  port: number;
  close(): Promise<void>;
}

const FRAMES: Readonly<Record<string, Buffer[]>> = { camera1: cameraFrames(12, 0), camera2: cameraFrames(12, 1), camera3: cameraFrames(12, 2) };
const FRAME_INTERVAL_MS = 200;
const EVENT_INTERVAL_MS = 1000;
const MAX_ECHO_BYTES = 1_048_576;

const CAMERAS = [
  { id: 'camera1', name: 'Entrance', stream: '/stream/camera1', status: 'online' },
  { id: 'camera2', name: 'Loading dock', stream: '/stream/camera2', status: 'online' },
  { id: 'camera3', name: 'Car park', stream: '/stream/camera3', status: 'online' },
];

/** The gateway's portal, where the header's links go (the app runs behind it). */
const PORTAL = '/_gateway';

const esc = escapeHtml;

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

function identity(req: IncomingMessage): Record<string, string> {
  return {
    user: header(req, 'remote-user'),
    name: header(req, 'remote-name'),
    groups: header(req, 'remote-groups'),
    email: header(req, 'remote-email'),
    forwarded_for: header(req, 'x-forwarded-for'),
    forwarded_proto: header(req, 'x-forwarded-proto'),
    forwarded_host: header(req, 'x-forwarded-host'),
    request_id: header(req, 'x-request-id'),
  };
}

function page(req: IncomingMessage): string {
  const id = identity(req);
  const tiles = CAMERAS.map(
    (c) => `<figure><img id="${c.id}" src="${c.stream.slice(1)}" alt="${esc(c.name)} camera" width="320" height="240"><figcaption>${esc(c.name)} <span class="live">live</span></figcaption></figure>`,
  ).join('\n');
  const who = id.name || id.user;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Camera wall</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#eee}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;padding:.75rem 1.5rem;background:#1b1f26;border-bottom:1px solid #2c323c}
header strong{font-size:1.0625rem}header nav{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem 1.25rem}header a{color:#9cc3ff}
main{padding:1rem 1.5rem}
.cams{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:1rem}figure{margin:0}
img{display:block;width:100%;height:auto;aspect-ratio:4/3;background:#000;image-rendering:pixelated}
figcaption{margin-top:.25rem}.live{color:#7fd18b;font-size:.8125rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#9ab}#events{font-family:monospace;max-height:12rem;overflow:auto}</style>
</head><body>
<header><strong>Camera wall</strong><nav aria-label="Account"><span id="signed-in-as">${who ? `Signed in as ${esc(who)}` : ''}</span><a id="account-link" href="${PORTAL}/account">Account</a><a id="signout-link" href="${PORTAL}/logout">Sign out</a></nav></header>
<main>
<h1>Cameras</h1>
<div class="cams">${tiles}</div>
<h2>Who the app sees</h2>
<dl id="identity"><dt>Remote-User</dt><dd id="remote-user">${esc(id.user ?? '')}</dd>
<dt>Remote-Name</dt><dd id="remote-name">${esc(id.name ?? '')}</dd>
<dt>Remote-Groups</dt><dd id="remote-groups">${esc(id.groups ?? '')}</dd></dl>
<h2>Live events <small id="ws-state">connecting…</small></h2>
<ul id="events"></ul>
</main>
<script>
(() => {
  const list = document.getElementById('events');
  const state = document.getElementById('ws-state');
  const url = new URL('events', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  ws.onopen = () => { state.textContent = 'connected'; ws.send(JSON.stringify({ type: 'hello' })); };
  ws.onclose = () => { state.textContent = 'closed'; };
  ws.onmessage = (m) => {
    const li = document.createElement('li');
    li.textContent = m.data;
    list.prepend(li);
    while (list.children.length > 50) list.lastChild.remove();
  };
})();
</script>
</body></html>`;
}

/** `/export`: what the legacy export job fetches (the demo's HTTP Basic API client), as CSV. */
function exportCsv(req: IncomingMessage): string {
  const rows = CAMERAS.map((c) => `${c.id},${c.name},${c.status}`);
  return `# exported for ${header(req, 'remote-user') || 'nobody'}\nid,name,status\n${rows.join('\n')}\n`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

function stream(req: IncomingMessage, res: ServerResponse, frames: Buffer[]): void {
  res.writeHead(200, {
    'Content-Type': 'multipart/x-mixed-replace; boundary=frame',
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  let n = 0;
  const send = (): void => {
    const frame = frames[n++ % frames.length] as Buffer;
    res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`);
    res.write(frame);
    res.write('\r\n');
  };
  send();
  const timer = setInterval(send, FRAME_INTERVAL_MS);
  const stop = (): void => clearInterval(timer);
  req.on('close', stop);
  res.on('close', stop);
  res.on('error', stop);
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_ECHO_BYTES) {
      json(res, 413, { error: 'too_large' });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  req.on('error', () => res.destroy());
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
  } else if (path === '/' && (method === 'GET' || method === 'HEAD')) {
    const html = page(req);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(method === 'HEAD' ? undefined : html);
  } else if (path === '/api/cameras' && method === 'GET') {
    json(res, 200, { cameras: CAMERAS });
  } else if (path === '/api/whoami' && method === 'GET') {
    json(res, 200, identity(req));
  } else if (path === '/api/echo' && method === 'POST') {
    echo(req, res);
  } else if (path === '/export' && method === 'GET') {
    const csv = exportCsv(req);
    res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Length': Buffer.byteLength(csv) });
    res.end(csv);
  } else if (path?.startsWith('/stream/') && method === 'GET' && Object.hasOwn(FRAMES, path.slice('/stream/'.length))) {
    stream(req, res, FRAMES[path.slice('/stream/'.length)] as Buffer[]);
  } else {
    json(res, 404, { error: 'not_found' });
  }
}

/** Starts the demo app (default 127.0.0.1, a free port). */
export async function startDemoApp(opts: { host?: string; port?: number } = {}): Promise<DemoApp> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer(handle);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 65_536 });
  const clients = new Set<WebSocket>();
  let seq = 0;
  const ticker = setInterval(() => {
    seq++;
    const event = JSON.stringify({ type: 'motion', camera: CAMERAS[seq % CAMERAS.length]?.id, seq, at: new Date().toISOString() });
    for (const ws of clients) ws.send(event);
  }, EVENT_INTERVAL_MS);
  ticker.unref();

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if ((req.url ?? '').split('?')[0] !== '/events') {
      rawAnswer(socket, 404);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      const who = header(req, 'remote-user');
      ws.send(JSON.stringify({ type: 'welcome', user: who }));
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : JSON.stringify({ type: 'echo', data: Buffer.isBuffer(data) ? data.toString('utf8') : '' })));
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      clearInterval(ticker);
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
