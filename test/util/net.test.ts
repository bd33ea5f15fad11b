import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { NetworkSet, isLoopbackHost, normalizeIp } from '../../src/util/net.js';

void t.test('loopback host names: localhost, 127.0.0.0/8, ::1 (as URL.hostname writes them)', (t) => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]', '::1', '[0:0:0:0:0:0:0:1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['example.com', 'localhost.example.com', '127.0.0.1.nip.io', '10.0.0.1', '128.0.0.1', '[::2]', '::', '0.0.0.0', '', '[fe80::1]']) t.notOk(isLoopbackHost(h), h);
  t.ok(isLoopbackHost(new URL('http://[::1]:8080/').hostname));
  t.end();
});

/** The answer with no memo: node:net's BlockList asked afresh. */
function fresh(cidrs: readonly string[], ip: string): boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const [a, p] = c.split('/') as [string, string | undefined];
    const v = isIP(a) === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(a, p === undefined ? (v === 'ipv4' ? 32 : 128) : Number(p), v);
  }
  const addr = normalizeIp(ip);
  const version = isIP(addr);
  return version !== 0 && list.check(addr, version === 4 ? 'ipv4' : 'ipv6');
}

void t.test('NetworkSet remembers answers: asked again, and past the memo bound, it still answers as BlockList does', (t) => {
  const nets = ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32', '127.0.0.1'];
  const set = new NetworkSet(nets);
  const ipv4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map((p) => p.join('.'));
  const near = fc.tuple(fc.constantFrom('10', '192', '127', '11'), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })).map((p) => p.join('.'));
  const v6 = fc.ipV6();
  const addr = fc.oneof(ipv4, near, v6, near.map((a) => `::ffff:${a}`), fc.constantFrom('', 'garbage', '1.2.3', '::g', '10.0.0.1/8'));
  // Each address asked twice in a row (the second answer comes from the memo), across more distinct
  // addresses than the memo keeps (4096), so it is emptied and refilled on the way.
  fc.assert(
    fc.property(fc.array(addr, { minLength: 50, maxLength: 200 }), (list) => {
      for (const a of list) {
        const want = fresh(nets, a);
        if (set.has(a) !== want || set.has(a) !== want) return false;
      }
      return true;
    }),
    { numRuns: 60 },
  );
  t.equal(set.has('10.1.2.3'), true);
  t.equal(set.has('::ffff:10.1.2.3'), true);
  t.equal(set.has('11.1.2.3'), false);
  t.equal(set.has('x'.repeat(100)), false, 'a long non-address is refused (and not remembered)');
  t.equal(set.has(undefined), false);
  t.equal(new NetworkSet([]).has('10.1.2.3'), false, 'an empty set holds nothing');
  t.end();
});
