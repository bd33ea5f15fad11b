import t from 'tap';
import { safeRedirect, type RedirectContext } from '../../src/policy/redirect.js';

/** A request on https://gw.example.com; public_url vms.example.com (443) and gw.example.com:8443; configured hosts. */
const ctx: RedirectContext = {
  requestOrigin: 'https://gw.example.com',
  servedOrigins: new Set(['https://vms.example.com', 'https://gw.example.com:8443']),
  servedHosts: new Set(['gw.example.com', 'vms.example.com', 'cams.example.com']),
};

/** Issue 12 item 3: signed in on http://127.0.0.1:18080 (its public_url). */
const local: RedirectContext = {
  requestOrigin: 'http://127.0.0.1:18080',
  servedOrigins: new Set(['http://127.0.0.1:18080']),
  servedHosts: new Set(['127.0.0.1', '127.0.0.1:18080']),
};

void t.test('honours relative paths on the same host', (t) => {
  const rows: Array<[string, string]> = [
    ['/', '/'],
    ['/app/page?x=1&y=%2F#frag', '/app/page?x=1&y=%2F#frag'],
    ['/a/./b/../c', '/a/c'],
    ['/caf%C3%A9', '/caf%C3%A9'],
    ['/x?next=https://evil.example', '/x?next=https://evil.example'],
  ];
  for (const [rd, want] of rows) t.equal(safeRedirect(rd, ctx), want, rd);
  t.end();
});

void t.test('honours absolute URLs whose origin is served', (t) => {
  const rows: Array<[string, string, RedirectContext?]> = [
    ['https://gw.example.com/x?y=1', 'https://gw.example.com/x?y=1'],
    ['https://gw.example.com:443/x', 'https://gw.example.com/x'],
    ['https://vms.example.com', 'https://vms.example.com/'],
    ['HTTPS://VMS.example.com/a', 'https://vms.example.com/a'],
    ['https://gw.example.com:8443/a', 'https://gw.example.com:8443/a'],
    ['https://cams.example.com/live', 'https://cams.example.com/live', undefined],
    ['http://127.0.0.1:18080/x', 'http://127.0.0.1:18080/x', local],
    ['http://localhost:8080/x', 'http://localhost:8080/x', { requestOrigin: 'http://localhost:8080', servedOrigins: new Set(), servedHosts: new Set() }],
    ['http://cams.example.com:8080/x', 'http://cams.example.com:8080/x', { ...ctx, requestOrigin: 'http://gw.example.com:8080' }],
  ];
  for (const [rd, want, c] of rows) t.equal(safeRedirect(rd, c ?? ctx), want, rd);
  t.end();
});

void t.test('everything else falls back (one row per trick)', (t) => {
  const rows: Array<[string, string | undefined, RedirectContext?]> = [
    ['nothing', undefined],
    ['empty', ''],
    // issue 12 item 3: the served host on another port or scheme
    ['served host, another port', 'http://127.0.0.1:9999/steal', local],
    ['served host, another port (https)', 'https://127.0.0.1:18080/steal', local],
    ['served host, default port instead of 18080', 'http://127.0.0.1/steal', local],
    ['configured host, another port', 'https://vms.example.com:9999/x'],
    ['configured host on a port the request did not use', 'https://cams.example.com:8443/x'],
    ['public_url host on another port', 'https://gw.example.com:9443/x'],
    ['downgrade to http', 'http://vms.example.com/a'],
    ['downgrade to http, same host', 'http://gw.example.com/a'],
    ['another scheme on a served host', 'ftp://gw.example.com/'],
    ['ws scheme', 'wss://gw.example.com/'],
    // scheme-relative and backslashes
    ['scheme-relative', '//evil.com'],
    ['scheme-relative with path', '//evil.com/x'],
    ['triple slash', '///evil.com'],
    ['slash backslash', '/\\evil.com'],
    ['backslashes', '\\/\\/evil.com'],
    ['double backslash', '\\\\evil.com'],
    ['backslash in authority', 'https:\\\\evil.com'],
    ['backslash before @', 'http://evil.com\\@gw.example.com/'],
    ['dot then double slash', '/.//evil.com'],
    // whitespace, controls, CRLF
    ['tab first', '\t//evil.com'],
    ['space first', ' /x'],
    ['space inside', '/x y'],
    ['tab inside', '/\t/evil.com'],
    ['newline inside', '/\n/evil.com'],
    ['CRLF header injection', '/x\r\nSet-Cookie: a=b'],
    ['encoded CRLF', '/x%0d%0aSet-Cookie:%20a=b'],
    ['encoded tab', '/%09/evil.com'],
    ['encoded NUL', '/%00//evil.com'],
    ['encoded DEL', '/%7f//evil.com'],
    ['ideographic space', '/\u3000/evil.com'],
    ['non-ASCII host', 'https://gw\u3002example.com/'],
    // userinfo
    ['userinfo with served host as user', 'http://gw.example.com@evil.com/'],
    ['userinfo on a served host', 'https://user:pw@gw.example.com/'],
    ['encoded @ in authority', 'https://gw.example.com%40evil.com/'],
    // suffix and look-alike hosts
    ['suffix host', 'https://gw.example.com.evil.com/'],
    ['prefix host', 'https://evilgw.example.com/'],
    ['sibling subdomain', 'https://x.gw.example.com/'],
    ['trailing dot look-alike', 'https://gw.example.com./'],
    ['look-alike digit', 'https://gw.examp1e.com/'],
    ['punycode look-alike', 'https://xn--gw-example-9db.com/'],
    ['fragment carries the served name', 'https://evil.com#gw.example.com'],
    ['query carries the served name', 'https://evil.com?gw.example.com'],
    ['path carries the served URL', 'https://evil.com/https://gw.example.com'],
    ['other host', 'https://evil.com'],
    ['other host, http', 'http://evil.com/'],
    ['scheme case', 'HtTpS://evil.com'],
    ['IP of nothing served', 'https://10.0.0.1/'],
    // malformed absolute forms
    ['no slashes', 'https:evil.com'],
    ['one slash', 'https:/evil.com'],
    ['bare host', 'evil.com'],
    ['served bare host', 'gw.example.com/x'],
    // script and data schemes
    ['javascript', 'javascript:alert(1)'],
    ['javascript mixed case', 'JaVaScRiPt:alert(1)'],
    ['javascript with an encoded newline', 'java%0ascript:alert(1)'],
    ['data', 'data:text/html,<script>alert(1)</script>'],
    ['vbscript', 'vbscript:msgbox'],
    // percent-encoded separators
    ['encoded slashes', '/%2f%2fevil.com'],
    ['encoded slashes upper case', '/%2F%2Fevil.com'],
    ['encoded backslash', '/%5cevil.com'],
    ['encoded slash after a dot', '/.%2f%2fevil.com'],
    ['too long', '/' + 'a'.repeat(5000)],
  ];
  t.ok(rows.length >= 60);
  for (const [name, rd, c] of rows) t.equal(safeRedirect(rd, c ?? ctx), '/', `${name}: ${JSON.stringify(rd)}`);
  t.end();
});

void t.test('a request without a usable origin honours only the public_url origins', (t) => {
  const noHost: RedirectContext = { ...ctx, requestOrigin: 'https://' };
  t.equal(safeRedirect('https://vms.example.com/x', noHost), 'https://vms.example.com/x');
  t.equal(safeRedirect('https://cams.example.com/x', noHost), '/');
  t.equal(safeRedirect('/x', noHost), '/x', 'relative paths stay on whatever host the browser is on');
  t.end();
});

void t.test('uses the given fallback', (t) => {
  t.equal(safeRedirect('//evil.com', { ...ctx, fallback: '/home' }), '/home');
  t.equal(safeRedirect(undefined, { ...ctx, fallback: '/home' }), '/home');
  t.equal(safeRedirect('http://127.0.0.1:9999/steal', { ...local, fallback: '/home' }), '/home');
  t.end();
});
