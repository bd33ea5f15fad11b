const MAX_ACCEPT_LANGUAGE = 1024;
const MAX_RANGES = 32;

/**
 * The language to show: the `cookieLang` choice when supported, else the best `Accept-Language`
 * match by q-value (exact tag first, then its primary subtag: de-AT → de), else `supported[0]`.
 */
export function negotiateLanguage(acceptLanguage: string | undefined, supported: readonly string[], cookieLang?: string): string {
  const fallback = supported[0] ?? 'en';
  const lookup = new Map(supported.map((s) => [s.toLowerCase(), s]));
  if (cookieLang) {
    const c = lookup.get(cookieLang.trim().toLowerCase());
    if (c) return c;
  }
  if (!acceptLanguage) return fallback;
  const ranges: Array<{ tag: string; q: number; order: number }> = [];
  const parts = acceptLanguage.slice(0, MAX_ACCEPT_LANGUAGE).split(',').slice(0, MAX_RANGES);
  parts.forEach((part, order) => {
    const [rawTag = '', ...params] = part.trim().split(';');
    const tag = rawTag.trim().toLowerCase();
    if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
      else if (/^\s*q\s*=/i.test(p)) q = 0; // malformed q: treat as not acceptable
    }
    if (q > 0) ranges.push({ tag, q, order });
  });
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { tag } of ranges) {
    if (tag === '*') return fallback;
    const exact = lookup.get(tag);
    if (exact) return exact;
    const primary = tag.split('-')[0] as string;
    const base = lookup.get(primary);
    if (base) return base;
    // A supported regional variant for a bare request (pt → pt-br).
    for (const [k, v] of lookup) if (k.split('-')[0] === primary) return v;
  }
  return fallback;
}
