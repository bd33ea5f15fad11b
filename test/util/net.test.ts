import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { NetworkSet, isLoopbackHost, normalizeIp, parseCidr, parseIp } from '../../src/util/net.js';

void t.test('loopback host names: localhost, 127.0.0.0/8, ::1 (as URL.hostname writes them)', (t) => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]', '::1', '[0:0:0:0:0:0:0:1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['example.com', 'localhost.example.com', '127.0.0.1.nip.io', '10.0.0.1', '128.0.0.1', '[::2]', '::', '0.0.0.0', '', '[fe80::1]']) t.notOk(isLoopbackHost(h), h);
  t.ok(isLoopbackHost(new URL('http://[::1]:8080/').hostname));
  t.end();
});

void t.test('parses IPv4, IPv6 and IPv4-mapped IPv6', (t) => {
  t.same(parseIp('10.0.0.1'), { v: 4, n: 0x0a000001 });
  t.same(parseIp('255.255.255.255'), { v: 4, n: 0xffffffff });
  t.same(parseIp('::ffff:10.0.0.1'), { v: 4, n: 0x0a000001 });
  t.same(parseIp('::ffff:a00:1'), { v: 4, n: 0x0a000001 });
  t.same(parseIp('::1'), { v: 6, n: 1n });
  t.same(parseIp('2001:db8::'), { v: 6, n: 0x20010db8n << 96n });
  t.same(parseIp('fe80::1%eth0'), { v: 6, n: (0xfe80n << 112n) | 1n });
  for (const bad of [undefined, '', 'x', '1.2.3', '1.2.3.256', '::g', '10.0.0.1/8']) t.equal(parseIp(bad), undefined, String(bad));
  t.end();
});

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The oracle, from node:net's BlockList with the families kept apart: an IPv4 address (or its mapped
 * form) is checked against the IPv4 networks and the networks written IPv4-mapped (prefix − 96); any
 * other address against the plain IPv6 networks only.
 */
function oracle(cidrs: readonly string[]): (ip: string) => boolean {
  const v4 = new BlockList();
  const v6 = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c)!;
    const parsed = parseIp(p.address)!;
    if (p.family === 'ipv4') v4.addSubnet(p.address, p.prefix, 'ipv4');
    else if (parsed.v === 4) {
      const n = parsed.n;
      v4.addSubnet(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, Math.max(0, p.prefix - 96), 'ipv4');
    } else v6.addSubnet(p.address, p.prefix, 'ipv6');
  }
  return (ip) => {
    const m = MAPPED.exec(ip);
    const addr = m && isIP(m[1] as string) === 4 ? (m[1] as string) : normalizeIp(ip);
    const version = isIP(addr);
    if (version === 4) return v4.check(addr, 'ipv4');
    if (version === 6) return parseIp(addr)?.v === 4 ? v4.check(normalizeIp(addr), 'ipv4') || checkMappedHex(v4, addr) : v6.check(addr, 'ipv6');
    return false;
  };
}

/** `::ffff:a00:1` (a mapped address written in hex) as the IPv4 address it is. */
function checkMappedHex(v4: BlockList, addr: string): boolean {
  const p = parseIp(addr);
  if (!p || p.v !== 4) return false;
  const n = p.n;
  return v4.check(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, 'ipv4');
}

const NETS = ['10.0.0.0/8', '192.168.10.0/24', '203.0.113.7', '0.0.0.0/32', '2001:db8::/32', 'fd00::/8', '::1', '2001:db8:ffff:ffff::/64', '100.64.0.0/10'];
const ADDRS = [
  '10.0.0.1', '10.255.255.255', '11.0.0.0', '9.255.255.255', '192.168.10.0', '192.168.10.255', '192.168.11.0', '203.0.113.7', '203.0.113.8', '0.0.0.0',
  '::ffff:10.1.2.3', '::ffff:192.168.10.4', '::ffff:8.8.8.8', '2001:db8::1', '2001:db8:ffff::1', '2001:db9::', 'fd12:3456::1', 'fe80::1', '::1', '::2', '::',
  '100.64.0.1', '100.127.255.255', '100.128.0.0', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:DB8::FFFF', 'garbage', '',
];

void t.test('NetworkSet answers as BlockList does, families kept apart', (t) => {
  const want = oracle(NETS);
  const set = new NetworkSet(NETS);
  t.equal(set.size, NETS.length);
  for (const a of ADDRS) t.equal(set.has(a), want(a), a);
  for (let i = 0; i < 500; i++) {
    const a = `${(i * 37) % 256}.${(i * 91) % 256}.${(i * 13) % 256}.${i % 256}`;
    t.equal(set.has(a), want(a), a);
  }
  t.equal(new NetworkSet(['0.0.0.0/0']).has('1.2.3.4'), true);
  t.equal(new NetworkSet(['0.0.0.0/0']).has('::ffff:1.2.3.4'), true, 'an IPv4 client on a dual-stack socket');
  t.equal(new NetworkSet(['::/0']).has('2001::1'), true);
  t.equal(new NetworkSet(['::ffff:10.0.0.0/104']).has('10.9.9.9'), true);
  t.equal(new NetworkSet(['::ffff:0:0/96']).has('10.9.9.9'), true, 'the whole mapped range is all of IPv4');
  for (const v6 of ['::/0', '::/64', '::/80']) {
    t.equal(new NetworkSet([v6]).has('10.0.0.1'), false, `${v6} holds no IPv4 client`);
    t.equal(new NetworkSet([v6]).has('::ffff:10.0.0.1'), false, `${v6} holds no IPv4-mapped client`);
  }
  t.throws(() => new NetworkSet(['10.0.0.0/33']));
  t.throws(() => new NetworkSet(['10.0.0.0/8/8']));
  t.throws(() => new NetworkSet(['not-a-network']));
  t.equal(new NetworkSet([]).has('10.1.2.3'), false, 'an empty set holds nothing');
  t.equal(set.has(undefined), false);
  t.end();
});

void t.test('NetworkSet = the oracle on generated networks and addresses, each asked twice (the parse memo answers the second)', (t) => {
  const octet = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.tuple(octet, octet, octet, octet).map((p) => p.join('.'));
  const v4net = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
  const v6net = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`);
  const mappedNet = fc.tuple(ipv4, fc.integer({ min: 96, max: 128 })).map(([a, p]) => `::ffff:${a}/${p}`);
  const nets = fc.array(fc.oneof(v4net, v6net, mappedNet, ipv4), { minLength: 1, maxLength: 6 });
  const addr = fc.oneof(ipv4, fc.ipV6(), ipv4.map((a) => `::ffff:${a}`), fc.constantFrom('', 'garbage', '1.2.3', '::g', '10.0.0.1/8'));
  fc.assert(
    fc.property(nets, fc.array(addr, { minLength: 1, maxLength: 60 }), (cidrs, list) => {
      const set = new NetworkSet(cidrs);
      const want = oracle(cidrs);
      for (const a of [...list, ...cidrs.map((c) => c.split('/')[0] as string)]) {
        const w = want(a);
        if (set.has(a) !== w || set.has(a) !== w) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.end();
});
