import t from 'tap';
import { UpstreamRouter } from '../../src/proxy/router.js';
import { upstream } from './harness.js';

function router(t: { teardown(fn: () => unknown): void }, list: Array<Record<string, unknown>>): UpstreamRouter {
  const r = new UpstreamRouter(list.map((u, i) => upstream({ name: `u${i}`, url: 'http://127.0.0.1:9', ...u })));
  t.teardown(() => r.close());
  return r;
}

void t.test('routes by exact host, case-insensitive, port ignored', (t) => {
  const r = router(t, [
    { name: 'vms', match: { hosts: ['vms.example.com'] } },
    { name: 'admin', match: { hosts: ['Admin.Example.com'] } },
  ]);
  t.equal(r.route('vms.example.com', '/')?.name, 'vms');
  t.equal(r.route('VMS.Example.COM:8443', '/x')?.name, 'vms');
  t.equal(r.route('vms.example.com.', '/x')?.name, 'vms', 'trailing dot of a fully qualified name');
  t.equal(r.route('admin.example.com', '/')?.name, 'admin');
  t.equal(r.route('other.example.com', '/'), undefined);
  t.equal(r.route('', '/'), undefined);
  t.end();
});

void t.test('wildcard hosts match subdomains, not the apex; exact beats wildcard; empty hosts match anything', (t) => {
  const r = router(t, [
    { name: 'wild', match: { hosts: ['*.example.com'] } },
    { name: 'deep', match: { hosts: ['*.cams.example.com'] } },
    { name: 'exact', match: { hosts: ['www.example.com'] } },
    { name: 'fallback' },
  ]);
  t.equal(r.route('a.example.com', '/')?.name, 'wild');
  t.equal(r.route('x.y.example.com', '/')?.name, 'wild');
  t.equal(r.route('door.cams.example.com', '/')?.name, 'deep');
  t.equal(r.route('www.example.com', '/')?.name, 'exact');
  t.equal(r.route('example.com', '/')?.name, 'fallback');
  t.equal(r.route('evilexample.com', '/')?.name, 'fallback');
  t.equal(r.route('[::1]:8080', '/')?.name, 'fallback');
  t.end();
});

void t.test('longest path_prefix wins, on a segment boundary only', (t) => {
  const r = router(t, [
    { name: 'root', match: { path_prefix: '/' } },
    { name: 'api', match: { path_prefix: '/api' } },
    { name: 'apiv2', match: { path_prefix: '/api/v2/' } },
  ]);
  t.equal(r.route('h', '/')?.name, 'root');
  t.equal(r.route('h', '/api')?.name, 'api');
  t.equal(r.route('h', '/api?x=1')?.name, 'api');
  t.equal(r.route('h', '/api/users')?.name, 'api');
  t.equal(r.route('h', '/apiary')?.name, 'root');
  t.equal(r.route('h', '/api/v2')?.name, 'apiv2');
  t.equal(r.route('h', '/api/v2/x')?.name, 'apiv2');
  t.equal(r.route('h', '/api/v20')?.name, 'api');
  t.end();
});

void t.test('a host whose upstreams do not match the path falls back to less specific buckets', (t) => {
  const r = router(t, [
    { name: 'hostapp', match: { hosts: ['h.example.com'], path_prefix: '/app' } },
    { name: 'any', match: { path_prefix: '/' } },
  ]);
  t.equal(r.route('h.example.com', '/app/x')?.name, 'hostapp');
  t.equal(r.route('h.example.com', '/other')?.name, 'any');
  t.end();
});

void t.test('no prefix match anywhere: undefined', (t) => {
  const r = router(t, [{ name: 'api', match: { path_prefix: '/api' } }]);
  t.equal(r.route('h', '/'), undefined);
  t.equal(r.route('h', '/ap'), undefined);
  t.end();
});

void t.test('precomputes URL parts and rewrites paths (strip_prefix, base path)', (t) => {
  const r = router(t, [
    { name: 'a', url: 'http://10.0.0.5:8081/base/', match: { path_prefix: '/cams' }, strip_prefix: true },
    { name: 'b', url: 'https://backend.internal', match: { path_prefix: '/keep' } },
  ]);
  const a = r.get('a');
  t.ok(a);
  t.equal(a?.origin, 'http://10.0.0.5:8081');
  t.equal(a?.hostHeader, '10.0.0.5:8081');
  t.equal(a?.port, 8081);
  t.equal(a?.targetPath('/cams/1?x=y'), '/base/1?x=y');
  t.equal(a?.targetPath('/cams'), '/base/');
  t.equal(a?.targetPath('/cams?q'), '/base/?q');
  const b = r.get('b');
  t.equal(b?.secure, true);
  t.equal(b?.port, 443);
  t.equal(b?.targetPath('/keep/x'), '/keep/x');
  t.same(b?.timeouts, { connect: 5000, responseHeaders: 60000, idle: 0 });
  t.end();
});
