/**
 * Loads `gateway.yaml`: YAML with line numbers → `${ENV}` and `x_file` secrets → the zod schema →
 * checks across sections → a deep-frozen config. Every problem is collected and reported at once as
 * `FILE:LINE:COL key.path: message`. Loading has no side effects beyond reading the config file and the
 * secret files it names (no network, no connections), so a reload may call it at any time.
 *
 * Secrets from files: `x_file: /path` stands for `x` wherever the schema's object has a key `x` that
 * takes a string and no key `x_file` of its own. This is read from the zod schema's shape (introspect.ts)
 * rather than from a list, so a new secret key gets `_file` for free; `cert_file`, `key_file`, `ca_file`,
 * `jwks_file`, `private_key_file` and `users.file` are ordinary keys (paths), never secrets.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { deepFreeze } from './freeze.js';
import { reportIssues } from './issues.js';
import type { Schema } from './introspect.js';
import { materialize } from './materialize.js';
import { checkConfigFiles, resolveConfigPaths } from './paths.js';
import { sortProblems, type ConfigProblem } from './problems.js';
import { ProblemCollector } from './reporter.js';
import { configSchema, type Config } from './schema/index.js';
import { checkSemantics } from './semantic.js';

export { formatProblem, type ConfigProblem } from './problems.js';

export type LoadResult =
  | { ok: true; config: Readonly<Config>; warnings: ConfigProblem[]; file: string }
  | { ok: false; problems: ConfigProblem[]; warnings: ConfigProblem[]; file: string };

/** A config file is a few kilobytes; this only stops an accident (or an attack) from exhausting memory. */
export const MAX_CONFIG_BYTES = 1_048_576;
/** Aliases may be used (`&defaults`), but not to build a "billion laughs" document. */
export const MAX_ALIAS_COUNT = 100;

const fail = (file: string, message: string, line = 1, col = 1): LoadResult => ({
  ok: false,
  problems: [{ file, line, col, path: '', message, severity: 'error' }],
  warnings: [],
  file,
});

export interface LoadOptions {
  /** Also require every referenced file (users file, TLS, keys, JWKS, templates) to exist and be readable. */
  checkFiles?: boolean;
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) return fail(path, 'cannot read the config file: not a regular file');
    if (info.size > MAX_CONFIG_BYTES) return fail(path, `the config file is larger than ${MAX_CONFIG_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    return fail(path, `cannot read the config file: ${reason}`);
  }
  return loadConfigText(text, path, env, options);
}

/** `file` names the text in problems and anchors relative paths (its directory). */
export async function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<LoadResult> {
  if (text.length > MAX_CONFIG_BYTES) return fail(file, `the config file is larger than ${MAX_CONFIG_BYTES} bytes`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const position = (offset: number) => lines.linePos(offset);
  const yamlProblem = (e: { pos: [number, number]; message: string }, severity: ConfigProblem['severity']): ConfigProblem => {
    const p = position(e.pos[0]);
    return { file, line: p.line, col: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}`, severity };
  };
  const yamlWarnings = doc.warnings.map((w) => yamlProblem(w, 'warning'));
  if (doc.errors.length > 0) {
    return { ok: false, problems: sortProblems(doc.errors.map((e) => yamlProblem(e, 'error'))), warnings: yamlWarnings, file };
  }
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT, mapAsMap: true });
  } catch (err) {
    // Only the alias bomb stops here; other conversion errors are found again, with a position, below.
    if (/alias count/i.test(String(err))) return fail(file, `YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc.contents === null || (doc.contents as { value?: unknown }).value === null) {
    return fail(file, 'the config file is empty; it needs at least a session section with a secret');
  }
  if (!isMap(doc.contents)) {
    const p = position(doc.contents.range?.[0] ?? 0);
    return fail(file, 'the top level must be a mapping of sections (server:, session:, upstreams:, ...)', p.line, p.col);
  }

  const schema = configSchema as unknown as Schema;
  const dir = dirname(resolve(file));
  const built = await materialize(doc, lines, { file, dir, env, schema });
  const out = new ProblemCollector(file, built.positions);
  out.errors.push(...built.problems);
  out.warnings.push(...yamlWarnings);
  if (built.data === undefined) return { ok: false, problems: sortProblems(out.errors), warnings: [], file };

  const parsed = configSchema.safeParse(built.data);
  if (!parsed.success) reportIssues(parsed.error.issues, { data: built.data, schema, reported: built.reported, out });
  checkSemantics(built.data, out);

  const problems = sortProblems(out.errors);
  const warnings = sortProblems(out.warnings);
  if (problems.length > 0 || !parsed.success) {
    if (problems.length === 0) problems.push({ file, line: 1, col: 1, path: '', message: 'invalid configuration', severity: 'error' });
    return { ok: false, problems, warnings, file };
  }
  const config = parsed.data;
  resolveConfigPaths(config, dir);
  if (options.checkFiles) checkConfigFiles(config, (path, message) => out.error(path, message));
  if (out.errors.length > 0) return { ok: false, problems: sortProblems(out.errors), warnings, file };
  return { ok: true, config: deepFreeze(config), warnings, file };
}
