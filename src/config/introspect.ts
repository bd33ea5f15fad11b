/**
 * Reads the shape of the zod 4 config schema (`schema._zod.def`) so the loader can find which keys an
 * object knows (did-you-mean hints, `x_file` secrets) and which scalar types a key accepts. Wrappers
 * (optional, default, prefault, nullable, readonly, catch, pipe) are looked through; `.refine()` adds
 * no wrapper in zod 4.
 */
type Def = {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: Schema[];
  values?: unknown[];
  entries?: Record<string, unknown>;
  getter?: () => Schema;
};
export type Schema = { _zod: { def: unknown } };

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

function def(schema: Schema): Def {
  return schema._zod.def as Def;
}

/** The schema under every wrapper. */
export function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 32; i++) {
    const d = def(s);
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else break;
  }
  return s;
}

/** The object shapes a schema may take (several for a union of objects). */
function shapes(schema: Schema): Record<string, Schema>[] {
  const d = def(unwrap(schema));
  if (d.type === 'object' && d.shape) return [d.shape];
  if (d.type === 'union' && d.options) return d.options.flatMap(shapes);
  return [];
}

/** The keys an object schema knows; empty when the schema is not an object. */
export function objectKeys(schema: Schema | undefined): string[] {
  if (!schema) return [];
  return [...new Set(shapes(schema).flatMap((s) => Object.keys(s)))];
}

/** The schema of `key` inside an object schema. */
export function childSchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (!schema) return undefined;
  for (const shape of shapes(schema)) if (Object.hasOwn(shape, key)) return shape[key];
  return undefined;
}

/** The schema of one entry of an array schema. */
export function elementSchema(schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  const d = def(unwrap(schema));
  if (d.type === 'array') return d.element;
  if (d.type === 'union' && d.options) {
    for (const option of d.options) {
      const element = elementSchema(option);
      if (element) return element;
    }
  }
  return undefined;
}

/** The schema at a path of keys and indexes. */
export function schemaAt(schema: Schema | undefined, path: readonly PropertyKey[]): Schema | undefined {
  let s = schema;
  for (const part of path) {
    if (!s) return undefined;
    s = typeof part === 'number' ? elementSchema(s) : childSchema(s, String(part));
  }
  return s;
}

export type ScalarKind = 'string' | 'number' | 'boolean';

/** Which scalar types the schema accepts as input. */
export function acceptedScalars(schema: Schema | undefined): Set<ScalarKind> {
  const out = new Set<ScalarKind>();
  if (!schema) return out;
  const d = def(unwrap(schema));
  const add = (v: unknown) => {
    const t = typeof v;
    if (t === 'string' || t === 'number' || t === 'boolean') out.add(t);
  };
  if (d.type === 'string' || d.type === 'number' || d.type === 'boolean') out.add(d.type);
  else if (d.type === 'literal') (d.values ?? []).forEach(add);
  else if (d.type === 'enum') Object.values(d.entries ?? {}).forEach(add);
  else if (d.type === 'union') for (const o of d.options ?? []) for (const k of acceptedScalars(o)) out.add(k);
  return out;
}

/**
 * Every key path of the schema: `server.listen`, `upstreams[].timeouts.idle`. Objects are listed as well
 * as their keys.
 */
export function keyPaths(schema: Schema, prefix = ''): string[] {
  const out: string[] = [];
  for (const key of objectKeys(schema)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    const child = childSchema(schema, key) as Schema;
    out.push(...keyPaths(child, path));
    let element = elementSchema(child);
    let itemPath = path;
    while (element) {
      itemPath += '[]';
      out.push(...keyPaths(element, itemPath));
      element = elementSchema(element);
    }
  }
  return out;
}
