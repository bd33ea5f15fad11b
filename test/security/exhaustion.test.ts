/**
 * Adversarial table: resource exhaustion (issue 12) — slowloris on headers and on bodies (the server
 * closes such connections within its configured timeouts: asserted is that the connection is closed,
 * not how fast), oversized headers, request lines, forms and JSON, and the Redis keys that anonymous and
 * half-finished flows create (counted in a real redis-server: every key has a TTL, and what one client
 * can create is bounded by its throttle).
 */
import t from 'tap';
import net from 'node:net';
import { Redis } from 'ioredis';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { startRedis } from '../fixtures/redis.js';
import { HOST, rawExchange } from './tables.js';

/**
 * Opens a connection, writes `head`, then one byte of `drip` every `everyMs` for as long as the server
 * keeps the connection open (at most `limitMs`). Resolves whether the server closed it, and what it said.
 */
function slowClient(base: string, head: string, drip: string, everyMs: number, limitMs: number): Promise<{ closed: boolean; answer: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let answer = '';
    let i = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(limit);
      socket.destroy();
      resolve({ closed, answer });
    };
    const timer = setInterval(() => {
      if (!socket.writable) return;
      socket.write(drip[i % drip.length]!);
      i++;
    }, everyMs);
    const limit = setTimeout(() => finish(false), limitMs);
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(head);
  });
}

async function scanKeys(redis: Redis, prefix: string): Promise<Array<{ key: string; ttl: number }>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return Promise.all(keys.map(async (key) => ({ key, ttl: await redis.pttl(key) })));
}

void t.test('slowloris and oversized input', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'], limits: { header_timeout: '1s', request_timeout: '2s', max_header_size: 16_384, max_form_body: 65_536 } },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/public'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());
  const LIMIT = 20_000; // generous: the assertion is that the server closes, not how fast

  await t.test('slow headers (one header byte every 200 ms) are cut off at every entrance', async (t) => {
    const heads: Array<[string, string]> = [
      ['proxy', `GET /public/x HTTP/1.1\r\nHost: ${HOST}\r\n`],
      ['portal', `GET /_gateway/login HTTP/1.1\r\nHost: ${HOST}\r\n`],
      ['api', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\n`],
      ['authz', `GET /_gateway/authz HTTP/1.1\r\nHost: 127.0.0.1\r\n`],
      ['websocket', `GET /ws HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\n`],
      ['request line only', `GET /public/x HTTP/1.1\r\n`],
      ['partial request line', `GET /public/`],
    ];
    const results = await Promise.all(heads.map(async ([name, head]) => [name, await slowClient(stack.url, head, 'X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n', 200, LIMIT)] as const));
    for (const [name, r] of results) t.ok(r.closed, `${name}: closed by the server${r.answer ? ` (${r.answer.slice(0, 12)})` : ''}`);
    t.equal(stack.upstream.seen.length, 0, 'nothing reached the upstream');
  });

  await t.test('slow bodies (one byte every 200 ms of a declared 10 kB) are cut off at every entrance', async (t) => {
    const heads: Array<[string, string]> = [
      ['proxy', `POST /public/upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000\r\n\r\n`],
      ['proxy, chunked', `POST /public/upload HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n`],
      ['portal form', `POST /_gateway/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n`],
      ['api JSON', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n`],
      ['recovery form', `POST /_gateway/recover HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n`],
    ];
    const results = await Promise.all(heads.map(async ([name, head]) => [name, await slowClient(stack.url, head, 'a', 200, LIMIT)] as const));
    for (const [name, r] of results) t.ok(r.closed, `${name}: closed by the server${r.answer ? ` (${r.answer.slice(0, 12)})` : ''}`);
  });

  await t.test('oversized input is refused at every entrance', async (t) => {
    const big = 'a'.repeat(20_000);
    const rows: Array<[string, string, number[]]> = [
      ['header over max_header_size (proxy)', `GET /public/x HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`, [431]],
      ['header over max_header_size (authz)', `GET /_gateway/authz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Original-URL: http://${HOST}/public/${big}\r\nConnection: close\r\n\r\n`, [431]],
      ['many small headers over max_header_size', `GET /public/x HTTP/1.1\r\nHost: ${HOST}\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: 1234567\r\n`).join('')}Connection: close\r\n\r\n`, [431]],
      ['request line over max_header_size', `GET /public/${big} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`, [414, 431]],
      ['cookie over max_header_size (portal)', `GET /_gateway/login HTTP/1.1\r\nHost: ${HOST}\r\nCookie: portcullis_session=${big}\r\nConnection: close\r\n\r\n`, [431]],
      ['portal form over max_form_body', `POST /_gateway/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 70000\r\nConnection: close\r\n\r\nusername=${'a'.repeat(69_991)}`, [413]],
      ['portal form declaring 1 GB', `POST /_gateway/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\nusername=a`, [413]],
      ['API JSON over its 16 kB limit', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: 20012\r\nConnection: close\r\n\r\n{"username":"${'a'.repeat(19_986)}"}`, [413]],
      ['API JSON declaring 1 GB', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n{}`, [413]],
      ['API JSON nested 10,000 deep (within the size limit)', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n${'['.repeat(10_000)}${']'.repeat(10_000)}`, [400, 413]],
      ['API chunked JSON over the limit', `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${'4e20\r\n' + 'a'.repeat(20_000) + '\r\n'}0\r\n\r\n`, [413]],
      ['recovery form over max_form_body', `POST /_gateway/recover HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 70000\r\nConnection: close\r\n\r\nusername=${'a'.repeat(69_991)}`, [413]],
    ];
    for (const [name, payload, statuses] of rows) {
      const res = await rawExchange(stack.url, Buffer.from(payload, 'latin1'), { waitMs: 10_000 });
      t.ok(statuses.includes(res.status), `${name}: ${res.status} (expected ${statuses.join(' or ')})`);
      t.ok(res.closed, `${name}: the connection is closed`);
    }
    const username = 'u'.repeat(300);
    const tooLong = await new Browser(stack.url).json('/_gateway/api/v1/login', { username, password: 'p'.repeat(2000) });
    t.equal(tooLong.status, 400, 'JSON API: overlong username and password fields: 400, nothing hashed');
    t.equal(stack.upstream.seen.length, 0, 'nothing reached the upstream');
  });
});

void t.test('Redis keys from anonymous and half-finished flows: all expire, and one client’s are bounded', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const PREFIX = 'exh:';
  const PER_CLIENT = 20;
  const stack: Stack = await startStack({
    config: {
      session: { store: 'redis', redis: { url: redis.url, key_prefix: PREFIX } },
      regulation: { max_failures: 5, max_failures_per_client: PER_CLIENT, window: '10m', block: '5m' },
    },
  });
  t.teardown(() => stack.close());
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  const keys = () => scanKeys(client, PREFIX);

  const noTtl = (list: Array<{ key: string; ttl: number }>) => list.filter((k) => k.ttl < 0).map((k) => k.key);
  const baseline = await keys();

  await t.test('anonymous page views make no keys', async (t) => {
    for (let i = 0; i < 50; i++) {
      const b = new Browser(stack.url);
      await b.get('/_gateway/login');
      await b.get('/_gateway/recover');
      await b.get('/cams');
    }
    t.equal((await keys()).length, baseline.length, 'no key per anonymous visit');
  });

  await t.test('half-finished sign-ins (password only, never a code): every key expires within the sign-in window', async (t) => {
    const before = await keys();
    for (let i = 0; i < 30; i++) {
      const b = new Browser(stack.url);
      await b.get('/_gateway/login');
      await b.post('/_gateway/login', { username: 'alice', password: 'alice-password-1', csrf: b.csrf(), rd: '/' });
    }
    const after = await keys();
    t.same(noTtl(after), [], 'every key has a TTL');
    const fresh = after.filter((k) => !before.some((b) => b.key === k.key));
    t.ok(fresh.length > 0, `the half-finished sign-ins made ${fresh.length} keys`);
    const longest = Math.max(...fresh.map((k) => k.ttl));
    t.ok(longest <= 12 * 3600_000, `the longest lives ${Math.round(longest / 1000)} s, no longer than the session lifetime`);
    t.comment(`half-finished sign-ins: ${fresh.length} keys for 30 sign-ins; TTLs ${[...new Set(fresh.map((k) => Math.round(k.ttl / 60_000)))].sort((a, b) => a - b).join(', ')} min`);
  });
  await t.test(`300 wrong sign-ins for 300 different names from one client: at most ~${PER_CLIENT} names are counted, every key expires`, async (t) => {
    const start = await keys();
    for (let i = 0; i < 300; i++) {
      const res = await new Browser(stack.url).json('/_gateway/api/v1/login', { username: `ghost-${i}`, password: 'wrong-password-1' });
      if (i < PER_CLIENT - 1) t.equal(res.status, 401);
    }
    const after = await keys();
    t.same(noTtl(after), [], 'every key has a TTL');
    const created = after.length - start.length;
    t.ok(created <= PER_CLIENT + 5, `keys created: ${created} (bounded by the client throttle, not by the 300 names)`);
  });

  await t.test('300 recovery-link requests for different names from one client: bounded, all expire', async (t) => {
    const before = (await keys()).length;
    const b = new Browser(stack.url);
    for (let i = 0; i < 300; i++) {
      await b.get('/_gateway/recover');
      await b.post('/_gateway/recover', { username: `ghost-r-${i}`, csrf: b.csrf() });
    }
    const after = await keys();
    t.same(noTtl(after), [], 'every key has a TTL');
    t.ok(after.length - before <= 2 * PER_CLIENT + 5, `keys created: ${after.length - before}`);
  });

});

void t.test('a client outside trusted_proxies cannot escape its throttle with X-Forwarded-For', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] }, regulation: { max_failures: 1000, max_failures_per_client: 5, window: '10m', block: '5m' } } });
  t.teardown(() => stack.close());
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const body = JSON.stringify({ username: `ghost-${i}`, password: 'wrong-password-1' });
    const payload = `POST /_gateway/api/v1/login HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Forwarded-For: 10.9.${i}.${i}\r\nX-Real-IP: 10.9.${i}.${i}\r\nForwarded: for=10.9.${i}.${i}\r\nConnection: close\r\n\r\n${body}`;
    statuses.push((await rawExchange(stack.url, Buffer.from(payload, 'latin1'), { waitMs: 10_000, localAddress: '127.0.0.2' })).status);
  }
  t.same(statuses.slice(0, 5), [401, 401, 401, 401, 401], 'five wrong passwords');
  t.ok(statuses.slice(5).every((s) => s === 429), `then throttled whatever the forwarded address says (${statuses.slice(5).join(' ')})`);
  const audited = stack.logs.audits('login').map((l) => l.client_ip);
  t.ok(audited.every((ip) => ip === '127.0.0.2'), 'the audit names the real peer');
});
