/**
 * The access-policy engine: pure, no I/O, everything compiled once at config load.
 *
 * First match wins; a rule matches when ALL of its given criteria match (hosts, paths, methods,
 * networks, users, groups). A rule with users/groups and an anonymous request: when everything but
 * the subject matches, the request must sign in first — the decision carries `needsSubject: true` and a
 * policy of at least `one_factor` — so an anonymous request never falls through to a more permissive
 * later rule. After sign-in the pipeline decides again with the subject.
 */
import type { Config, Policy, RuleConfig } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { NetworkSet, parseIp, type ParsedIp } from '../util/net.js';
import { compileHosts, compilePaths, hostName, type HostMatcher, type PathMatcher } from './patterns.js';

export interface AccessRequest {
  host: string;
  /** Normalised by normalizePath (see normalize.ts). */
  path: string;
  method: string;
  clientIp: string;
  subject?: { user: string; groups: string[] } | undefined;
}

export interface Decision {
  policy: Policy;
  /** Index of the matching rule; -1 = the default policy. */
  rule: number;
  /** Step-up: the second factor must be younger than this (ms). */
  maxAuthAge?: number;
  /** Step-up that knows the factor (`require_factor`): the second factor must be one of these methods. */
  requireFactor?: readonly string[];
  /** `app_passwords: true`: a user's app password also passes. */
  appPasswords?: boolean;
  /** Anonymous request that matched a rule with users/groups: sign in, then decide again. */
  needsSubject?: boolean;
}

export interface AccessPolicy {
  readonly caseInsensitivePaths: boolean;
  readonly defaultPolicy: Policy;
  /** Problems worth a `check-config` warning (for example rules that can never apply). */
  readonly warnings: readonly string[];
  decide(req: AccessRequest): Decision;
  /** Why each rule did or did not match, then the decision. */
  explain(req: AccessRequest): string[];
  /** True for paths under the portal prefix, which the gateway serves itself. */
  isPortalPath(path: string): boolean;
  /**
   * Which rules' `paths` match this path (and whether it is a portal path), as a key: two paths with
   * the same key are decided alike by every rule, whatever the method, client or subject (and the host,
   * when given: rules for other hosts are then left out).
   */
  pathClass(path: string, host?: string): string;
}

type Criterion = 'hosts' | 'paths' | 'methods' | 'networks' | 'users' | 'groups';

interface CompiledRule {
  index: number;
  config: RuleConfig;
  hosts?: HostMatcher;
  paths?: PathMatcher;
  methods?: ReadonlySet<string>;
  networks?: NetworkSet;
  users?: ReadonlySet<string>;
  groups?: ReadonlySet<string>;
  hasSubject: boolean;
  decision: Decision;
  anonymousDecision: Decision;
}

const STRICTNESS: Record<Policy, number> = { bypass: 0, one_factor: 1, two_factor: 2, deny: 3 };

function atLeastOneFactor(policy: Policy): Policy {
  return STRICTNESS[policy] < STRICTNESS.one_factor ? 'one_factor' : policy;
}

function freezeDecision(d: Decision): Decision {
  return Object.freeze(d);
}

function compileRule(rule: RuleConfig, index: number, caseInsensitive: boolean): CompiledRule {
  const where = `access.rules[${index}]`;
  try {
    const hasSubject = (rule.users?.length ?? 0) > 0 || (rule.groups?.length ?? 0) > 0;
    const base: Decision = { policy: rule.policy, rule: index };
    if (rule.max_auth_age !== undefined && rule.max_auth_age > 0) base.maxAuthAge = rule.max_auth_age;
    if (rule.app_passwords) base.appPasswords = true;
    if (rule.require_factor?.length) base.requireFactor = Object.freeze([...new Set(rule.require_factor)]);
    const compiled: CompiledRule = {
      index,
      config: rule,
      hasSubject,
      decision: freezeDecision(base),
      anonymousDecision: freezeDecision({ ...base, policy: atLeastOneFactor(rule.policy), needsSubject: true }),
    };
    // An empty list is treated as "not given" (the key is optional); a rule criterion never matches nothing.
    if (rule.hosts?.length) compiled.hosts = compileHosts(rule.hosts);
    if (rule.paths?.length) compiled.paths = compilePaths(rule.paths, caseInsensitive);
    if (rule.methods?.length) compiled.methods = new Set(rule.methods.map((m) => m.toUpperCase()));
    if (rule.networks?.length) compiled.networks = new NetworkSet(rule.networks);
    if (rule.users?.length) compiled.users = new Set(rule.users);
    if (rule.groups?.length) compiled.groups = new Set(rule.groups);
    return compiled;
  } catch (err) {
    throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `${where}: ${(err as Error).message}`, { cause: err });
  }
}

/** The first criterion (other than the subject) that fails, or undefined when all match. */
function failedCriterion(r: CompiledRule, req: AccessRequest, ip: ParsedIp | undefined): Criterion | undefined {
  if (r.hosts && !r.hosts(req.host)) return 'hosts';
  if (r.paths && !r.paths(req.path)) return 'paths';
  if (r.methods && !r.methods.has(req.method) && !r.methods.has(req.method.toUpperCase())) return 'methods';
  if (r.networks && !r.networks.hasParsed(ip)) return 'networks';
  return undefined;
}

function subjectFails(r: CompiledRule, subject: NonNullable<AccessRequest['subject']>): Criterion | undefined {
  if (r.users && !r.users.has(subject.user)) return 'users';
  if (r.groups && !subject.groups.some((g) => r.groups?.has(g))) return 'groups';
  return undefined;
}

function describeRule(r: CompiledRule): string {
  const c = r.config;
  const parts: string[] = [];
  for (const key of ['hosts', 'paths', 'methods', 'networks', 'users', 'groups'] as const) {
    const v = c[key];
    if (v?.length) parts.push(`${key}=[${v.join(', ')}]`);
  }
  parts.push(`policy=${c.policy}`);
  if (c.max_auth_age) parts.push(`max_auth_age=${c.max_auth_age}ms`);
  if (c.require_factor?.length) parts.push(`require_factor=${c.require_factor.join(',')}`);
  return `rule ${r.index} (${parts.join(' ')})`;
}

function requestValue(key: Criterion, req: AccessRequest): string {
  switch (key) {
    case 'hosts':
      return `host '${hostName(req.host)}'`;
    case 'paths':
      return `path '${req.path}'`;
    case 'methods':
      return `method '${req.method}'`;
    case 'networks':
      return `client address '${req.clientIp}'`;
    case 'users':
      return `user '${req.subject?.user ?? ''}'`;
    case 'groups':
      return `groups [${(req.subject?.groups ?? []).join(', ')}]`;
  }
}

function describeDecision(d: Decision): string {
  const rule = d.rule === -1 ? 'default policy' : `rule ${d.rule}`;
  const extra = [d.maxAuthAge !== undefined ? `max_auth_age=${d.maxAuthAge}ms` : '', d.requireFactor ? `require_factor=${d.requireFactor.join(',')}` : '', d.needsSubject ? 'needs sign-in to evaluate users/groups' : '']
    .filter(Boolean)
    .join(', ');
  return `decision: ${d.policy} (${rule}${extra ? `; ${extra}` : ''})`;
}

export function compileAccess(access: Config['access'], opts: { portalPrefix: string }): AccessPolicy {
  const caseInsensitive = access.case_insensitive_paths;
  const rules = access.rules.map((r, i) => compileRule(r, i, caseInsensitive));
  const defaultDecision = freezeDecision({ policy: access.default_policy, rule: -1 });
  const portalPrefix = opts.portalPrefix.replace(/\/+$/, '');
  const isPortalPath = (path: string) => path === portalPrefix || path.startsWith(portalPrefix + '/');

  const warnings: string[] = [];
  rules.forEach((r) => {
    for (const p of r.config.paths ?? []) {
      if (!p.includes('*') && isPortalPath(p)) warnings.push(`access.rules[${r.index}].paths: '${p}' is under the portal prefix '${portalPrefix}', which the gateway serves itself; the rule never applies there`);
    }
  });

  const usesNetworks = rules.some((r) => r.networks !== undefined);

  function decide(req: AccessRequest): Decision {
    const ip = usesNetworks ? parseIp(req.clientIp) : undefined;
    for (const r of rules) {
      if (failedCriterion(r, req, ip) !== undefined) continue;
      if (!r.hasSubject) return r.decision;
      if (!req.subject) return r.anonymousDecision;
      if (subjectFails(r, req.subject) === undefined) return r.decision;
    }
    return defaultDecision;
  }

  function explain(req: AccessRequest): string[] {
    const lines: string[] = [];
    lines.push(`request: ${req.method} host '${hostName(req.host)}' path '${req.path}' from '${req.clientIp}' as ${req.subject ? `'${req.subject.user}' groups [${req.subject.groups.join(', ')}]` : 'anonymous'}`);
    if (isPortalPath(req.path)) lines.push(`note: path is under the portal prefix '${portalPrefix}'; the gateway serves it itself`);
    let decision: Decision | undefined;
    const ip = parseIp(req.clientIp);
    for (const r of rules) {
      const name = describeRule(r);
      if (decision) {
        lines.push(`${name}: not evaluated (an earlier rule matched)`);
        continue;
      }
      const failed = failedCriterion(r, req, ip);
      if (failed !== undefined) {
        lines.push(`${name}: no match — ${requestValue(failed, req)} not in ${failed}`);
        continue;
      }
      if (!r.hasSubject) {
        lines.push(`${name}: MATCH`);
        decision = r.decision;
      } else if (!req.subject) {
        lines.push(`${name}: MATCH pending sign-in — everything but users/groups matches an anonymous request`);
        decision = r.anonymousDecision;
      } else {
        const sf = subjectFails(r, req.subject);
        if (sf === undefined) {
          lines.push(`${name}: MATCH`);
          decision = r.decision;
        } else lines.push(`${name}: no match — ${requestValue(sf, req)} not in ${sf}`);
      }
    }
    if (!decision) {
      decision = defaultDecision;
      lines.push(`no rule matched: default_policy ${access.default_policy}`);
    }
    lines.push(describeDecision(decision));
    return lines;
  }

  const pathRules = rules.filter((r) => r.paths !== undefined);
  function pathClass(path: string, host?: string): string {
    let key = isPortalPath(path) ? 'P' : '-';
    for (const r of pathRules) {
      if (host !== undefined && r.hosts && !r.hosts(host)) continue;
      key += r.paths?.(path) ? '1' : '0';
    }
    return key;
  }

  return Object.freeze({ caseInsensitivePaths: caseInsensitive, defaultPolicy: access.default_policy, warnings: Object.freeze(warnings), decide, explain, isPortalPath, pathClass });
}
