/**
 * Turns a parsed YAML document into plain data while remembering where every key and value came from.
 * On the way it expands `${ENV_VAR}`, reads `x_file` secrets, and treats an empty value (`key:`) as not
 * set. Aliases are followed within a fixed node budget, so an alias bomb cannot exhaust memory.
 */
import { stat, readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { acceptedScalars, childSchema, elementSchema, objectKeys, type Schema } from './introspect.js';
import { interpolate } from './interpolate.js';
import { formatPath, type ConfigProblem, type Position } from './problems.js';

/** Where a key and its value start; a block mapping or list (starting on the next line) is reported at its key. */
export type NodePositions = { key?: Position; value: Position; collection?: boolean };

export type Materialized = {
  data: unknown;
  /** By formatted path (`upstreams[0].url`; '' for the document). */
  positions: Map<string, NodePositions>;
  problems: ConfigProblem[];
  /** Paths already reported (a value that could not be built); schema issues under them are dropped. */
  reported: Set<string>;
};

export type MaterializeOptions = { file: string; dir: string; env: NodeJS.ProcessEnv; schema: Schema; maxNodes?: number };

/** Secrets read from files are small; anything bigger is a mistake (a key bundle, a directory). */
export const MAX_SECRET_FILE_BYTES = 65_536;
const MAX_DEPTH = 64;

class BudgetExceeded extends Error {}

type PendingSecret = { target: Record<string, unknown>; key: string; file: string; path: string; at: Position };

export async function materialize(doc: Document, lines: LineCounter, options: MaterializeOptions): Promise<Materialized> {
  const positions = new Map<string, NodePositions>();
  const problems: ConfigProblem[] = [];
  const reported = new Set<string>();
  const pending: PendingSecret[] = [];
  let budget = options.maxNodes ?? 200_000;
  /** Anchored nodes being expanded, to refuse an alias inside its own anchor. */
  const active = new Set<unknown>();

  const at = (offset: number | undefined): Position => {
    const p = lines.linePos(offset ?? 0);
    return { line: p.line, col: p.col };
  };
  const rangeStart = (node: unknown): number | undefined => (node as { range?: [number, number, number] } | null)?.range?.[0];
  const problem = (where: Position, path: string, message: string) => {
    problems.push({ file: options.file, line: where.line, col: where.col, path, message, severity: 'error' });
    reported.add(path);
  };

  const walk = (node: unknown, schema: Schema | undefined, path: PropertyKey[], depth: number): unknown => {
    if (--budget < 0) throw new BudgetExceeded();
    if (depth > MAX_DEPTH) {
      problem(at(rangeStart(node)), formatPath(path), `is nested more than ${MAX_DEPTH} levels deep`);
      return undefined;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        problem(at(rangeStart(node)), formatPath(path), `refers to an unknown anchor '${node.source}'`);
        return undefined;
      }
      if (active.has(target)) {
        problem(at(rangeStart(node)), formatPath(path), `refers to '${node.source}', which contains it`);
        return undefined;
      }
      active.add(target);
      try {
        return walk(target, schema, path, depth + 1);
      } finally {
        active.delete(target);
      }
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const known = objectKeys(schema);
      const present = new Set(node.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : '')));
      const merged: unknown[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key;
        const keyAt = at(rangeStart(keyNode) ?? rangeStart(node));
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          // `<<: *defaults` (or a list of them): merged below; keys written here win.
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const source of sources) merged.push(walk(source, schema, path, depth + 1));
          continue;
        }
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
          problem(keyAt, formatPath(path), 'keys must be plain names');
          continue;
        }
        const key = typeof keyNode.value === 'string' ? keyNode.value : JSON.stringify(keyNode.value);
        const valueAt = pair.value ? at(rangeStart(pair.value)) : keyAt;
        const base = key.endsWith('_file') ? key.slice(0, -'_file'.length) : '';
        if (base && known.includes(base) && !known.includes(key) && acceptedScalars(childSchema(schema, base)).has('string')) {
          const basePath = formatPath([...path, base]);
          positions.set(basePath, { key: keyAt, value: valueAt });
          positions.set(formatPath([...path, key]), { key: keyAt, value: valueAt });
          if (present.has(base)) {
            problem(keyAt, formatPath([...path, key]), `set either ${base} or ${key}, not both`);
            continue;
          }
          const file = walk(pair.value, undefined, [...path, key], depth + 1);
          if (typeof file === 'string' && file !== '') {
            pending.push({ target: out, key: base, file, path: basePath, at: valueAt });
          } else {
            if (!reported.has(formatPath([...path, key]))) problem(valueAt, formatPath([...path, key]), 'must be the path of a file holding the secret');
            reported.add(basePath);
          }
          continue;
        }
        const childPath = [...path, key];
        positions.set(formatPath(childPath), { key: keyAt, value: valueAt, collection: (isMap(pair.value) || isSeq(pair.value)) && valueAt.line !== keyAt.line });
        const value = walk(pair.value, childSchema(schema, key), childPath, depth + 1);
        // `key:` with nothing after it means "not set", as in most YAML-configured servers.
        if (value === null || value === undefined) continue;
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      for (const source of merged) {
        if (source === null || typeof source !== 'object' || Array.isArray(source)) {
          if (source !== undefined) problem(at(rangeStart(node)), formatPath(path), "'<<' must merge a mapping");
          continue;
        }
        for (const [key, value] of Object.entries(source)) {
          if (!Object.hasOwn(out, key) && !present.has(key)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        }
      }
      return out;
    }
    if (isSeq(node)) {
      const element = elementSchema(schema);
      return node.items.map((item, index) => {
        const itemPath = [...path, index];
        positions.set(formatPath(itemPath), { value: at(rangeStart(item) ?? rangeStart(node)) });
        return walk(item, element, itemPath, depth + 1);
      });
    }
    if (isScalar(node)) return scalar(node, schema, path);
    return null;
  };

  const scalar = (node: Scalar, schema: Schema | undefined, path: PropertyKey[]): unknown => {
    if (typeof node.value !== 'string') return node.value;
    const result = interpolate(node.value, options.env);
    if (!result.ok) {
      problem(at(rangeStart(node)), formatPath(path), result.message);
      return undefined;
    }
    if (!result.changed || node.type !== Scalar.PLAIN) return result.value;
    // An unquoted `${VAR}` may stand for a number or a boolean where the key takes one (`workers: ${N}`).
    const kinds = acceptedScalars(schema);
    const text = result.value.trim();
    if (kinds.has('number') && /^-?\d+(?:\.\d+)?$/.test(text)) return Number(text);
    if (kinds.has('boolean') && /^(?:true|false)$/.test(text)) return text === 'true';
    return result.value;
  };

  let data: unknown;
  try {
    data = walk(doc.contents, options.schema, [], 0);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    problems.push({ file: options.file, line: 1, col: 1, path: '', message: 'the document expands to too many values (an alias bomb?)', severity: 'error' });
    return { data: undefined, positions, problems, reported };
  }
  positions.set('', { value: at(rangeStart(doc.contents)) });

  await Promise.all(
    pending.map(async (s) => {
      const read = await readSecretFile(resolvePath(options.dir, s.file));
      if (typeof read === 'string') Object.defineProperty(s.target, s.key, { value: read, enumerable: true, writable: true, configurable: true });
      else problem(s.at, s.path, read.message);
    }),
  );
  return { data, positions, problems, reported };
}

async function readSecretFile(file: string): Promise<string | { message: string }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { message: `cannot read the secret file '${file}': not a regular file` };
    if (info.size > MAX_SECRET_FILE_BYTES) return { message: `the secret file '${file}' is larger than ${MAX_SECRET_FILE_BYTES} bytes` };
    const text = await readFile(file, 'utf8');
    return text.replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    return { message: `cannot read the secret file '${file}': ${reason}` };
  }
}

/** Where a path is, or its closest ancestor that exists in the file (for a key that is missing). */
export function locate(positions: Map<string, NodePositions>, path: readonly PropertyKey[], prefer: 'key' | 'value' = 'value'): Position {
  for (let n = path.length; n >= 0; n--) {
    const found = positions.get(formatPath(path.slice(0, n)));
    if (!found) continue;
    const useKey = prefer === 'key' || n < path.length || found.collection === true;
    return useKey && found.key ? found.key : found.value;
  }
  return { line: 1, col: 1 };
}
