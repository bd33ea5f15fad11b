/**
 * Fast CIDR matching for the request path. (node:net BlockList costs microseconds per check; the
 * rules check the client address against several rules on every request.) IPv4 addresses are
 * numbers, IPv6 addresses bigints; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) counts as IPv4.
 */
import { isIP } from 'node:net';
import { parseCidr } from '../util/net.js';

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

export class FastNetworkSet {
  private readonly v4: { net: number; mask: number }[] = [];
  private readonly v6: { net: bigint; mask: bigint }[] = [];

  constructor(cidrs: readonly string[]) {
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
    return this.hasParsed(parseIp(ip));
  }
}
