/**
 * LDAP search filters built from operator templates (`user_filter`, `group_filter`) and untrusted values.
 *
 * RFC 4515 §3: inside an assertion value, NUL, `(`, `)`, `*` and `\` must be written as `\XX`. We also
 * escape the other ASCII control characters. Characters outside ASCII are left as they are, which the RFC
 * allows (UTFMB is part of `normal`) and which is required with ldapts: its filter parser turns each `\XX`
 * into one UTF-16 code unit (Latin-1), so an escaped UTF-8 sequence would reach the server double-encoded.
 * A value can therefore never close the assertion, open a new one or become a wildcard.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || ch === '(' || ch === ')' || ch === '*' || ch === '\\') out += `\\${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** Replaces `{name}` placeholders with escaped values; unknown placeholders are left alone. */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? escapeFilterValue(values[name]!) : whole));
}

/** OID of Active Directory's LDAP_MATCHING_RULE_IN_CHAIN (transitive membership). OpenLDAP has no such rule. */
export const MATCHING_RULE_IN_CHAIN = '1.2.840.113556.1.4.1941';

export interface GroupFilterConfig {
  group_filter?: string | undefined;
  nested_groups: boolean;
}

/**
 * The filter that finds a user's groups, or undefined when groups come from the member-of attribute.
 * `nested_groups: true` takes precedence over `group_filter`: it asks Active Directory for every group
 * the user is in, directly or through other groups, with `(member:1.2.840.113556.1.4.1941:={dn})`.
 */
export function buildGroupFilter(config: GroupFilterConfig, dn: string, username: string): string | undefined {
  if (config.nested_groups) return fillFilter(`(member:${MATCHING_RULE_IN_CHAIN}:={dn})`, { dn, username });
  if (config.group_filter) return fillFilter(config.group_filter, { dn, username });
  return undefined;
}

/**
 * The value of the first RDN of a DN when its attribute is `attribute` (case-insensitive), unescaped per
 * RFC 4514 — the group name in a memberOf value such as `CN=VMS Operators\, Berlin,OU=Groups,DC=example,DC=com`.
 */
export function firstRdnValue(dn: string, attribute = 'cn'): string | undefined {
  const eq = dn.indexOf('=');
  if (eq <= 0 || dn.slice(0, eq).trim().toLowerCase() !== attribute.toLowerCase()) return undefined;
  const bytes: number[] = [];
  const utf8 = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  for (let i = eq + 1; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === ',' || ch === '+') break;
    if (ch === '\\') {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else if (i + 1 < dn.length) {
        utf8(dn[++i]!);
      }
      continue;
    }
    const cp = dn.codePointAt(i)!;
    utf8(String.fromCodePoint(cp));
    if (cp > 0xffff) i++;
  }
  const value = Buffer.from(bytes).toString('utf8').trim();
  return value || undefined;
}
