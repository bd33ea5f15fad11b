/** One mistake (or doubtful setting) in a config file, with where it is. */
export type ConfigProblem = {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** `session.redis.url`, `upstreams[0].url`; empty for the file as a whole. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
};

export type Position = { line: number; col: number };

/** `FILE:LINE:COL key.path: message` (warnings say `warning: ` before the message). */
export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const what = p.severity === 'warning' ? `warning: ${p.message}` : p.message;
  return p.path ? `${where} ${p.path}: ${what}` : `${where} ${what}`;
}

/** `['upstreams', 0, 'url']` → `upstreams[0].url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Problems in file order, duplicates removed. */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const p of problems) {
    const key = formatProblem(p);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}
