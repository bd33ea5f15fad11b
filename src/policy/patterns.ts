/**
 * Host and path patterns of access rules, compiled once.
 *
 * Hosts: exact (case-insensitive, a trailing dot and the port ignored) or `*.example.com`, which matches
 * any name with at least one more label (`a.example.com`, `a.b.example.com`) but not `example.com`.
 *
 * Paths (SPEC §6): a plain entry is a prefix on a segment boundary (`/public` matches `/public` and
 * `/public/x`, not `/publicity`; `/public/` matches `/public/` and below). An entry with `*` is a glob
 * matched against the whole path: `*` matches within one segment, `**` across segments; `/a/**` also
 * matches `/a`, and `**` between two slashes in the middle
 * also matches nothing (`/a/` + `**` + `/b` matches `/a/b`). A glob path may end with one extra `/`.
 */

import { isIP } from 'node:net';

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

export type HostMatcher = (host: string) => boolean;
export type PathMatcher = (path: string) => boolean;

/** Lower-cased host name without port or trailing dot (`[::1]:8080` → `[::1]`). */
export function hostName(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

export function compileHosts(patterns: readonly string[]): HostMatcher {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of patterns) {
    const p = raw.trim().toLowerCase().replace(/\.$/, '');
    if (p.startsWith('*.')) {
      const rest = p.slice(1);
      if (rest.includes('*') || rest.length < 2) throw new Error(`invalid host pattern '${raw}': only a leading '*.' wildcard is allowed`);
      suffixes.push(rest);
    } else {
      if (p.includes('*')) throw new Error(`invalid host pattern '${raw}': only a leading '*.' wildcard is allowed`);
      exact.add(hostName(isIP(p) === 6 ? `[${p}]` : p)); // a bare IPv6 address means its bracketed Host form
    }
  }
  return (host: string) => {
    const h = hostName(host);
    if (exact.has(h)) return true;
    for (const s of suffixes) if (h.length > s.length && h.endsWith(s)) return true;
    return false;
  };
}

export function pathPatternSource(pattern: string): string {
  if (!pattern.includes('*')) {
    const body = escapeRegex(pattern);
    return pattern.endsWith('/') ? `^${body}` : `^${body}(?:/|$)`;
  }
  if (/\*{3,}/.test(pattern)) throw new Error(`invalid path pattern '${pattern}': use '*' or '**'`);
  let src = '^';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('/**/', i)) {
      src += '(?:/.*)?/';
      i += 4;
    } else if (pattern.startsWith('/**', i) && i + 3 === pattern.length) {
      src += '(?:/.*)?';
      i += 3;
    } else if (pattern.startsWith('**', i)) {
      src += '.*';
      i += 2;
    } else if (pattern[i] === '*') {
      src += '[^/]*';
      i += 1;
    } else {
      src += escapeRegex(pattern[i] as string);
      i += 1;
    }
  }
  return pattern.endsWith('/') ? `${src}$` : `${src}/?$`;
}

/** One RegExp for all of a rule's paths. */
export function compilePaths(patterns: readonly string[], caseInsensitive: boolean): PathMatcher {
  const source = patterns.map((p) => `(?:${pathPatternSource(p)})`).join('|');
  const re = new RegExp(source, caseInsensitive ? 'iu' : 'u');
  return (path: string) => re.test(path);
}
