/**
 * How an upstream may read a request path, and the refusal of paths whose readings disagree (SPEC §3).
 *
 * The gateway judges a path by its own reading (normalize.ts). Where it does not forward the request
 * itself — forward-auth, where nginx, Traefik or Caddy send the path on as the client sent it — it cannot
 * choose how the upstream reads it, and servers disagree: nginx merges slashes before it resolves `..`,
 * RFC 3986 and WHATWG keep empty segments (`/public//../admin` is `/admin` to one and `/public/admin` to
 * the other), Tomcat and Jetty cut `;` parameters before resolving dot segments while others keep
 * `..;` as a name, some decode percent-escapes before resolving dot segments and some after (or twice),
 * Windows strips trailing dots and spaces from names (`admin.` and `admin::$DATA` are `admin`), and a server applying Unicode
 * NFKC reads fullwidth `ａｄｍｉｎ` as `admin`. Each combination is a plausible reading; when they do
 * not all fall under the same rules, the path is refused.
 *
 * The built-in proxy forwards the normalised path it authorised, so only the readings of THAT path matter
 * there ('as-forwarded'); forward-auth checks the readings of the path as sent ('as-sent').
 *
 * Case is folded only with `access.case_insensitive_paths` (set it when the upstream folds case). A
 * server that never percent-decodes is not a reader here: rules are written in decoded form, and such a
 * server would serve no path a browser sends encoded (`/caf%C3%A9`).
 *
 * Readings clamp `..` at the root (as URL resolution does) and never fail closed on their own: a reading
 * that cannot decode the path (an upstream that would answer 400) is left out.
 */
import { normalizePath, splitAbsoluteForm, type NormalizedTarget } from './normalize.js';
import type { AccessPolicy } from './rules.js';

interface Reader {
  /** Where `;` parameters are cut from a segment: never, before decoding, or after decoding. */
  params: 'keep' | 'raw' | 'decoded';
  /** Percent-decoding once before dot segments are resolved, twice before, or once after (only literal dots count). */
  decode: 'before' | 'twice' | 'after';
  /** Empty segments merged before dot segments are resolved (nginx `merge_slashes`), or kept as segments (RFC 3986). */
  mergeFirst: boolean;
  /** Trailing dots and spaces (and an NTFS `::$DATA` stream suffix) stripped from every name; a name of only dots and spaces reads as `..` (Windows). */
  windows: boolean;
  /** Unicode NFKC applied after decoding (fullwidth `ａｄｍｉｎ` reads as `admin`). */
  nfkc: boolean;
}

function allReaders(): Reader[] {
  const out: Reader[] = [];
  for (const decode of ['before', 'twice', 'after'] as const) {
    for (const params of ['keep', 'raw', 'decoded'] as const) {
      if (decode === 'after' && params === 'decoded') continue;
      for (const mergeFirst of [true, false]) for (const windows of [false, true]) for (const nfkc of [false, true]) out.push({ params, decode, mergeFirst, windows, nfkc });
    }
  }
  return out;
}

const READERS: readonly Reader[] = Object.freeze(allReaders());
/** Nothing in the path that any reader treats differently: every reading is the path itself. */
const PLAIN_PATH = /^(?!.*(?:[%;:]|\/\/|\/\.|[. ](?:\/|$)))/s;
const DOTS_AND_SPACES = /^[. ]+$/;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;
const DATA_STREAM = /::\$DATA$/i;
// What in a raw path lets an option change the reading; without it the option reads like its plain twin.
const SEMICOLON = /;|%(?:25)?3b/i;
const ENCODED_SEMICOLON = /%(?:25)?3b/i;
const NON_ASCII = /[\u0080-\uffff]/;
const ENCODED_DOT_SEMICOLON_SPACE = /%(?:25)?(?:2e|3b|20)/i;
const NON_ASCII_ESCAPE = /%(?:25)?[89a-f][0-9a-f]/i;
const WINDOWS_NAME_END = /(?:[. ]|%(?:25)?2e|%(?:25)?20)(?=\/|;|%(?:25)?3b|$)|::\$/i;

/**
 * The readers that can read this path differently from the others (a subset of READERS with the same
 * set of readings): an option is left out when nothing in the path — as sent or decoded once — lets it
 * change the reading.
 */
function readersFor(rawPath: string): Reader[] {
  const once = decodeOnce(rawPath) ?? '';
  const seen = (re: RegExp) => re.test(rawPath) || re.test(once);
  const encodedDots = ENCODED_DOT_SEMICOLON_SPACE.test(rawPath);
  const semicolon = seen(SEMICOLON);
  const empties = rawPath.includes('//') || semicolon;
  const encodedSemicolon = seen(ENCODED_SEMICOLON);
  const twice = once.includes('%');
  const nfkc = seen(NON_ASCII_ESCAPE) || NON_ASCII.test(once);
  const windows = seen(WINDOWS_NAME_END);
  return READERS.filter(
    (r) =>
      (r.decode !== 'after' || encodedDots) &&
      (r.mergeFirst || empties) &&
      (r.decode !== 'twice' || twice) &&
      (r.params === 'keep' || semicolon) &&
      (r.params !== 'decoded' || encodedSemicolon) &&
      (!r.windows || windows) &&
      (!r.nfkc || nfkc),
  );
}

/** One round of percent-decoding into UTF-8; undefined for a bad escape or bad UTF-8 (overlong forms included). */
function decodeOnce(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function cutParams(segment: string): string {
  const semi = segment.indexOf(';');
  return semi === -1 ? segment : segment.slice(0, semi);
}

function windowsName(segment: string): string {
  if (segment === '.' || segment === '..' || segment === '') return segment;
  if (DOTS_AND_SPACES.test(segment)) return '..';
  return segment.replace(DATA_STREAM, '').replace(TRAILING_DOTS_AND_SPACES, '');
}

/** The path one reader sees, in the form the rules match (decoded, dot segments resolved, no empty segments). */
function read(rawPath: string, r: Reader, caseInsensitive: boolean): string | undefined {
  let segments = rawPath.split('/').slice(1);
  if (r.params === 'raw') segments = segments.map(cutParams);
  if (r.decode !== 'after') {
    let text: string | undefined = segments.join('/');
    text = decodeOnce(text);
    if (text !== undefined && r.decode === 'twice') text = decodeOnce(text);
    if (text === undefined) return undefined;
    if (r.nfkc) text = text.normalize('NFKC');
    segments = text.replace(/\\/g, '/').split('/');
  }
  if (r.params === 'decoded') segments = segments.map(cutParams);
  if (r.windows) segments = segments.map(windowsName);

  const out: string[] = [];
  const last = segments[segments.length - 1];
  for (const seg of segments) {
    if (seg === '' && r.mergeFirst) continue;
    if (seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  let names = out.filter((s) => s !== '');
  if (r.decode === 'after') {
    const decoded: string[] = [];
    for (const s of names) {
      const d = decodeOnce(s);
      if (d === undefined) return undefined;
      decoded.push(r.nfkc ? d.normalize('NFKC') : d);
    }
    names = decoded;
  }
  const trailing = names.length > 0 && (last === '' || last === '.' || last === '..');
  const path = '/' + names.join('/') + (trailing ? '/' : '');
  return caseInsensitive ? path.toLowerCase() : path;
}

/**
 * Every distinct plausible reading of an origin-form path (without its query) that normalizePath
 * accepted. `exhaustive` runs every reader instead of only those that can make a difference for such a
 * path (the same set; tests compare the two).
 */
export function plausibleReadings(rawPath: string, caseInsensitive = false, exhaustive = false): string[] {
  const seen = new Set<string>();
  for (const r of exhaustive ? READERS : readersFor(rawPath)) {
    const p = read(rawPath, r, caseInsensitive);
    if (p !== undefined) seen.add(p);
  }
  return [...seen];
}

/**
 * True when some plausible reading of `rawPath` falls under other rules than `judged` (the gateway's
 * reading). With `host`, rules for other hosts are left out.
 */
export function readingsDisagree(policy: AccessPolicy, rawPath: string, judged: string, host?: string): boolean {
  if (PLAIN_PATH.test(rawPath)) return false;
  const cls = policy.pathClass(judged, host);
  const checked = new Set<string>([judged]);
  for (const p of plausibleReadings(rawPath, policy.caseInsensitivePaths)) {
    if (checked.has(p)) continue;
    checked.add(p);
    if (policy.pathClass(p, host) !== cls) return true;
  }
  return false;
}

function pathPart(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/**
 * normalizePath for the rules of `policy`, then the readings check: 'as-sent' when the upstream receives
 * the target as the client sent it (forward-auth), 'as-forwarded' when it receives the gateway's
 * normalised `forward` (the built-in proxy). `host` (the request's host name) leaves out rules for other hosts.
 */
export function normalizeForRules(rawTarget: string, policy: AccessPolicy, upstreamReceives: 'as-sent' | 'as-forwarded', host?: string): NormalizedTarget {
  const norm = normalizePath(rawTarget, { caseInsensitive: policy.caseInsensitivePaths });
  if (!norm.ok) return norm;
  let seen: string;
  if (upstreamReceives === 'as-forwarded') seen = pathPart(norm.forward);
  else {
    const abs = rawTarget[0] === '/' ? undefined : splitAbsoluteForm(rawTarget);
    seen = pathPart(abs?.ok ? abs.target : rawTarget);
  }
  if (readingsDisagree(policy, seen, norm.path, host)) return { ok: false, reason: 'the path reads differently to different servers, under different access rules' };
  return norm;
}
