import { isIP } from 'node:net';

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

// ---- CIDR matching on the request path: IPv4 addresses as numbers, IPv6 as bigints ----

export type ParsedIp = { v: 4; n: number } | { v: 6; n: bigint };

const MAPPED_PREFIX = 0xffffn << 32n;
const V4_IN_V6_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

function parseV4(ip: string): number {
  let n = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      n = n * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 0x30);
  }
  return n * 256 + part;
}

function parseV6(ip: string): bigint {
  const zone = ip.indexOf('%');
  const addr = zone === -1 ? ip : ip.slice(0, zone);
  const words: number[] = [];
  const [head, tail] = addr.includes('::') ? (addr.split('::') as [string, string]) : [addr, undefined];
  const toWords = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const p of s.split(':')) {
      if (p.includes('.')) {
        const v4 = parseV4(p);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(parseInt(p, 16));
    }
    return out;
  };
  const h = toWords(head);
  const t = tail === undefined ? [] : toWords(tail);
  words.push(...h);
  if (tail !== undefined) for (let i = h.length + t.length; i < 8; i++) words.push(0);
  words.push(...t);
  let n = 0n;
  for (const w of words) n = (n << 16n) | BigInt(w);
  return n;
}

/** Recently seen client addresses (they repeat); bounded, emptied when full. */
const CACHE_LIMIT = 4096;
const cache = new Map<string, ParsedIp | null>();

/** Parses an address (IPv4, IPv6, IPv4-mapped IPv6); undefined when it is not one. */
export function parseIp(ip: string | undefined): ParsedIp | undefined {
  if (!ip) return undefined;
  const hit = cache.get(ip);
  if (hit !== undefined) return hit ?? undefined;
  const parsed = parseUncached(ip);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(ip, parsed ? Object.freeze(parsed) : null);
  return parsed;
}

function parseUncached(ip: string): ParsedIp | undefined {
  const version = isIP(ip);
  if (version === 4) return { v: 4, n: parseV4(ip) };
  if (version !== 6) return undefined;
  const n = parseV6(ip);
  if ((n & V4_IN_V6_MASK) === MAPPED_PREFIX) return { v: 4, n: Number(n & 0xffffffffn) };
  return { v: 6, n };
}

/**
 * An immutable set of networks for the request path: trusted proxies, rule and API-client networks.
 * (node:net's BlockList builds a native SocketAddress per check, microseconds each; this compares
 * numbers.) IPv4 and IPv6 are kept apart: an IPv4 client (or its IPv4-mapped form `::ffff:10.0.0.1`)
 * is in IPv4 networks and in networks written IPv4-mapped (`::ffff:10.0.0.0/104`), never in a plain
 * IPv6 network such as `::/0` (BlockList would say it is).
 */
export class NetworkSet {
  readonly size: number;
  private readonly v4: { net: number; mask: number }[] = [];
  private readonly v6: { net: bigint; mask: bigint }[] = [];

  constructor(cidrs: readonly string[]) {
    this.size = cidrs.length;
    for (const cidr of cidrs) {
      const c = parseCidr(cidr);
      if (!c) throw new Error(`invalid network '${cidr}'`);
      const parsed = parseIp(c.address);
      if (!parsed) throw new Error(`invalid network '${cidr}'`);
      if (c.family === 'ipv4' && parsed.v === 4) {
        const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
        this.v4.push({ net: (parsed.n & mask) >>> 0, mask });
      } else if (parsed.v === 4) {
        // An IPv4-mapped network such as ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8.
        const prefix = Math.max(0, c.prefix - 96);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        this.v4.push({ net: (parsed.n & mask) >>> 0, mask });
      } else {
        const mask = c.prefix === 0 ? 0n : (((1n << BigInt(c.prefix)) - 1n) << BigInt(128 - c.prefix));
        this.v6.push({ net: parsed.n & mask, mask });
      }
    }
  }

  hasParsed(ip: ParsedIp | undefined): boolean {
    if (!ip) return false;
    if (ip.v === 4) {
      for (const r of this.v4) if (((ip.n & r.mask) >>> 0) === r.net) return true;
      return false;
    }
    for (const r of this.v6) if ((ip.n & r.mask) === r.net) return true;
    return false;
  }

  has(ip: string | undefined): boolean {
    return this.size !== 0 && this.hasParsed(parseIp(ip));
  }
}

const LOOPBACK = new NetworkSet(['127.0.0.0/8', '::1']);

/**
 * A URL host name that names this machine: `localhost`, `127.0.0.0/8`, `::1` (with or without brackets,
 * as `URL.hostname` writes it). Plain-http identity providers are accepted only here.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || LOOPBACK.has(h);
}
