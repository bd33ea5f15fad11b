/**
 * Words zod issues the way an operator can act on them (Authelia's style: what it must be, and what it
 * is) and places each at its node in the file. Values of secret-looking keys are never echoed.
 */
import { unknownKeyMessage } from './hints.js';
import { objectKeys, schemaAt, type Schema } from './introspect.js';
import { formatPath } from './problems.js';
import type { ProblemCollector } from './reporter.js';

export type Issue = {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
  errors?: Issue[][];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  values?: unknown[];
  format?: string;
  pattern?: string;
  prefix?: string;
  suffix?: string;
  includes?: string;
};

export type IssueContext = { data: unknown; schema: Schema; reported: Set<string>; out: ProblemCollector };

const SECRETISH = /secret|password|token|sid|key|sha256|credential/i;

export function reportIssues(issues: readonly Issue[], ctx: IssueContext, base: readonly PropertyKey[] = []): void {
  for (const issue of issues) reportIssue(issue, ctx, base);
}

function reportIssue(issue: Issue, ctx: IssueContext, base: readonly PropertyKey[]): void {
  const path = [...base, ...issue.path];
  if (isUnder(formatPath(path), ctx.reported)) return;
  if (issue.code === 'unrecognized_keys') {
    const known = objectKeys(schemaAt(ctx.schema, path));
    for (const key of issue.keys ?? []) {
      const normalised = formatPath([...path, key]).replace(/\[\d+\]/g, '[]');
      ctx.out.error([...path, key], unknownKeyMessage(normalised, key, known), 'key');
    }
    return;
  }
  if (issue.code === 'invalid_union') {
    const branch = deepestBranch(issue.errors ?? []);
    if (branch) return reportIssues(branch, ctx, path);
  }
  ctx.out.error(path, describe(issue, path, ctx));
}

function isUnder(path: string, reported: Set<string>): boolean {
  for (const r of reported) if (path === r || path.startsWith(`${r}.`) || path.startsWith(`${r}[`)) return true;
  return false;
}

/** A union branch that got past the type check says more than "expected X or Y". */
function deepestBranch(branches: Issue[][]): Issue[] | undefined {
  return branches.find((b) => b.length > 0 && b.some((i) => i.path.length > 0 || (i.code !== 'invalid_type' && i.code !== 'invalid_value')));
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

function typeName(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function configuredAs(value: unknown, path: readonly PropertyKey[]): string {
  const last = [...path].reverse().find((p) => typeof p === 'string');
  if (typeof last === 'string' && SECRETISH.test(last)) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return ` but it's configured as ${String(value)}`;
  if (typeof value === 'string' && value.length <= 80 && !/[\r\n]/.test(value)) return ` but it's configured as '${value}'`;
  return value === undefined ? '' : ` but it's ${typeName(value)}`;
}

function isDuration(schema: Schema | undefined): boolean {
  if (!schema) return false;
  let s = schema;
  for (let i = 0; i < 8; i++) {
    const d = s._zod.def as { type: string; innerType?: Schema; out?: Schema };
    if (d.type === 'pipe') return (d.out?._zod.def as { type?: string } | undefined)?.type === 'transform';
    if (!d.innerType) return false;
    s = d.innerType;
  }
  return false;
}

function quoteList(values: readonly unknown[]): string {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

function describe(issue: Issue, path: readonly PropertyKey[], ctx: IssueContext): string {
  const value = valueAt(ctx.data, path);
  const isDefault = /^(Invalid|Too (small|big))/.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      if (isDuration(schemaAt(ctx.schema, path))) return `must be a duration such as '90s', '5m', '12h' or '90d' (or 0) but it's ${typeName(value)}`;
      return `must be ${EXPECTED[issue.expected ?? ''] ?? issue.expected} but it's ${typeName(value)}`;
    case 'invalid_union': {
      if (value === undefined) return 'is required';
      if (isDuration(schemaAt(ctx.schema, path))) return `must be a duration such as '90s', '5m', '12h' or '90d' (or 0) but it's ${typeName(value)}`;
      const options = (issue.errors ?? []).flatMap((b) => b.map((i) => (i.code === 'invalid_value' ? quoteList(i.values ?? []) : (EXPECTED[i.expected ?? ''] ?? String(i.expected)))));
      return `must be ${[...new Set(options)].join(' or ')}${configuredAs(value, path)}`;
    }
    case 'invalid_value':
      return `must be ${issue.values && issue.values.length > 1 ? 'one of ' : ''}${quoteList(issue.values ?? [])}${configuredAs(value, path)}`;
    case 'too_small':
    case 'too_big': {
      if (!isDefault) return issue.message;
      const small = issue.code === 'too_small';
      const limit = String(small ? issue.minimum : issue.maximum);
      const bound = small ? (issue.inclusive === false ? 'greater than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
      if (issue.origin === 'string') return `must be ${bound} ${limit} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list ${bound} ${limit} ${limit === '1' ? 'entry' : 'entries'}`;
      return `must be ${bound} ${limit}${configuredAs(value, path)}`;
    }
    case 'invalid_format': {
      if (!isDefault) return issue.message;
      if (issue.format === 'starts_with') return `must start with '${issue.prefix}'${configuredAs(value, path)}`;
      if (issue.format === 'ends_with') return `must end with '${issue.suffix}'${configuredAs(value, path)}`;
      if (issue.format === 'includes') return `must contain '${issue.includes}'${configuredAs(value, path)}`;
      if (issue.format === 'regex') return `must match ${issue.pattern}${configuredAs(value, path)}`;
      return `must be a valid ${issue.format}${configuredAs(value, path)}`;
    }
    default:
      return issue.message;
  }
}
