import t from 'tap';
import { FastNetworkSet, parseIp } from '../../src/policy/ip.js';
import { NetworkSet } from '../../src/util/net.js';

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

const NETS = ['10.0.0.0/8', '192.168.10.0/24', '203.0.113.7', '0.0.0.0/32', '2001:db8::/32', 'fd00::/8', '::1', '2001:db8:ffff:ffff::/64', '100.64.0.0/10'];
const ADDRS = [
  '10.0.0.1', '10.255.255.255', '11.0.0.0', '9.255.255.255', '192.168.10.0', '192.168.10.255', '192.168.11.0', '203.0.113.7', '203.0.113.8', '0.0.0.0',
  '::ffff:10.1.2.3', '::ffff:192.168.10.4', '::ffff:8.8.8.8', '2001:db8::1', '2001:db8:ffff::1', '2001:db9::', 'fd12:3456::1', 'fe80::1', '::1', '::2', '::',
  '100.64.0.1', '100.127.255.255', '100.128.0.0', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:DB8::FFFF', 'garbage', '',
];

void t.test('agrees with NetworkSet (node:net BlockList)', (t) => {
  const slow = new NetworkSet(NETS);
  const fast = new FastNetworkSet(NETS);
  for (const a of ADDRS) t.equal(fast.has(a), slow.has(a), a);
  for (let i = 0; i < 500; i++) {
    const a = `${(i * 37) % 256}.${(i * 91) % 256}.${(i * 13) % 256}.${i % 256}`;
    t.equal(fast.has(a), slow.has(a), a);
  }
  t.equal(new FastNetworkSet(['0.0.0.0/0']).has('1.2.3.4'), true);
  t.equal(new FastNetworkSet(['::/0']).has('2001::1'), true);
  t.equal(new FastNetworkSet(['::ffff:10.0.0.0/104']).has('10.9.9.9'), true);
  t.throws(() => new FastNetworkSet(['10.0.0.0/33']));
  t.end();
});
