import t from 'tap';
import { wsText } from '../fixtures/ws-text.js';
import { request } from 'undici';
import WebSocket from 'ws';
import { startDemoApp } from '../../src/demo/app.js';
import { encodeBlockJpeg } from '../../src/demo/jpeg.js';
import { startGateway, upstream } from '../proxy/harness.js';

void t.test('the demo app serves its page, API, WebSocket and camera stream', async (t) => {
  const app = await startDemoApp();
  t.teardown(() => app.close());
  t.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const health = await request(`${app.url}/health`);
  t.equal(await health.body.text(), 'ok');

  const page = await request(`${app.url}/`, { headers: { 'remote-user': 'alice', 'remote-name': 'Alice <Operator>', 'remote-groups': 'operators' } });
  t.equal(page.statusCode, 200);
  const html = await page.body.text();
  t.match(html, /Camera wall/);
  t.match(html, /<dd id="remote-user">alice<\/dd>/);
  t.match(html, /Alice &lt;Operator&gt;/, 'identity escaped');
  t.match(html, /<img id="camera1" src="stream\/camera1"/);
  t.match(html, /new WebSocket/);

  const cams = (await (await request(`${app.url}/api/cameras`)).body.json()) as { cameras: unknown[] };
  t.ok(cams.cameras.length >= 1);

  const who = (await (await request(`${app.url}/api/whoami`, { headers: { 'remote-user': 'bob', 'remote-groups': 'a,b' } })).body.json()) as Record<string, string>;
  t.equal(who.user, 'bob');
  t.equal(who.groups, 'a,b');

  const echo = await request(`${app.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
  t.equal(echo.headers['content-type'], 'application/json');
  t.equal(await echo.body.text(), '{"x":1}');

  const missing = await request(`${app.url}/nope`);
  t.equal(missing.statusCode, 404);
  await missing.body.text();
});

void t.test('the demo WebSocket welcomes, echoes and pushes events', async (t) => {
  const app = await startDemoApp();
  t.teardown(() => app.close());
  const ws = new WebSocket(`${app.url.replace('http', 'ws')}/events`);
  t.teardown(() => ws.terminate());
  const messages: Array<Record<string, unknown>> = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => {
      messages.push(JSON.parse(wsText(m)) as Record<string, unknown>);
      const types = messages.map((x) => x.type);
      if (types.includes('welcome') && types.includes('echo') && types.includes('motion')) resolve();
    });
  });
  t.match(messages.find((m) => m.type === 'echo'), { data: 'hi' });
  t.match(messages.find((m) => m.type === 'motion'), { camera: /^camera/ });
});

async function readFrames(url: string, wanted: number): Promise<Buffer[]> {
  const res = await request(url);
  if (!/multipart\/x-mixed-replace; boundary=frame/.test(String(res.headers['content-type']))) throw new Error('not a multipart stream');
  let buf = Buffer.alloc(0);
  const frames: Buffer[] = [];
  for await (const chunk of res.body) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd === -1) break;
      const m = /Content-Length: (\d+)/i.exec(buf.subarray(0, headEnd).toString());
      if (!m) throw new Error('part without length');
      const len = Number(m[1]);
      if (buf.length < headEnd + 4 + len + 2) break;
      frames.push(buf.subarray(headEnd + 4, headEnd + 4 + len));
      buf = buf.subarray(headEnd + 4 + len + 2);
    }
    if (frames.length >= wanted) break;
  }
  res.body.destroy();
  return frames;
}

function isJpeg(frame: Buffer): boolean {
  return frame[0] === 0xff && frame[1] === 0xd8 && frame[frame.length - 2] === 0xff && frame[frame.length - 1] === 0xd9;
}

void t.test('the camera stream delivers JPEG frames (SOI … EOI), directly and through the proxy', async (t) => {
  const app = await startDemoApp();
  t.teardown(() => app.close());
  const direct = await readFrames(`${app.url}/stream/camera1`, 2);
  t.ok(direct.length >= 2);
  t.ok(direct.every(isJpeg), 'every frame starts with SOI and ends with EOI');
  t.not(direct[0]?.toString('hex'), direct[1]?.toString('hex'), 'the picture moves');
  const gw = await startGateway(t, [upstream({ url: app.url })]);
  const proxied = await readFrames(`${gw.url}/stream/camera1`, 3);
  t.ok(proxied.length >= 3 && proxied.every(isJpeg));
  const who = (await (await request(`${gw.url}/api/whoami`)).body.json()) as Record<string, string>;
  t.equal(who.user, 'alice', 'identity set by the gateway reaches the app');
});

void t.test('three cameras, three streams of their own; the wall shows all three, with the user, Account and Sign out', async (t) => {
  const app = await startDemoApp();
  t.teardown(() => app.close());
  const cams = (await (await request(`${app.url}/api/cameras`)).body.json()) as { cameras: Array<{ id: string; stream: string; status: string }> };
  t.same(cams.cameras.map((c) => [c.id, c.stream, c.status]), [
    ['camera1', '/stream/camera1', 'online'],
    ['camera2', '/stream/camera2', 'online'],
    ['camera3', '/stream/camera3', 'online'],
  ]);
  const first = await Promise.all(cams.cameras.map(async (c) => (await readFrames(`${app.url}${c.stream}`, 1))[0]!.toString('hex')));
  t.equal(new Set(first).size, 3, 'each camera shows its own picture');
  t.equal((await request(`${app.url}/stream/camera4`)).statusCode, 404);
  const page = await (await request(`${app.url}/`, { headers: { 'remote-user': 'alice', 'remote-name': 'Alice <Operator>' } })).body.text();
  for (const c of cams.cameras) t.match(page, new RegExp(`<img id="${c.id}" src="${c.stream.slice(1)}"`), `${c.id} is on the wall`);
  t.match(page, /<span id="signed-in-as">Signed in as Alice &lt;Operator&gt;<\/span>/, 'the user, escaped');
  t.match(page, /<a id="account-link" href="\/_gateway\/account">Account<\/a>/, 'the account page, at the gateway');
  t.match(page, /<a id="signout-link" href="\/_gateway\/logout">Sign out<\/a>/, 'sign out, at the gateway');
});

void t.test('the JPEG encoder writes the baseline markers and stuffs 0xFF bytes', (t) => {
  const jpg = encodeBlockJpeg(2, 1, (x) => (x === 0 ? 0 : 255));
  t.ok(isJpeg(jpg));
  t.ok(jpg.includes(Buffer.from([0xff, 0xc0])), 'SOF0 (baseline)');
  t.ok(jpg.includes(Buffer.from([0xff, 0xc4])), 'DHT');
  const sos = jpg.indexOf(Buffer.from([0xff, 0xda]));
  const scan = jpg.subarray(sos + 2 + 12, jpg.length - 2);
  for (let i = 0; i < scan.length - 1; i++) if (scan[i] === 0xff) t.equal(scan[i + 1], 0x00, 'stuffed');
  t.end();
});
