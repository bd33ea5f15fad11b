/**
 * Header hygiene regressions (issue 12 item 5, and a front proxy's check that carries `Upgrade`).
 */
import t from 'tap';
import http from 'node:http';
import { request } from 'undici';
import { startStack } from '../fixtures/gateway.js';

void t.test('a client-sent assertion header never reaches the upstream, with assertions off', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'bypass' } } });
  t.teardown(() => stack.close());
  for (const name of ['X-Portcullis-Assertion', 'x-portcullis-assertion', 'X_Portcullis_Assertion']) {
    const res = await request(`${stack.url}/cams`, { headers: { [name]: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' } });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    const seen = stack.upstream.seen.at(-1)!;
    t.notOk(Object.keys(seen.headers).some((h) => h.replace(/_/g, '-').toLowerCase() === 'x-portcullis-assertion'), `${name} stripped`);
  }
});

void t.test('a forward-auth check that carries Upgrade: websocket is answered as a plain request', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] }, access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] } } });
  t.teardown(() => stack.close());
  const headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
  // node:http, not undici: undici refuses to send an Upgrade header on a plain request.
  const status = (path: string, extra: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(`${stack.url}${path}`, { headers: { ...headers, ...extra } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('the check was answered with a WebSocket handshake')));
      req.on('error', reject);
    });
  t.equal(await status('/_gateway/authz', { 'x-original-url': 'http://vms.example.com/public/ws' }), 200, 'the bypass path is allowed (not 404, not a handshake)');
  t.equal(await status('/_gateway/authz/forward-auth', { 'x-forwarded-host': 'vms.example.com', 'x-forwarded-uri': '/cams/ws' }), 401, 'a protected WebSocket path needs a session');
  t.equal(stack.upstream.seen.length, 0);
});
