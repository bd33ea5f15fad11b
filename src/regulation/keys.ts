import { isIP } from 'node:net';
import { sha256Hex } from '../util/compare.js';
import { normalizeIp } from '../util/net.js';

/**
 * Store-key fragment for a user name typed at sign-in: a hash of the case-folded name, so arbitrary
 * input cannot make odd keys and `Alice`/`alice` share one counter (directories may match either).
 */
export function typedUserKey(username: string): string {
  return sha256Hex(username.trim().toLowerCase()).slice(0, 32);
}

/**
 * Store-key fragment for a known user name: readable when it is plain, hashed otherwise (`h:` cannot
 * occur in a plain name, so the two forms never collide).
 */
export function userKey(username: string): string {
  return /^[A-Za-z0-9._@+-]{1,64}$/.test(username) ? username : `h:${sha256Hex(username).slice(0, 32)}`;
}

/**
 * Store-key fragment for a client address. IPv6 clients are counted per /64 (one subscriber usually
 * holds a whole /64, so per-address counting would be no limit at all); anything that is not an
 * address is hashed.
 */
export function ipKey(ip: string): string {
  const addr = normalizeIp(ip.trim());
  const family = isIP(addr);
  if (family === 4) return addr;
  if (family === 6) return `${ipv6Prefix64(addr)}::/64`;
  return `h:${sha256Hex(ip).slice(0, 32)}`;
}

/** The first four hextets of a valid IPv6 address, lower case, without leading zeros. */
function ipv6Prefix64(addr: string): string {
  const bare = addr.split('%')[0]!.toLowerCase();
  const [head = '', tail] = bare.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail === undefined ? [] : tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 handled above; others like 64:ff9b::1.2.3.4) takes two hextets.
  const count = (parts: string[]) => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - count(h) - count(tl)).fill('0'), ...tl];
  return groups
    .slice(0, 4)
    .map((g) => (g.includes('.') ? g : g.replace(/^0+(?=.)/, '')))
    .join(':');
}
