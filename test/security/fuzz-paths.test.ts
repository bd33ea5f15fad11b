/**
 * Property-based: no generated path is judged bypass while a plausible reading of it is protected.
 *
 * Paths are built from an alphabet of segment pieces that carry every known trick (dot segments, empty
 * segments, `;` parameters, single, double and overlong encodings, fullwidth characters, NUL/tab/newline,
 * backslashes, trailing dots and spaces, case variants). The gateway's judgement (policy/readings.ts on
 * top of policy/normalize.ts: 400 or a rule) is compared with an INDEPENDENT reference set of readers
 * written here from the specifications and the servers' documented behaviour — RFC 3986 §5.2.4
 * remove_dot_segments, the WHATWG URL parser (node's `URL`), nginx (decode, merge slashes, then dots),
 * Tomcat (cut `;` parameters, decode, dots), decode twice, backslash as slash, Unicode NFKC, Windows
 * (trailing dots and spaces), a lenient decoder of overlong UTF-8, IIS `%uXXXX`, and C-string NUL
 * truncation. Properties, for the forward-auth view (the upstream reads the path as sent) and the built-in
 * proxy view (the upstream reads the path the gateway forwards):
 *  1. judged bypass ⇒ every reference reading falls under a bypass decision;
 *  2. the reference readings fall under different rules ⇒ the gateway refuses (400) or protects.
 * Case is folded by the references only when the policy is case-insensitive (the operator's switch for
 * case-folding upstreams, readings.ts). `FUZZ_RUNS` lengthens the run (docs/security-testing.md).
 */
import t from 'tap';
import fc from 'fast-check';
import { accessSchema } from '../../src/config/schema/access.js';
import { normalizePath } from '../../src/policy/normalize.js';
import { normalizeForRules, plausibleReadings } from '../../src/policy/readings.js';
import { compileAccess, type AccessPolicy } from '../../src/policy/rules.js';
import { fuzzParameters } from './fuzz.js';

// ---------------------------------------------------------------- reference readers (independent code)

type Reading = string | undefined;

function hexByte(s: string, i: number): number | undefined {
  const h = s.slice(i + 1, i + 3);
  return /^[0-9A-Fa-f]{2}$/.test(h) ? parseInt(h, 16) : undefined;
}

/** Percent-decoding to bytes, then UTF-8. strict: a bad escape or bad UTF-8 refuses; else lenient (U+FFFD, bad escapes kept). */
function decode(s: string, mode: 'strict' | 'lenient' | 'overlong' = 'strict'): Reading {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      const b = hexByte(s, i);
      if (b === undefined) {
        if (mode === 'strict') return undefined;
        bytes.push(0x25);
        continue;
      }
      bytes.push(b);
      i += 2;
    } else bytes.push(...new TextEncoder().encode(s[i]));
  }
  if (mode === 'overlong') {
    // Old Java/IIS-style decoders: a two-byte sequence C0/C1 xx is read as the ASCII character it spells.
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const n = bytes[i + 1];
      if ((b === 0xc0 || b === 0xc1) && n !== undefined && (n & 0xc0) === 0x80) {
        out.push(((b & 0x1f) << 6) | (n & 0x3f));
        i++;
      } else if (b === 0xe0 && bytes[i + 1] === 0x80 && (bytes[i + 2] ?? 0) >> 6 === 2) {
        out.push((bytes[i + 2] as number) & 0x3f);
        i += 2;
      } else out.push(b);
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(out));
  }
  try {
    return new TextDecoder('utf-8', { fatal: mode === 'strict' }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** RFC 3986 §5.2.4, on the string, as written in the RFC (with `..` clamped at the root). */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  const dropLast = () => {
    const slash = output.lastIndexOf('/');
    output = slash === -1 ? '' : output.slice(0, slash);
  };
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      dropLast();
    } else if (input === '/..') {
      input = '/';
      dropLast();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input[0] === '/' ? 1 : 0);
      const seg = next === -1 ? input : input.slice(0, next);
      output += seg;
      input = next === -1 ? '' : input.slice(next);
    }
  }
  return output;
}

const mergeSlashes = (p: string): string => p.replace(/\/{2,}/g, '/');
const cutParams = (p: string): string => p.replace(/;[^/]*/g, '');
const decodeUnreserved = (p: string): string => p.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(parseInt(h, 16))) ? String.fromCharCode(parseInt(h, 16)) : m));
const then = (r: Reading, f: (s: string) => Reading): Reading => (r === undefined ? undefined : f(r));

const REFERENCE_READERS: Record<string, (raw: string) => Reading> = {
  'rfc3986 (decode unreserved, remove_dot_segments, decode)': (raw) => then(removeDotSegments(decodeUnreserved(raw)), (p) => decode(p)),
  'whatwg URL': (raw) => {
    try {
      return decode(new URL(`http://h${raw}`).pathname, 'lenient');
    } catch {
      return undefined;
    }
  },
  'nginx (decode, merge slashes, dots)': (raw) => then(decode(raw), (p) => removeDotSegments(mergeSlashes(p))),
  'tomcat (cut ; params, decode, dots)': (raw) => then(decode(cutParams(raw)), removeDotSegments),
  'decode, cut ; params, merge, dots': (raw) => then(decode(raw), (p) => removeDotSegments(mergeSlashes(cutParams(p)))),
  'decode twice, dots': (raw) => then(then(decode(raw), (p) => decode(p)), removeDotSegments),
  'dots on the raw path, then decode': (raw) => decode(removeDotSegments(raw)),
  'merge, dots on the raw path, then decode': (raw) => decode(removeDotSegments(mergeSlashes(raw))),
  'backslash is a slash': (raw) => then(decode(raw.replace(/%5c/gi, '/')), (p) => removeDotSegments(mergeSlashes(p.replace(/\\/g, '/')))),
  'NFKC after decoding': (raw) => then(decode(raw), (p) => removeDotSegments(mergeSlashes(p.normalize('NFKC')))),
  'windows (backslash, ::$DATA, trailing dots and spaces)': (raw) =>
    then(decode(raw), (p) =>
      removeDotSegments(
        mergeSlashes(
          p
            .replace(/\\/g, '/')
            .split('/')
            .map((s) => (s === '.' || s === '..' ? s : s.replace(/::\$DATA$/i, '').replace(/[. ]+$/, '')))
            .join('/'),
        ),
      ),
    ),
  'overlong UTF-8 accepted': (raw) => then(decode(raw, 'overlong'), (p) => removeDotSegments(mergeSlashes(p))),
  'IIS %uXXXX': (raw) => then(decode(raw.replace(/%u([0-9A-Fa-f]{4})/g, (_m, h: string) => encodeURIComponent(String.fromCharCode(parseInt(h, 16)))), 'lenient'), (p) => removeDotSegments(mergeSlashes(p))),
  'C string (cut at NUL)': (raw) => then(decode(raw), (p) => removeDotSegments(mergeSlashes(p.split('\0')[0] as string))),
};

function referenceReadings(raw: string): Map<string, string> {
  const path = raw.split('?')[0]!.split('#')[0]!;
  const out = new Map<string, string>();
  for (const [name, reader] of Object.entries(REFERENCE_READERS)) {
    const r = reader(path);
    if (r !== undefined) out.set(name, mergeSlashes(r.startsWith('/') ? r : `/${r}`));
  }
  return out;
}

// ---------------------------------------------------------------- policies and the gateway's judgement

function policy(defaultPolicy: 'bypass' | 'two_factor', caseInsensitive: boolean): AccessPolicy {
  const access = accessSchema.parse({
    default_policy: defaultPolicy,
    case_insensitive_paths: caseInsensitive,
    rules: [
      { paths: ['/public'], policy: 'bypass' },
      { paths: ['/admin'], policy: 'two_factor' },
    ],
  });
  return compileAccess(access, { portalPrefix: '/_gateway' });
}

const POLICIES = [policy('two_factor', false), policy('bypass', false), policy('two_factor', true), policy('bypass', true)];

function decideOn(p: AccessPolicy, path: string): { policy: string; rule: number } {
  const d = p.decide({ host: 'h', path, method: 'GET', clientIp: '10.0.0.1' });
  return { policy: d.policy, rule: d.rule };
}

type Judgement = { refused: true } | { refused: false; policy: string; upstreamSees: string };

function judge(p: AccessPolicy, raw: string, view: 'as-sent' | 'as-forwarded'): Judgement {
  const n = normalizeForRules(raw, p, view);
  if (!n.ok) return { refused: true };
  return { refused: false, policy: decideOn(p, n.path).policy, upstreamSees: view === 'as-sent' ? raw : n.forward };
}

/** Checks the two properties for one path; answers a description of the violation, or undefined. */
function violation(p: AccessPolicy, raw: string, view: 'as-sent' | 'as-forwarded'): string | undefined {
  const j = judge(p, raw, view);
  if (j.refused) return undefined;
  const readings = referenceReadings(j.upstreamSees);
  const decisions = [...readings].map(([name, path]) => ({ name, path, ...decideOn(p, path) }));
  if (j.policy === 'bypass') {
    const bad = decisions.find((d) => d.policy !== 'bypass');
    if (bad) return `${view}: judged bypass, but '${bad.name}' reads ${JSON.stringify(bad.path)} (${bad.policy})`;
    if (new Set(decisions.map((d) => d.rule)).size > 1) return `${view}: judged bypass while the readings fall under different rules: ${JSON.stringify(decisions)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- generators

const PIECES = [
  'public', 'admin', 'Public', 'ADMIN', 'aDmIn', 'x', 'index.html',
  '', '.', '..', '...', ';', ';x', ';x=1', '..;', '.;',
  '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C', '\\', '%3b', '%3B',
  '%00', '%09', '%0a', '%0d%0a', '%20', '%7f', 'a%00b',
  '%252e', '%252f', '%255c', '%2525', '%2561', '%61', '%41', '%70',
  '%c0%ae', '%c0%af', '%e0%80%ae', '%c1%9c', '%ff',
  '%ef%bc%8e', '%ef%bc%8f', '%ef%bc%bc', '%e2%80%a4', '%ef%b9%92', '%ef%bd%81', '%ef%bd%84%ef%bd%8d', '%ef%bc%a1',
  '%u002e', '%u2215', '%c3%a9', '%e2%80%8b',
  '.%20', '%20.', ':', '::$DATA', '~1', '#', '%23', '%3f',
];

const segment = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 3 }).map((parts) => parts.join(''));
const rawPath = fc.tuple(fc.constantFrom('/', '//', '/./', '/public/', '/admin/'), fc.array(segment, { minLength: 1, maxLength: 6 })).map(([start, segs]) => start + segs.join('/'));

void t.test('fuzz: no path is judged bypass while a plausible reading is protected (forward-auth view)', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...POLICIES.keys()), rawPath, (i, raw) => {
      const v = violation(POLICIES[i]!, raw, 'as-sent');
      if (v) throw new Error(`${JSON.stringify(raw)} policy #${i}: ${v}`);
    }),
    fuzzParameters(1000),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: the same for the path the built-in proxy forwards', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...POLICIES.keys()), rawPath, (i, raw) => {
      const v = violation(POLICIES[i]!, raw, 'as-forwarded');
      if (v) throw new Error(`${JSON.stringify(raw)} policy #${i}: ${v}`);
    }),
    fuzzParameters(1000),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: for an accepted path, the readers skipped as irrelevant never add a reading', (t) => {
  fc.assert(
    fc.property(rawPath, fc.boolean(), (raw, ci) => {
      const n = normalizePath(raw);
      if (!n.ok) return; // readings are only asked of paths the normaliser accepted (as sent, or as forwarded)
      for (const path of [raw, n.forward.split('?')[0]!]) {
        const fast = plausibleReadings(path, ci).sort();
        const all = plausibleReadings(path, ci, true).sort();
        if (JSON.stringify(fast) !== JSON.stringify(all)) throw new Error(`${JSON.stringify(path)}: ${JSON.stringify(fast)} ≠ ${JSON.stringify(all)}`);
      }
    }),
    fuzzParameters(1000),
  );
  t.pass('property held');
  t.end();
});

void t.test('fuzz: arbitrary strings never throw and are judged or refused', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...POLICIES.keys()), fc.string({ unit: 'binary', maxLength: 200 }), (i, s) => {
      for (const raw of [s, `/${s}`]) {
        judge(POLICIES[i]!, raw, 'as-sent');
        judge(POLICIES[i]!, raw, 'as-forwarded');
      }
    }),
    fuzzParameters(500),
  );
  t.pass('no exception');
  t.end();
});

void t.test('the reference readers see the attacks they model (so the property is not vacuous)', (t) => {
  const r = (raw: string) => new Set(referenceReadings(raw).values());
  t.ok(r('/public//../admin').has('/admin') && r('/public//../admin').has('/public/admin'));
  t.ok(r('/public/..;/admin').has('/admin'));
  t.ok(r('/public/%252e%252e/admin').has('/admin'));
  t.ok(r('/public/%c0%ae%c0%ae/admin').has('/admin'));
  t.ok(r('/public/%ef%bc%8e%ef%bc%8e/admin').has('/admin'));
  t.ok(r('/public/..%5cadmin').has('/admin'));
  t.ok(r('/public/%u002e%u002e/admin').has('/admin'));
  t.ok(r('/admin%00/x').has('/admin'));
  t.ok(r('/admin./x').has('/admin/x'));
  t.ok(r('/admin::$DATA').has('/admin'));
  t.ok(r('/%ef%bd%81dmin').has('/admin'));
  // And the gateway refuses or protects each of them in the forward-auth view, under the strictest policy.
  const p = POLICIES[1]!;
  for (const raw of ['/public//../admin', '/public/..;/admin', '/public/%252e%252e/admin', '/public/%c0%ae%c0%ae/admin', '/public/%ef%bc%8e%ef%bc%8e/admin', '/public/..%5cadmin', '/public/%u002e%u002e/admin', '/admin%00/x', '/admin./x', '/admin::$DATA', '/%ef%bd%81dmin']) {
    const j = judge(p, raw, 'as-sent');
    t.ok(j.refused || j.policy !== 'bypass', `${raw} refused or protected`);
  }
  t.end();
});
