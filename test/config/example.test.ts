import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { keyPaths } from '../../src/config/introspect.js';
import { formatProblem, loadConfigFile } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema/index.js';

// dist/test/config → repo root
const EXAMPLE = fileURLToPath(new URL('../../../gateway.example.yaml', import.meta.url));
const ENV = { SESSION_SECRET: 'x'.repeat(48), LDAP_PASSWORD: 'ldap', SMTP_PASSWORD: 'smtp', TWILIO_AUTH_TOKEN: 'twilio' };

/** The example with its commented-out settings (`# key: value`) switched on, to see every documented key. */
function uncommented(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*)# ((?:\s*)(?:- )?[a-z_]+:(?:\s.*)?)$/.exec(line);
      return m ? `${m[1]}${m[2]}` : line;
    })
    .join('\n');
}

function documentedPaths(node: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      documentedPaths(pair.value, path, out);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) documentedPaths(item, `${prefix}[]`, out);
  }
  return out;
}

void t.test('gateway.example.yaml passes check-config with no errors and no warnings', async (t) => {
  const r = await loadConfigFile(EXAMPLE, ENV);
  t.ok(r.ok, r.ok ? 'valid' : r.problems.map(formatProblem).join('\n'));
  t.same(r.warnings.map(formatProblem), []);
});

void t.test('gateway.example.yaml documents every key of the schema', (t) => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const doc = parseDocument(uncommented(text));
  t.same(doc.errors.map((e) => e.message), [], 'the commented-out settings are valid YAML once switched on');
  const documented = documentedPaths(doc.contents);
  const schemaPaths = keyPaths(configSchema);
  t.ok(schemaPaths.length > 100, 'the schema walk finds the keys');
  const missing = schemaPaths.filter((p) => !documented.has(p));
  t.same(missing, [], 'every schema key appears in gateway.example.yaml');
  const known = new Set(schemaPaths);
  const unknown = [...documented].filter((p) => !known.has(p) && !(p.endsWith('_file') && known.has(p.slice(0, -'_file'.length))));
  t.same(unknown, [], 'the example names no key the schema does not know');
  t.end();
});

void t.test('every key in the example setting has a one-line comment where it first appears', (t) => {
  const text = uncommented(readFileSync(EXAMPLE, 'utf8'));
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const sourceLines = text.split('\n');
  const seen = new Set<string>();
  const bare: string[] = [];
  const visit = (node: unknown, prefix: string) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const path = prefix ? `${prefix}.${key}` : key;
        const line = lines.linePos((pair.key as { range: [number, number, number] }).range[0]).line;
        const leaf = !isMap(pair.value) && !(isSeq(pair.value) && pair.value.items.some(isMap));
        if (leaf && !seen.has(path) && !/\s#\s/.test(sourceLines[line - 1] ?? '')) bare.push(`${line}: ${path}`);
        seen.add(path);
        visit(pair.value, path);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item, `${prefix}[]`);
    }
  };
  visit(doc.contents, '');
  t.same(bare, []);
  t.end();
});

void t.test('the key-path walk covers nested objects and arrays', (t) => {
  const paths = keyPaths(configSchema);
  for (const p of ['server.listen', 'session.redis.sentinel.master_name', 'upstreams[].timeouts.idle', 'api_clients[].bearer_jwt.jwks_url', 'second_factor.assignments[].method', 'access.rules[].max_auth_age']) {
    t.ok(paths.includes(p), p);
  }
  t.end();
});
