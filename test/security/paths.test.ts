/**
 * Adversarial table: path and rule matching at every entrance of a running gateway (issue 12).
 *
 * Entrances: the built-in proxy (raw request line, so any byte can be sent, absolute-form included),
 * forward-auth with nginx's bare path (`X-Original-URL: /...` with `X-Forwarded-Host`), nginx's full URL
 * (`X-Original-URL: http://host/...`, as deploy/nginx-forward-auth.conf sends it) and Traefik/Caddy's
 * `X-Forwarded-Uri` + `X-Forwarded-Host` (on /_gateway/authz/forward-auth). Every row is one test per
 * entrance: the answer is 400 or "protected" (401 without a session) — never 200 — and the upstream sees
 * nothing. Rows marked `ambiguous` are paths that servers read under different rules: forward-auth must
 * answer exactly 400 (SPEC §3). Control rows show the same entrances still pass what they should.
 *
 * Two configurations: A — a bypass rule on /public (and on the host open.example.com), everything else
 * two_factor (test/fixtures/hostile-paths.ts plus the issues' cases); B — default bypass with /admin
 * protected and case-insensitive paths, where every row tries to reach /admin.
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import { startStack, type Stack } from '../fixtures/gateway.js';
import { HOSTILE } from '../fixtures/hostile-paths.js';

interface Raw {
  status: number;
}

/** One HTTP/1.1 request written byte for byte (the target and header values are not checked or encoded). */
function rawRequest(base: string, target: string, headers: Array<[string, string]>, localAddress?: string): Promise<Raw> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer for ${JSON.stringify(target)}`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve({ status: Number(m[1]) });
      else reject(new Error(`no status line for ${JSON.stringify(target)}: ${JSON.stringify(text.slice(0, 100))}`));
    });
    const head = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
    // Not end(): a half-closed client looks like an aborted request to the proxy. The server closes (Connection: close).
    socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\n${head}Connection: close\r\n\r\n`, 'utf8'));
  });
}

const HOST = 'vms.example.com';
type Entrance = 'proxy' | 'nginx bare path' | 'nginx full URL' | 'traefik/caddy';
const ENTRANCES: Entrance[] = ['proxy', 'nginx bare path', 'nginx full URL', 'traefik/caddy'];

/** The request that puts `target` (a path, or an absolute URL) through an entrance. */
function send(stack: Stack, entrance: Entrance, target: string, host = HOST, extra: Array<[string, string]> = []): Promise<Raw> {
  const full = target.startsWith('/') ? `http://${host}${target}` : target;
  switch (entrance) {
    case 'proxy':
      return rawRequest(stack.url, target, [['Host', host], ...extra]);
    case 'nginx bare path':
      return rawRequest(stack.url, '/_gateway/authz', [['Host', '127.0.0.1'], ['X-Original-URL', target], ['X-Original-Method', 'GET'], ['X-Forwarded-Host', host], ['X-Forwarded-Proto', 'https'], ...extra]);
    case 'nginx full URL':
      return rawRequest(stack.url, '/_gateway/authz', [['Host', '127.0.0.1'], ['X-Original-URL', full], ['X-Original-Method', 'GET'], ...extra]);
    case 'traefik/caddy':
      return rawRequest(stack.url, '/_gateway/authz/forward-auth', [['Host', '127.0.0.1'], ['X-Forwarded-Method', 'GET'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', host], ['X-Forwarded-Uri', target], ...extra]);
  }
}

interface Row {
  target: string;
  /** Forward-auth must answer exactly 400: servers read this path under different rules. */
  ambiguous?: boolean;
  host?: string;
}

async function refusedEverywhere(t: Test, stack: Stack, rows: readonly Row[]): Promise<void> {
  for (const row of rows) {
    for (const entrance of ENTRANCES) {
      const seen = stack.upstream.seen.length;
      const res = await send(stack, entrance, row.target, row.host);
      const label = `${entrance}: ${JSON.stringify(row.target)}${row.host ? ` (host ${row.host})` : ''}`;
      if (row.ambiguous && entrance !== 'proxy') t.equal(res.status, 400, `${label} → 400`);
      else t.ok(res.status === 400 || res.status === 401, `${label} → ${res.status} (400 or protected)`);
      t.equal(stack.upstream.seen.length, seen, `${label}: the upstream saw nothing`);
    }
  }
}

async function passedEverywhere(t: Test, stack: Stack, rows: readonly Row[]): Promise<void> {
  for (const row of rows) {
    for (const entrance of ENTRANCES) {
      const res = await send(stack, entrance, row.target, row.host);
      t.equal(res.status, 200, `control, ${entrance}: ${row.target}${row.host ? ` (host ${row.host})` : ''} passes`);
    }
  }
}

/** Configuration A: the issues' own cases, beyond the shared hostile list. */
const ISSUE_ROWS: Row[] = [
  ...['/public//../admin', '/public/x//../../admin', '/public/;/../admin', '/public/..;/admin', '/public/%2e%2e/admin', '/public/.%2e/admin', '/public/%2E./admin', '/public/%3b/../admin', '/public/x/..//../admin', '/public/.//../admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public///../../admin', '/public/%00/../admin', '/public/a%00b/../admin', '/public/%09/../admin', '/public/%0a/../admin', '/public/%0d/../admin', '/public/%7f/../admin', '/public/%c2%85/../admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/%ef%bc%8e%ef%bc%8e/admin', '/public/%EF%BC%8E%EF%BC%8E/admin', '/public/%ef%bc%8e%ef%bc%8e%ef%bc%8fadmin', '/public/%e2%80%a4%e2%80%a4/admin', '/public/%ef%b9%92%ef%b9%92/admin', '/public/%e2%80%a5/admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/%c0%ae%c0%ae/admin', '/public/%c0%2e%c0%2e/admin', '/public/%e0%80%ae%e0%80%ae/admin', '/public/%c1%9c../admin', '/public/..%c0%afadmin', '/public/..%c1%1cadmin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/.../admin', '/public/..../admin', '/public/..%20/admin', '/public/%20/../admin', '/public/.%20./admin', '/public/%2e%2e%20/admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/%252e%252e/admin', '/public/..%252fadmin', '/public%252f..%252fadmin', '/public/%25%32%65%25%32%65/admin', '/public/..%255cadmin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/\\../admin', '/public/%5c../admin', '/public\\..\\admin', '/public/..%5C/admin'].map((target) => ({ target, ambiguous: true })),
  // Issue 17 (Partial): full-width and other NFKC dots, `...` segments and NUL/tab anywhere in the path,
  // in every form — the full-URL forward-auth form refused these last.
  ...['/public/%ef%bc%8e/admin', '/public/x/%ef%bc%8e%ef%bc%8e', '/public/%ef%bc%8e%ef%bc%8e', '/public%ef%bc%8e%ef%bc%8e/admin', '/public/%e2%80%a6/admin', '/public/x/%e2%80%a6', '/public/%ef%bc%8e%ef%bc%8e%ef%bc%8e/admin', '/public/%e2%80%a4/admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/...', '/public/x/...', '/public/...%2fadmin', '/public/%2e%2e%2e/admin', '/public/..%2e/admin', '/public/.%2e./admin', '/public/.... /admin', '/public/...;/admin'].map((target) => ({ target, ambiguous: true })),
  ...['/public/x%00', '/public%00', '/public/%00', '/public/x%00.css', '/public/x%09', '/public%09/x', '/public/%09', '/public/x%0d%0a', '/public/x%7f', '/public/x%1f'].map((target) => ({ target, ambiguous: true })),
  { target: '/public/../admin' },
  { target: '/PUBLIC/x' },
  { target: '/pUbLiC/../admin' },
  { target: '/public/../../admin' },
  { target: 'http://vms.example.com/public/../admin' },
  { target: 'http://vms.example.com/public//../admin' },
  { target: 'HTTP://VMS.EXAMPLE.COM/admin' },
  { target: 'https://vms.example.com/public/%2e%2e/admin' },
];

/** Configuration A: host variations against the host rule `open.example.com` (bypass). */
const HOST_ROWS: Row[] = ['open.example.com.evil.com', 'xopen.example.com', 'open-example.com', 'open.example.co', 'evil.com', 'sub.open.example.com', 'open.example.com:80@evil.com', 'open.example.com%2e', 'open.example.com..', '[::1]'].map((host) => ({ target: '/x', host }));

/** Configuration B (default bypass, /admin protected, case-insensitive): every row tries to reach /admin. */
const ADMIN_ROWS: Row[] = [
  { target: '/admin' },
  { target: '/admin/' },
  { target: '/ADMIN' },
  { target: '/Admin/x' },
  { target: '/%61dmin' },
  { target: '/%41DMIN/x' },
  { target: '/adm%69n' },
  { target: '//admin' },
  { target: '/./admin' },
  { target: '/x/../admin' },
  { target: '/admin;x' },
  { target: '/admin;/x' },
  { target: '/admin?x=/public' },
  { target: 'http://vms.example.com/ADMIN' },
  ...['/%2561dmin', '/admin.', '/admin./x', '/admin%2e', '/admin..', '/admin%20', '/admin%20/x', '/admin.%20.', '/admin::$DATA', '/ADMIN::$data/x', '/%ef%bd%81dmin', '/%ef%bc%a1%ef%bc%a4%ef%bc%ad%ef%bc%a9%ef%bc%ae', '/x//../admin', '/x/;/../admin', '/x/..;/admin', '/x/%2e%2e/admin', '/x/.../admin', '/x/%c0%ae%c0%ae/admin', '/x/%ef%bc%8e%ef%bc%8e/admin', '/admin%00', '/admin%00.png', '/admin%0a', '/admin%09', '/admin%2f', '/admin%5c', '/admin\\', '/x\\..\\admin', '/%2e/admin', '/x/%252e%252e/admin'].map((target) => ({ target, ambiguous: true })),
];

void t.test('configuration A: bypass on /public (and host open.example.com), everything else two_factor', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor', rules: [{ hosts: ['open.example.com'], policy: 'bypass' }, { paths: ['/public'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());

  await t.test('the shared hostile list (test/fixtures/hostile-paths.ts), every entrance', (t) => refusedEverywhere(t, stack, HOSTILE.map((target) => ({ target }))));
  await t.test("the issues' cases: ambiguous readings, controls, fullwidth and overlong dots, dot-and-space segments, double encoding, backslashes, case, absolute form", (t) => refusedEverywhere(t, stack, ISSUE_ROWS));
  await t.test('host variations never reach the host rule', (t) => refusedEverywhere(t, stack, HOST_ROWS));

  await t.test('absolute-form targets whose authority disagrees with Host, at the proxy', async (t) => {
    for (const target of ['http://open.example.com/x', 'http://open.example.com/public/../admin', 'https://evil.com/public/x', 'http://vms.example.com:8080/public/x']) {
      const res = await send(stack, 'proxy', target, HOST);
      t.equal(res.status, 400, `${target} with Host ${HOST}`);
    }
  });

  // (X-Forwarded-Host/-Uri are believed from trusted_proxies, which this test's loopback client is.)
  await t.test('URL and method override headers from a client do not change the proxy decision', async (t) => {
    const seen = stack.upstream.seen.length;
    const overrides: Array<[string, string]> = [
      ['X-Original-URL', '/public/x'],
      ['X-Rewrite-URL', '/public/x'],
      ['X-HTTP-Method-Override', 'GET'],
      ['X-Original-Method', 'OPTIONS'],
    ];
    for (const header of overrides) t.equal((await send(stack, 'proxy', '/admin', HOST, [header])).status, 401, `${header[0]}: ${header[1]} on /admin`);
    t.equal(stack.upstream.seen.length, seen, 'the upstream saw nothing');
  });

  await t.test('forward-auth headers from an address outside trusted_proxies are not believed (403)', async (t) => {
    for (const path of ['/_gateway/authz', '/_gateway/authz/forward-auth']) {
      const res = await rawRequest(stack.url, path, [['Host', HOST], ['X-Original-URL', `http://${HOST}/public/x`], ['X-Forwarded-Uri', '/public/x'], ['X-Forwarded-Host', 'open.example.com']], '127.0.0.2');
      t.equal(res.status, 403, path);
    }
  });

  await t.test('control rows still pass at every entrance', async (t) => {
    await passedEverywhere(t, stack, [
      { target: '/public' },
      { target: '/public/' },
      { target: '/public/x.css?v=1' },
      { target: '/public/a/../b' },
      { target: '/public/caf%C3%A9' },
      { target: '/public/x.' },
      { target: '/admin/../public/x' },
      { target: '/x', host: 'open.example.com' },
      { target: '/x', host: 'OPEN.EXAMPLE.COM' },
      { target: '/x', host: 'open.example.com:8080' },
    ]);
    t.equal((await send(stack, 'proxy', 'http://vms.example.com/public/x', HOST)).status, 200, 'absolute-form matching Host');
  });
});

void t.test('configuration B: default bypass, /admin two_factor, case-insensitive paths — every row tries to reach /admin', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'bypass', case_insensitive_paths: true, rules: [{ paths: ['/admin'], policy: 'two_factor' }] },
    },
  });
  t.teardown(() => stack.close());
  await t.test('never 200 on /admin without a session', (t) => refusedEverywhere(t, stack, ADMIN_ROWS));
  await t.test('control rows still pass', (t) => passedEverywhere(t, stack, [{ target: '/' }, { target: '/x' }, { target: '/adminx' }, { target: '/x/admin' }, { target: '/public/report.' }, { target: '/x/a%20b' }]));
});
