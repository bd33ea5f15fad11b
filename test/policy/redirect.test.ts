import t from 'tap';
import { safeRedirect, type RedirectContext } from '../../src/policy/redirect.js';

const ctx: RedirectContext = {
  requestHost: 'gw.example.com',
  proto: 'https',
  servedHosts: (h) => h === 'gw.example.com' || h === 'vms.example.com',
};

void t.test('honours relative paths on the same host', (t) => {
  t.equal(safeRedirect('/', ctx), '/');
  t.equal(safeRedirect('/app/page?x=1&y=%2F#frag', ctx), '/app/page?x=1&y=%2F#frag');
  t.equal(safeRedirect('/a/./b/../c', ctx), '/a/c', 'dot segments resolved as the browser would');
  t.equal(safeRedirect('/caf%C3%A9', ctx), '/caf%C3%A9');
  t.end();
});

void t.test('honours absolute URLs on served hosts', (t) => {
  t.equal(safeRedirect('https://gw.example.com/x?y=1', ctx), 'https://gw.example.com/x?y=1');
  t.equal(safeRedirect('https://vms.example.com', ctx), 'https://vms.example.com/');
  t.equal(safeRedirect('https://VMS.example.com:8443/a', ctx), 'https://vms.example.com:8443/a');
  t.equal(safeRedirect('HTTPS://vms.example.com/a', ctx), 'https://vms.example.com/a', 'scheme case is harmless on a served host');
  t.equal(safeRedirect('http://vms.example.com/a', { ...ctx, proto: 'http' }), 'http://vms.example.com/a');
  const local: RedirectContext = { requestHost: 'localhost:8080', proto: 'http', servedHosts: () => false };
  t.equal(safeRedirect('http://localhost:8080/x', local), 'http://localhost:8080/x', 'same host and port as the request');
  t.equal(safeRedirect('http://localhost:9999/x', local), '/', 'same name, another port, not served');
  t.end();
});

void t.test('everything else falls back', (t) => {
  const hostile = [
    undefined,
    '',
    '//evil.com',
    '//evil.com/x',
    '///evil.com',
    '/\\evil.com',
    '\\/\\/evil.com',
    '\\\\evil.com',
    'https://evil.com',
    'http://evil.com/',
    'https://evil.com/https://gw.example.com',
    'https://gw.example.com.evil.com/',
    'https://evil.com#gw.example.com',
    'https://evil.com?gw.example.com',
    'https:evil.com',
    'https:/evil.com',
    'https:\\\\evil.com',
    'http://gw.example.com@evil.com/',
    'https://user:pw@gw.example.com/',
    'http://evil.com\\@gw.example.com/',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    'HtTpS://evil.com',
    'ftp://gw.example.com/',
    '/%2f%2fevil.com',
    '/%2F%2Fevil.com',
    '/%5cevil.com',
    '/%09/evil.com',
    '/\t/evil.com',
    '/\n/evil.com',
    '\t//evil.com',
    ' /x',
    '/x y',
    '/\u3000/evil.com',
    '/.//evil.com',
    'http://vms.example.com/a', // https request: no downgrade
    'evil.com',
    'gw.example.com/x',
    '/' + 'a'.repeat(5000),
  ];
  t.ok(hostile.length >= 20);
  for (const rd of hostile) t.equal(safeRedirect(rd, ctx), '/', JSON.stringify(rd));
  t.end();
});

void t.test('uses the given fallback', (t) => {
  t.equal(safeRedirect('//evil.com', { ...ctx, fallback: '/home' }), '/home');
  t.equal(safeRedirect(undefined, { ...ctx, fallback: '/home' }), '/home');
  t.end();
});
