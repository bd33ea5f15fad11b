/**
 * Adversarial table: redirect targets (`rd`, issue 12) at every place the gateway sends a browser on —
 * the sign-in page (its form keeps `rd`), the password POST (303), the sign-in page of a signed-in
 * browser (303), the second-step page (its form) and its sign-in redirect, the enrolment pages (links
 * and form), sign-out (which takes no
 * target at all), and forward-auth's sign-in link (built from public_url, never from a forwarded host,
 * whose `rd` the portal then judges). The JSON API takes no return URL.
 *
 * Every hostile row must end at `portal.default_redirect` (`/`); the control rows keep their target.
 */
import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { DEFAULT_USERS, startStack } from '../fixtures/gateway.js';
import { rawGet } from './tables.js';

const PUBLIC = 'http://vms.example.com';

function hostile(port: number): string[] {
  return [
    // scheme-relative and slash tricks
    '//evil.com', '///evil.com', '////evil.com/x', '/\\evil.com', '\\\\evil.com', '/\\/evil.com', '\\/evil.com', '/.//evil.com', '//evil.com/%2e%2e',
    // whitespace and control characters, raw and encoded
    ' //evil.com', '\t//evil.com', '/\t/evil.com', '\n//evil.com', '/%09/evil.com', '/%0a/evil.com', '/%00//evil.com', '/\u0000//evil.com', '%20//evil.com', '/ /evil.com',
    // encoded separators
    '/%2f%2fevil.com', '/%2F/evil.com', '%2f%2fevil.com', '/%5cevil.com', '/%5C%5Cevil.com', '/%252f%252fevil.com',
    // other hosts, suffix and look-alike hosts
    'http://evil.com', 'https://evil.com/x', 'http://vms.example.com.evil.com/', 'http://vms.example.comevil.com/', 'http://vms-example.com/', 'http://vmsexample.com/', 'http://evilvms.example.com/', 'http://vms.example.co/', 'http://vms.example.com%2eevil.com/', 'http://vms.example.com%00.evil.com/', 'http://vms.example.com\u3002evil.com/', 'http://ｖms.example.com/', 'http://vms.exаmple.com/' /* Cyrillic а */, 'http://xn--vms-example-com.evil/',
    // userinfo
    'http://vms.example.com@evil.com/', 'http://evil.com@vms.example.com/', 'http://user:pass@vms.example.com/', '//vms.example.com@evil.com', 'http://vms.example.com:80@evil.com/', 'http://evil.com\\@vms.example.com/', 'http://evil.com#@vms.example.com/', 'http://evil.com?@vms.example.com/',
    // the served host on another port or scheme
    'http://vms.example.com:9999/', 'https://vms.example.com/', 'http://vms.example.com:443/', `http://127.0.0.1:9999/steal`, `https://127.0.0.1:${port}/`, `http://127.0.0.1:${port + 1}/`, 'http://localhost/', 'http://[::1]/', 'http://0x7f.0.0.1/', 'http://2130706433/',
    // other schemes
    'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'javascript://vms.example.com/%0aalert(1)', ' javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'vbscript:msgbox(1)', 'file:///etc/passwd', 'ftp://vms.example.com/', 'ws://vms.example.com/', 'blob:http://vms.example.com/x',
    // malformed http URLs
    'http:evil.com', 'http:/evil.com', 'https:\\\\evil.com', 'http:\\\\vms.example.com', 'http//evil.com', 'http:///evil.com',
    // CRLF (header injection), raw and encoded
    '/cams\r\nSet-Cookie: x=1', '/cams%0d%0aSet-Cookie:%20x=1', '/%0d%0aLocation:%20http://evil.com', '/cams%0D%0ALocation: //evil.com', '/cams\u2028//evil.com',
    // too long
    `/${'a'.repeat(5000)}`,
  ];
}

const CONTROL = (port: number): Array<[string, string]> => [
  ['/cams', '/cams'],
  ['/cams/live?x=1#top', '/cams/live?x=1#top'],
  [`${PUBLIC}/cams`, `${PUBLIC}/cams`],
  [`http://127.0.0.1:${port}/cams`, `http://127.0.0.1:${port}/cams`],
];

/** A row as a one-line ASCII label (U+2028 in a TAP line would break the stream). */
function label(rd: string): string {
  const short = rd.length > 80 ? `${rd.slice(0, 40)}…(${rd.length})` : rd;
  return JSON.stringify(short).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function hiddenRd(page: string): string | undefined {
  const m = /<input type="hidden" name="rd" value="([^"]*)">/.exec(page);
  return m?.[1]?.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/g, '/').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;|&#x27;/g, "'");
}

function rdOf(location: string | undefined): string | null {
  if (!location) return null;
  return new URL(location, 'http://base.invalid').searchParams.get('rd');
}

void t.test('redirect targets at every place the gateway sends a browser', async (t) => {
  const stack = await startStack({ users: { ...DEFAULT_USERS, dave: { password: 'dave-password-1', groups: [] } }, config: { server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'], public_url: PUBLIC }, access: { default_policy: 'two_factor' } } });
  t.teardown(() => stack.close());
  const port = Number(new URL(stack.url).port);

  // A signed-in browser (svc needs no second factor) and a half-signed-in one (alice, password only).
  const full = new Browser(stack.url);
  await full.get('/_gateway/login');
  await full.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: full.csrf(), rd: '/' });
  // dave has no second factor yet: his password step leads to enrolment.
  const enrolling = new Browser(stack.url);
  await enrolling.get('/_gateway/login');
  await enrolling.post('/_gateway/login', { username: 'dave', password: 'dave-password-1', csrf: enrolling.csrf(), rd: '/' });
  const half = new Browser(stack.url);
  await half.get('/_gateway/login');
  await half.post('/_gateway/login', { username: 'alice', password: 'alice-password-1', csrf: half.csrf(), rd: '/' });

  /** Every place an `rd` is judged; each answers where the browser would be sent. */
  const places: Array<[string, (rd: string) => Promise<string | null | undefined>]> = [
    ['sign-in page form', async (rd) => hiddenRd((await new Browser(stack.url).get(`/_gateway/login?rd=${encodeURIComponent(rd)}`)).text)],
    [
      'password POST (303)',
      async (rd) => {
        const b = new Browser(stack.url);
        await b.get('/_gateway/login');
        return (await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd })).location;
      },
    ],
    ['sign-in page of a signed-in browser (303)', async (rd) => (await full.get(`/_gateway/login?rd=${encodeURIComponent(rd)}`)).location],
    ['second-step page form', async (rd) => hiddenRd((await half.get(`/_gateway/verify?rd=${encodeURIComponent(rd)}`)).text)],
    ['second-step page without a session (to sign-in)', async (rd) => rdOf((await new Browser(stack.url).get(`/_gateway/verify?rd=${encodeURIComponent(rd)}`)).location)],
    ['enrolment page links', async (rd) => rdOf(/href="(\/_gateway\/enroll\/[a-z]+\?rd=[^"]*)"/.exec((await enrolling.get(`/_gateway/enroll?rd=${encodeURIComponent(rd)}`)).text)?.[1]?.replace(/&amp;/g, '&'))],
    ['enrolment method page form', async (rd) => hiddenRd((await enrolling.get(`/_gateway/enroll/totp?rd=${encodeURIComponent(rd)}`)).text)],
    ['second-step page of a signed-in browser (303)', async (rd) => (await full.get(`/_gateway/verify?rd=${encodeURIComponent(rd)}`)).location],
  ];

  await t.test('control rows keep their target', async (t) => {
    for (const [rd, expected] of CONTROL(port)) for (const [place, judge] of places) t.equal(await judge(rd), expected, `${place}: ${rd}`);
  });

  for (const [place, judge] of places) {
    await t.test(`hostile targets → / at: ${place}`, async (t) => {
      for (const rd of hostile(port)) t.equal(await judge(rd), '/', label(rd));
    });
  }

  await t.test('sign-out takes no target: POST and GET /logout never send anywhere but the portal', async (t) => {
    for (const rd of hostile(port).slice(0, 30)) {
      const b = new Browser(stack.url);
      await b.get('/_gateway/login');
      await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd: '/' });
      const page = await b.get(`/_gateway/logout?rd=${encodeURIComponent(rd)}&return_to=${encodeURIComponent(rd)}`);
      t.notMatch(page.text, /evil\.com/, `GET /logout page: ${label(rd)}`);
      const out = await b.post(`/_gateway/logout?rd=${encodeURIComponent(rd)}`, { csrf: b.csrf(), rd, return_to: rd });
      t.equal(out.status, 303);
      t.equal(out.location, '/_gateway/login?notice=logged_out', `POST /logout: ${label(rd)}`);
    }
  });

  await t.test('forward-auth: the sign-in link is on public_url whatever the forwarded host; its rd is judged by the portal', async (t) => {
    const hosts = ['evil.com', 'vms.example.com.evil.com', 'evil.com:443', 'vms.example.com:9999', 'VMS.EXAMPLE.COM', 'vms.example.com'];
    for (const host of hosts) {
      for (const [entrance, path, headers] of [
        ['authz', '/_gateway/authz', [['X-Original-URL', `http://${host}/cams`], ['X-Original-Method', 'GET']]],
        ['authz path', '/_gateway/authz', [['X-Original-URL', '/cams'], ['X-Forwarded-Host', host], ['X-Forwarded-Proto', 'http']]],
        ['traefik/caddy', '/_gateway/authz/forward-auth', [['X-Forwarded-Uri', '/cams'], ['X-Forwarded-Host', host], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-Method', 'GET']]],
      ] as Array<[string, string, Array<[string, string]>]>) {
        const res = await rawGet(stack.url, path, [['Host', '127.0.0.1'], ['Accept', 'text/html'], ...headers]);
        const location = res.headers.location ?? '';
        t.ok(location.startsWith(`${PUBLIC}/_gateway/login?`), `${entrance} ${host}: the link is on public_url (${location.slice(0, 60)})`);
        // The browser follows it and signs in: where does it end up?
        const rd = rdOf(location) ?? '';
        const b = new Browser(stack.url);
        await b.get('/_gateway/login');
        const after = (await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd })).location;
        const servedHost = host.toLowerCase() === 'vms.example.com';
        t.equal(after, servedHost ? `${PUBLIC}/cams` : '/', `${entrance} ${host}: after sign-in → ${after ?? ''}`);
      }
    }
  });

  await t.test('nothing hostile reached a Location header or a page as a link', async (t) => {
    const b = new Browser(stack.url);
    const page = await b.get(`/_gateway/login?rd=${encodeURIComponent('javascript:alert(1)')}`);
    t.notMatch(page.text, /javascript:alert/);
    const crlf = await rawGet(stack.url, `/_gateway/login?rd=%2Fcams%0d%0aSet-Cookie:%20x=1`, [['Host', '127.0.0.1']]);
    t.notOk('x' in crlf.headers || /Set-Cookie: x=1/i.test(crlf.head), 'no header injected');
  });
});
