import t, { type Test } from 'tap';
import { isPlainAuthority, normalizePath, splitAbsoluteForm } from '../../src/policy/normalize.js';

function ok(t: Test, raw: string, path: string, forward?: string, caseInsensitive = false): void {
  const r = normalizePath(raw, { caseInsensitive });
  if (!r.ok) {
    t.fail(`${raw} rejected: ${r.reason}`);
    return;
  }
  t.equal(r.path, path, `${raw} → ${path}`);
  if (forward !== undefined) t.equal(r.forward, forward, `${raw} forwards ${forward}`);
}

function rejected(t: Test, raw: string): void {
  const r = normalizePath(raw);
  t.equal(r.ok, false, `${JSON.stringify(raw.slice(0, 60))} rejected`);
  if (!r.ok) t.type(r.reason, 'string');
}

void t.test('plain paths pass through unchanged', (t) => {
  ok(t, '/', '/', '/');
  ok(t, '/public', '/public', '/public');
  ok(t, '/public/x.css', '/public/x.css', '/public/x.css');
  ok(t, '/a/b/', '/a/b/', '/a/b/');
  ok(t, "/a-b_c.d~e!$&'()*+,=:@", "/a-b_c.d~e!$&'()*+,=:@");
  t.end();
});

void t.test('splits off the query and keeps it raw for forwarding', (t) => {
  const r = normalizePath('/a/../b?x=%2f&y=/../z');
  t.same(r, { ok: true, path: '/b', query: 'x=%2f&y=/../z', forward: '/b?x=%2f&y=/../z' });
  const empty = normalizePath('/a?');
  t.same(empty, { ok: true, path: '/a', query: '', forward: '/a' });
  t.end();
});

void t.test('resolves dot segments, duplicate slashes and ; parameters', (t) => {
  ok(t, '/a/./b', '/a/b');
  ok(t, '/a/b/../c', '/a/c');
  ok(t, '/a/b/..', '/a/');
  ok(t, '/a/b/.', '/a/b/');
  ok(t, '/a/..', '/');
  ok(t, '//a///b//', '/a/b/');
  ok(t, '/admin;x=1/', '/admin/', '/admin/');
  ok(t, '/public/..;/admin', '/admin');
  ok(t, '/public;jsessionid=1/x', '/public/x');
  ok(t, '/;x/a', '/a');
  t.end();
});

void t.test('percent-decodes once and re-encodes for forwarding', (t) => {
  ok(t, '/a%20b', '/a b', '/a%20b');
  ok(t, '/%61dmin', '/admin', '/admin');
  ok(t, '/caf%C3%A9', '/café', '/caf%C3%A9');
  ok(t, '/a%3Fb%23c', '/a?b#c', '/a%3Fb%23c');
  ok(t, '/a%2541', '/a%41', '/a%2541'); // a literal % that does not decode to a separator stays literal
  ok(t, '/a/%2e%2e/x', '/x');
  ok(t, '/a/.%2E/x', '/x');
  ok(t, '/%EF%BD%B1', '/ｱ', '/%EF%BD%B1'); // halfwidth katakana: NFKC changes it, but into no path-structure character
  ok(t, '/a/report.', '/a/report.', '/a/report.'); // a trailing dot on a name is the rules' business (readings.ts)
  t.end();
});

void t.test('rejects characters that NFKC turns into dots or separators, and dot-and-space segments', (t) => {
  for (const raw of [
    '/%EF%BC%8F..%EF%BC%8Fadmin', // fullwidth solidus
    '/public/%ef%bc%8e%ef%bc%8e/admin', // fullwidth full stop
    '/public/%ef%bc%bcadmin', // fullwidth reverse solidus
    '/public/%e2%80%a4%e2%80%a4/admin', // one dot leader
    '/public/%e2%80%a5/admin', // two dot leader
    '/public/%ef%b9%92%ef%b9%92/admin', // small full stop
    '/public/a%ef%bc%9bb', // fullwidth semicolon
    '/public/a%ef%bc%85%32%65', // fullwidth percent sign
    '/public/.../admin',
    '/public/..../admin',
    '/public/...',
    '/public/. ./admin'.replace(' ', '%20'),
    '/public/..%20/admin',
    '/public/.%20/admin',
    '/public/%20/admin',
    '/public/...;x/admin',
  ])
    rejected(t, raw);
  t.end();
});

void t.test('splitAbsoluteForm takes the path exactly as sent', (t) => {
  t.same(splitAbsoluteForm('http://vms.example.com/public//../admin?x=1'), { ok: true, scheme: 'http', authority: 'vms.example.com', target: '/public//../admin?x=1' });
  t.same(splitAbsoluteForm('HTTPS://h:8443'), { ok: true, scheme: 'https', authority: 'h:8443', target: '/' });
  t.same(splitAbsoluteForm('http://h?q'), { ok: true, scheme: 'http', authority: 'h', target: '/?q' });
  t.same(splitAbsoluteForm('http://h/%00/..'), { ok: true, scheme: 'http', authority: 'h', target: '/%00/..' });
  t.same(splitAbsoluteForm('http://my_app:8080/x'), { ok: true, scheme: 'http', authority: 'my_app:8080', target: '/x' }, 'container service names');
  t.equal(isPlainAuthority('vms.example.com:443'), true);
  for (const bad of ['open.example.com:80@evil.com', 'a b', 'h/x', 'h:port', '', 'h%2e', '[::1', 'x'.repeat(300)]) t.equal(isPlainAuthority(bad), false, bad);
  for (const bad of ['/x', 'ftp://h/x', 'http://u@h/x', 'http://h\\x/', 'http:/h/x', 'javascript:alert(1)', 'http://h%2f/x']) t.equal(splitAbsoluteForm(bad).ok, false, bad);
  t.end();
});

void t.test('case-insensitive mode lower-cases the rule path but forwards the client case', (t) => {
  ok(t, '/PUBLIC/X', '/public/x', '/PUBLIC/X', true);
  ok(t, '/PUBLIC/X', '/PUBLIC/X', '/PUBLIC/X', false);
  t.end();
});

void t.test('absolute-form targets give their path and authority', (t) => {
  t.same(normalizePath('http://x.example/public/../admin?q=1'), { ok: true, path: '/admin', query: 'q=1', forward: '/admin?q=1', authority: 'x.example' });
  t.same(normalizePath('HTTPS://x:8443'), { ok: true, path: '/', query: '', forward: '/', authority: 'x:8443' });
  t.same(normalizePath('http://x?a'), { ok: true, path: '/', query: 'a', forward: '/?a', authority: 'x' });
  rejected(t, 'ftp://x/a');
  rejected(t, 'http://user@x/a');
  rejected(t, 'http:///a');
  rejected(t, 'http://x%2fy/a');
  rejected(t, 'http://x\\y/a');
  rejected(t, 'http://x:port/a');
  t.same(normalizePath('http://[::1]:8080/a'), { ok: true, path: '/a', query: '', forward: '/a', authority: '[::1]:8080' });
  rejected(t, 'x.example:443');
  rejected(t, '*');
  t.end();
});

void t.test('rejects hostile or malformed targets', (t) => {
  for (const raw of [
    '',
    'a/b',
    '/a%2fb',
    '/a%2Fb',
    '/a%5cb',
    '/a\\b',
    '/a%5Cb',
    '/%252e%252e/x',
    '/%252f',
    '/%255c',
    '/%2525',
    '/a%zz',
    '/a%4',
    '/a%',
    '/%00',
    '/a%0a',
    '/a%0d%0a',
    '/a%09',
    '/a%7f',
    '/a%c2%85', // NEL, a C1 control
    '/%c0%ae%c0%ae/x',
    '/%c0%af',
    '/%e0%80%ae',
    '/%ff',
    '/%ed%a0%80', // a UTF-16 surrogate encoded as UTF-8
    '/..',
    '/../a',
    '/a/../../b',
    '/a#frag',
    '/a b',
    '/a\tb',
    '/a\nb',
    '/a\u0000b',
    '/caf\u00e9',
    '/\uff0f',
    '/' + 'a'.repeat(9000),
  ])
    rejected(t, raw);
  t.end();
});
