/**
 * Shared by the deployment tests: where the repository is, a "fresh clone" copy of deploy/ (with the
 * secrets step run, as the README says), the container-path → host-path mapping of mounted files, and
 * loading a mounted gateway.yaml with the project's own config loader.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';
import { formatProblem, loadConfigText, type LoadResult } from '../../src/config/load.js';

/** The repository root (tests run from dist/test/deploy). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
/** The built command line (`portcullis`). */
export const CLI = join(ROOT, 'dist/src/cli/bin.js');

export type Obj = Record<string, unknown>;

export function readYaml(path: string): Obj {
  const doc = parseDocument(readFileSync(path, 'utf8'), { merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS({ maxAliasCount: 100 }) as Obj;
}

export function parseManifests(text: string): Obj[] {
  return parseAllDocuments(text)
    .flatMap((d) => {
      if ('errors' in d && d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return [d.toJS() as Obj | null];
    })
    .filter((o): o is Obj => o !== null);
}

export function asObj(value: unknown, what: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not a mapping`);
  return value as Obj;
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `portcullis-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * What a fresh clone holds for deployment: deploy/ (without any secret a developer made locally, only
 * the committed .gitignore files of the secrets folders), the Dockerfile and .dockerignore.
 */
export function freshClone(): { root: string; remove: () => void } {
  const { dir, remove } = tempDir('clone');
  cpSync(DEPLOY, join(dir, 'deploy'), {
    recursive: true,
    filter: (src) => basename(dirname(src)) !== 'secrets' || basename(src) === '.gitignore',
  });
  for (const file of ['Dockerfile', '.dockerignore']) cpSync(join(ROOT, file), join(dir, file));
  return { root: dir, remove };
}

/** Runs deploy/init-secrets.sh of a clone (or the repository) with the given arguments. */
export function initSecrets(root: string, args: string[] = []): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('sh', [join(root, 'deploy', 'init-secrets.sh'), ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Loads a config the way the container sees it: every container path in `mounts` (a mount point, or a
 * single mounted file) is rewritten to where that content is on this machine, then the project's loader
 * checks the result, reading the secret files and requiring every referenced file to exist.
 */
export async function loadMountedConfig(text: string, hostFile: string, mounts: ReadonlyMap<string, string>): Promise<LoadResult> {
  return loadConfigText(rewriteMounted(text, mounts), hostFile, {}, { checkFiles: true });
}

/** The config text with every container path in `mounts` replaced by its host path. */
export function rewriteMounted(text: string, mounts: ReadonlyMap<string, string>): string {
  const containerPaths = [...mounts.keys()].sort((a, b) => b.length - a.length);
  if (containerPaths.length === 0) return text;
  // One pass, longest path first, only where a path starts: a host path is never rewritten again.
  const pattern = new RegExp(`(?<![\\w./-])(${containerPaths.map(escapeRegExp).join('|')})(?=$|[/\\s"',\\]])`, 'gm');
  return text.replace(pattern, (p) => mounts.get(p) as string);
}

/**
 * `portcullis check-config` (the built CLI) on the config as the container sees it: the rewritten text
 * is written next to `hostFile` so that relative paths resolve the same way.
 */
export function checkConfigCli(text: string, hostFile: string, mounts: ReadonlyMap<string, string>): { status: number; stdout: string; stderr: string } {
  const file = `${hostFile}.check.yaml`;
  writeFileSync(file, rewriteMounted(text, mounts));
  const r = spawnSync(process.execPath, [CLI, 'check-config', '--config', file], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  rmSync(file, { force: true });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function problems(r: LoadResult): string[] {
  return r.ok ? [] : r.problems.map(formatProblem);
}

/** Writes `files` (relative path → content) under `dir`. */
export function writeTree(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

/** Seconds of a Go/Kubernetes-style or gateway duration such as `30s`, `5m`, `1h`. */
export function seconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new Error(`not a duration: ${value}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
}
