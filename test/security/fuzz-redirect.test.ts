/**
 * Property-based: the redirect validator (policy/redirect.ts) never answers a target whose origin is not
 * served, whatever `rd` is — arbitrary strings, fast-check's URLs, and URLs assembled from hostile pieces
 * (schemes, userinfo, look-alike hosts, ports, backslashes, controls, encodings). The served origins are
 * computed here independently: the public_url origins, the request's own origin, and the configured host
 * names in the request's scheme and port. A relative answer must stay on the request's origin when the
 * browser resolves it, and no answer carries a control character or whitespace.
 */
import t from 'tap';
import fc from 'fast-check';
import { safeRedirect, type RedirectContext } from '../../src/policy/redirect.js';
import { fuzzParameters } from './fuzz.js';

const CONTEXTS: RedirectContext[] = [
  { requestOrigin: 'https://gw.example.com', servedOrigins: new Set(['https://vms.example.com', 'https://gw.example.com:8443']), servedHosts: new Set(['gw.example.com', 'vms.example.com', 'cams.example.com']) },
  { requestOrigin: 'http://127.0.0.1:18080', servedOrigins: new Set(['http://127.0.0.1:18080']), servedHosts: new Set(['127.0.0.1']) },
  { requestOrigin: 'http://gw.example.com:8080', servedOrigins: new Set(), servedHosts: new Set(['cams.example.com']), fallback: '/home' },
];

/** The origins a browser may be sent to, written out without the validator's code. */
function allowedOrigins(ctx: RedirectContext): Set<string> {
  const out = new Set(ctx.servedOrigins);
  const req = new URL(ctx.requestOrigin);
  out.add(req.origin);
  for (const h of ctx.servedHosts) out.add(`${req.protocol}//${h}${req.port ? `:${req.port}` : ''}`);
  return out;
}

function check(ctx: RedirectContext, rd: string | undefined): void {
  const out = safeRedirect(rd, ctx);
  const fallback = ctx.fallback ?? '/';
  if (out === fallback) return;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f-\uffff\\]/.test(out)) throw new Error(`answer has whitespace, a control, a backslash or non-ASCII: ${JSON.stringify(out)}`);
  if (out.startsWith('/')) {
    if (out.startsWith('//')) throw new Error(`scheme-relative answer ${out}`);
    const resolved = new URL(out, ctx.requestOrigin);
    if (resolved.origin !== new URL(ctx.requestOrigin).origin) throw new Error(`relative answer ${out} leaves the request's origin`);
    return;
  }
  const url = new URL(out);
  if (!allowedOrigins(ctx).has(url.origin)) throw new Error(`${JSON.stringify(rd)} → ${out}: origin ${url.origin} is not served`);
  if (url.username !== '' || url.password !== '') throw new Error(`userinfo in ${out}`);
  if (new URL(ctx.requestOrigin).protocol === 'https:' && url.protocol === 'http:') throw new Error(`downgrade to ${out}`);
}

const scheme = fc.constantFrom('http', 'https', 'HTTP', 'HtTpS', 'javascript', 'data', 'ftp', 'ws', 'file', '', 'http:', 'https:/');
const userinfo = fc.constantFrom('', 'user@', 'user:pw@', 'gw.example.com@', 'a%40b@', '@');
const host = fc.constantFrom(
  'gw.example.com', 'vms.example.com', 'cams.example.com', '127.0.0.1', 'GW.EXAMPLE.COM', 'gw.example.com.', 'gw.example.com.evil.com',
  'evil.com', 'evilgw.example.com', 'x.gw.example.com', 'gw%2eexample.com', 'gw.example.com%40evil.com', '2130706433', '0x7f.1',
  '[::1]', 'xn--gw-example.com', 'gw\\.example.com', 'gw.example.com\\@evil.com', 'gw.example.com#@evil.com', '',
);
const port = fc.constantFrom('', ':443', ':80', ':8443', ':8080', ':18080', ':9999', ':0', ':65536', ':', ':0443');
const slashes = fc.constantFrom('//', '/', '', '\\\\', '/\\', '\\/', '///', ' //', '\t//', '%2f%2f', '/%2f');
const tail = fc.constantFrom('', '/', '/x', '/x?y=1', '/a/../b', '/%2e%2e/x', '?q', '#f', '/\r\nSet-Cookie:a=b', '/%0d%0a', '/x y', '/.//evil.com', '/%09x', '/\u3000');
const assembled = fc.tuple(scheme, slashes, userinfo, host, port, tail).map(([s, sl, u, h, p, tl]) => `${s}${s ? ':' : ''}${sl}${u}${h}${p}${tl}`);
/** Mostly well-formed absolute URLs: served and unserved hosts, ports and schemes meet here. */
const nearValid = fc
  .tuple(fc.constantFrom('http', 'https', 'HTTPS'), fc.constantFrom('', '', '', 'user@'), host, port, tail)
  .map(([s, u, h, p, tl]) => `${s}://${u}${h}${p}${tl}`);
const relative = fc.tuple(fc.constantFrom('/', '//', '/\\', '\\', '/.', '/..', '/%2f', '/%5c', ''), fc.string({ maxLength: 30 })).map(([a, b]) => a + b);

void t.test('fuzz: the redirect validator never answers an origin that is not served', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...CONTEXTS.keys()), fc.oneof(nearValid, assembled, relative, fc.webUrl(), fc.string({ unit: 'binary', maxLength: 300 }), fc.constant(undefined)), (i, rd) => check(CONTEXTS[i]!, rd)),
    fuzzParameters(1000),
  );
  t.pass('property held');
  t.end();
});

void t.test('the generators reach both answers (the property is not vacuous)', (t) => {
  const seen = { honoured: 0, fallback: 0 };
  fc.assert(
    fc.property(nearValid, (rd) => {
      const out = safeRedirect(rd, CONTEXTS[0]!);
      if (out === '/') seen.fallback++;
      else seen.honoured++;
    }),
    { numRuns: 2000, seed: 42 },
  );
  t.ok(seen.honoured > 0, `${seen.honoured} generated targets honoured`);
  t.ok(seen.fallback > 0, `${seen.fallback} fell back`);
  t.end();
});
