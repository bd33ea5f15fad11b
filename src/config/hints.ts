/** "Did you mean" and renamed-key hints for unknown keys. */

/** Keys that had another name (or place) in earlier versions or in similar gateways, by normalised path. */
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  access_control: 'access',
  authentication_backend: 'users',
  notifier: 'delivery',
  log: 'logging',
  totp: 'second_factor.totp',
  webauthn: 'second_factor.webauthn',
  default_redirection_url: 'portal.default_redirect',
  'server.address': 'server.listen',
  'server.host': 'server.listen',
  'server.port': 'server.listen',
  'server.path': 'server.portal_prefix',
  'session.expiration': 'session.lifetime',
  'session.inactivity': 'session.idle_timeout',
  'session.name': 'session.cookie.name',
  'session.domain': 'session.cookie.domain',
  'session.same_site': 'session.cookie.same_site',
  'regulation.find_time': 'regulation.window',
  'regulation.ban_time': 'regulation.block',
  'access.default_action': 'access.default_policy',
  'upstreams[].target': 'upstreams[].url',
  'users.path': 'users.file',
};

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** The closest known key, when it is close enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = key.toLowerCase().replace(/-/g, '_');
  for (const candidate of known) {
    const d = lower === candidate ? 0.5 : levenshtein(lower, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(key.length / 3));
  if (bestDistance <= allowed) return best;
  // `cert` for `cert_file`, `password` for `bind_password`: one known key that contains it.
  const containing = known.filter((k) => lower.length >= 3 && k.split('_').includes(lower));
  return containing.length === 1 ? containing[0] : undefined;
}

/** `server.listn` → "unknown key; did you mean 'listen'?"; the path uses `[]` for array entries. */
export function unknownKeyMessage(normalisedPath: string, key: string, known: readonly string[]): string {
  const renamed = RENAMED_KEYS[normalisedPath];
  if (renamed) return `unknown key; it is now '${renamed}'`;
  const close = closestKey(key, known);
  return close ? `unknown key; did you mean '${close}'?` : known.length ? `unknown key (known keys: ${known.join(', ')})` : 'unknown key';
}
