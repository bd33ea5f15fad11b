import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { resolveClient } from '../../src/http/client.js';
import { requestId } from '../../src/http/request-id.js';
import { NetworkSet } from '../../src/util/net.js';

async function serve(t: { teardown(fn: () => unknown): void }, trusted: string[]): Promise<string> {
  const set = new NetworkSet(trusted);
  const server = http.createServer((req, res) => res.end(JSON.stringify({ ...resolveClient(req, set), id: requestId(req) })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const spoof = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };

void t.test('an untrusted peer: the socket decides, X-Forwarded-* ignored', async (t) => {
  const url = await serve(t, []);
  const c = (await (await request(url, { headers: spoof })).body.json()) as Record<string, string>;
  t.equal(c.ip, '127.0.0.1');
  t.equal(c.forwardedFor, '127.0.0.1');
  t.equal(c.proto, 'http');
  t.equal(c.host, new URL(url).host);
});

void t.test('a trusted peer: XFF walked right to left skipping trusted hops; proto and host believed', async (t) => {
  const url = await serve(t, ['127.0.0.0/8', '10.0.0.0/8']);
  const c = (await (await request(url, { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.1.1.1', 'x-forwarded-proto': 'HTTPS', 'x-forwarded-host': 'vms.example.com' } })).body.json()) as Record<string, string>;
  t.equal(c.ip, '203.0.113.5');
  t.equal(c.forwardedFor, '198.51.100.1, 203.0.113.5, 10.1.1.1, 127.0.0.1');
  t.equal(c.proto, 'https');
  t.equal(c.host, 'vms.example.com');
});

void t.test('a trusted peer with junk or no forwarded headers', async (t) => {
  const url = await serve(t, ['127.0.0.1/32']);
  const junk = (await (await request(url, { headers: { 'x-forwarded-for': 'not-an-ip, <script>', 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'bad host/..' } })).body.json()) as Record<string, string>;
  t.equal(junk.ip, '127.0.0.1');
  t.equal(junk.forwardedFor, '127.0.0.1');
  t.equal(junk.proto, 'http');
  t.equal(junk.host, new URL(url).host);
  const ported = (await (await request(url, { headers: { 'x-forwarded-for': '[2001:db8::1]:1234, 192.0.2.4:80' } })).body.json()) as Record<string, string>;
  t.equal(ported.ip, '192.0.2.4');
  t.equal(ported.forwardedFor, '2001:db8::1, 192.0.2.4, 127.0.0.1');
  const allTrusted = (await (await request(url, { headers: { 'x-forwarded-for': '127.0.0.1' } })).body.json()) as Record<string, string>;
  t.equal(allTrusted.ip, '127.0.0.1');
});

void t.test('request ids: a safe client id is kept, anything else replaced by a UUID', async (t) => {
  const url = await serve(t, []);
  const keep = (await (await request(url, { headers: { 'x-request-id': 'abc-123_X.y' } })).body.json()) as Record<string, string>;
  t.equal(keep.id, 'abc-123_X.y');
  for (const bad of ['a b', 'x'.repeat(65), '<script>', '']) {
    const r = (await (await request(url, { headers: { 'x-request-id': bad } })).body.json()) as Record<string, string>;
    t.match(r.id, /^[0-9a-f-]{36}$/, JSON.stringify(bad));
  }
});

void t.test('trusted_proxies: a plain IPv6 network trusts no IPv4 peer; an IPv4-mapped one does', async (t) => {
  for (const trusted of [['::/0'], ['::/64'], ['2001:db8::/32']]) {
    const url = await serve(t, trusted);
    const c = (await (await request(url, { headers: spoof })).body.json()) as Record<string, string>;
    t.equal(c.ip, '127.0.0.1', `${trusted[0]}: the IPv4 peer's X-Forwarded-For is not believed`);
    t.equal(c.proto, 'http', `${trusted[0]}: nor its X-Forwarded-Proto`);
  }
  const url = await serve(t, ['::ffff:127.0.0.0/104']);
  const c = (await (await request(url, { headers: spoof })).body.json()) as Record<string, string>;
  t.equal(c.ip, '6.6.6.6', '::ffff:127.0.0.0/104 is 127.0.0.0/8: believed');
});
