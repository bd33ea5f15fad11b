/**
 * Property-based: the config loader (config/load.ts) never throws, whatever it is given. Its answer is
 * either a valid config, or a non-empty list of problems each with the file, a 1-based line and column
 * and a message (`FILE:LINE:COL key.path: message`). Inputs: YAML-shaped text from an alphabet of YAML
 * syntax and real keys; the documented gateway.example.yaml with random edits spliced into its text; and
 * the example as an object with random keys deleted, values replaced by arbitrary JSON or hostile strings,
 * unknown and misspelt keys added, then written back as YAML.
 */
import t from 'tap';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { formatProblem, loadConfigText, type LoadResult } from '../../src/config/load.js';
import { fuzzParameters } from './fuzz.js';

// dist/test/security → repo root
const EXAMPLE = readFileSync(fileURLToPath(new URL('../../../gateway.example.yaml', import.meta.url)), 'utf8');
const ENV = { SESSION_SECRET: 'x'.repeat(48), LDAP_PASSWORD: 'ldap', SMTP_PASSWORD: 'smtp', TWILIO_AUTH_TOKEN: 'twilio', EMPTY: '' };

function checkResult(r: LoadResult, file: string): void {
  if (r.ok) {
    if (!Object.isFrozen(r.config)) throw new Error('a valid config is not frozen');
    return;
  }
  if (r.problems.length === 0) throw new Error('refused without a problem');
  for (const p of [...r.problems, ...r.warnings]) {
    if (p.file !== file) throw new Error(`problem names ${p.file}, not ${file}`);
    if (!Number.isInteger(p.line) || p.line < 1 || !Number.isInteger(p.col) || p.col < 1) throw new Error(`bad position in ${JSON.stringify(p)}`);
    if (typeof p.message !== 'string' || p.message.trim() === '') throw new Error(`empty message in ${JSON.stringify(p)}`);
    if (!formatProblem(p).startsWith(`${file}:${p.line}:${p.col} `)) throw new Error(`badly formatted: ${formatProblem(p)}`);
  }
}

const YAML_TOKENS = [
  'server', 'session', 'secret', 'secret_file', 'secrets', 'listen', 'public_url', 'trusted_proxies', 'upstreams', 'name', 'url', 'match',
  'hosts', 'access', 'rules', 'paths', 'policy', 'bypass', 'default_policy', 'store', 'memory', 'redis', 'users', 'file', 'lifetime', 'cookie',
  ':', ': ', '- ', '-', '\n', '\n  ', '\n    ', '\t', ' ', '#', '"', "'", '{', '}', '[', ']', ',', '&a ', '*a', '<<: *a', '!!binary ', '!!str ',
  '!', '|', '>', '---', '...', '%YAML 1.2', '?', '${SESSION_SECRET}', '${UNSET}', '${', '}', '90s', '0', '-1', '1e999', '0x1f', 'null', '~',
  'true', 'no', '127.0.0.1:0', 'http://127.0.0.1:1', '\u0000', '\ufeff', '\u2028', 'é', '\\', '\r\n',
];
const yamlText = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 60 }).map((parts) => parts.join(''));

const spliced = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.string({ maxLength: 10 }))), { minLength: 1, maxLength: 5 }).map((edits) => {
  let text = EXAMPLE;
  for (const [at, cut, insert] of edits) {
    const i = at % (text.length + 1);
    text = text.slice(0, i) + insert + text.slice(i + cut);
  }
  return text;
});

const EXAMPLE_OBJECT = parse(EXAMPLE) as Record<string, unknown>;

/** Every path into the example object (keys and indices). */
function paths(node: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  const entries: Array<[string | number, unknown]> = Array.isArray(node) ? node.map((v, i) => [i, v]) : node !== null && typeof node === 'object' ? Object.entries(node) : [];
  for (const [k, v] of entries) {
    out.push([...prefix, k]);
    paths(v, [...prefix, k], out);
  }
  return out;
}
const PATHS = paths(EXAMPLE_OBJECT);

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', '${UNSET}', '${', '${EMPTY}', '90x', '-1s', '0s', '999999999999d', '0.0.0.0:99999', 'not a url', 'javascript:alert(1)', '/nonexistent/secret', '.', '..', '\u0000', 'a'.repeat(5000)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const edit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'add-unknown', 'add-misspelt', 'wrap-array'),
  value: hostileValue,
  key: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('secret_file', 'password_file', 'listne', 'publc_url', 'polcy', 'path', '__proto__', 'constructor')),
});

function applyEdits(edits: Array<{ at: number; op: string; value: unknown; key: string }>): unknown {
  const doc = structuredClone<Record<string, unknown>>(EXAMPLE_OBJECT);
  for (const e of edits) {
    const path = PATHS[e.at % PATHS.length]!;
    let parent: unknown = doc;
    for (const part of path.slice(0, -1)) parent = parent === null || typeof parent !== 'object' ? undefined : (parent as Record<string | number, unknown>)[part];
    if (parent === null || typeof parent !== 'object') continue;
    const p = parent as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (Array.isArray(p) !== (typeof last === 'number')) continue; // an earlier edit changed the shape here
    if (e.op === 'delete') delete p[last];
    else if (e.op === 'replace') p[last] = e.value;
    else if (e.op === 'wrap-array') p[last] = [p[last]];
    else if (e.op === 'add-unknown' || e.op === 'add-misspelt') {
      const target = p[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return doc;
}
const editedObject = fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => stringify(applyEdits(edits)));

void t.test('fuzz: the config loader answers a config or located problems, never an exception', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-fuzz-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gateway.yaml');
  await writeFile(join(dir, 'secret.txt'), 'a-secret-from-a-file-0123456789-abcdef\n');
  const baseline = await loadConfigText(EXAMPLE, file, ENV);
  t.ok(baseline.ok, 'the unedited example loads (the edits below start from a valid config)');

  for (const [name, arb, runs] of [
    ['YAML-shaped text', yamlText, 500],
    ['the example with text spliced in', spliced, 300],
    ['the example object with keys and values edited', editedObject, 300],
    ['arbitrary text', fc.string({ unit: 'binary', maxLength: 500 }), 300],
  ] as const) {
    await fc.assert(
      fc.asyncProperty(arb, async (text) => {
        let r: LoadResult;
        try {
          r = await loadConfigText(text, file, ENV);
        } catch (err) {
          throw new Error(`loadConfigText threw on ${JSON.stringify(text.slice(0, 200))}: ${(err as Error).stack ?? String(err)}`);
        }
        checkResult(r, file);
      }),
      fuzzParameters(runs),
    );
    t.pass(`${name}: property held`);
  }
});
