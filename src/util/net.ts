import { BlockList, isIP } from 'node:net';

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:10.0.0.1` matches `10.0.0.0/8`. */
export function normalizeIp(ip: string): string {
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address; undefined when malformed. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = cidr.trim().split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** An immutable set of networks; `has` is a cheap lookup for the request path. */
export class NetworkSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`invalid network '${cidr}'`);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = cidrs.length;
  }

  has(ip: string | undefined): boolean {
    if (!ip || this.size === 0) return false;
    const addr = normalizeIp(ip);
    const version = isIP(addr);
    if (version === 0) return false;
    return this.list.check(addr, version === 4 ? 'ipv4' : 'ipv6');
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * A URL host name that names this machine: `localhost`, `127.0.0.0/8`, `::1` (with or without brackets,
 * as `URL.hostname` writes it). Plain-http identity providers are accepted only here.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = normalizeIp(hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
  if (h === 'localhost') return true;
  const version = isIP(h);
  return version !== 0 && LOOPBACK.check(h, version === 4 ? 'ipv4' : 'ipv6');
}
