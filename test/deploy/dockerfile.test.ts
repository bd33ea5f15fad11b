/**
 * The Dockerfile, read as text (no Docker engine runs here): the runtime stage carries only dist/src,
 * the production node_modules and the example config, runs as a numeric non-root user, checks its health
 * on the admin port, and the build context (.dockerignore) holds exactly what the stages copy.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { parseListen } from '../../src/config/schema/common.js';
import { configSchema } from '../../src/config/schema/index.js';
import { asList, asObj, DEPLOY, readYaml, ROOT } from './helpers.js';

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  steps: Instruction[];
}

/** Instructions (continuation lines joined, comments and the parser directive dropped), split into stages. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s+([\s\S]*)$/.exec(full);
    if (m) instructions.push({ op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: start });
  });
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: m?.[1] ?? ins.args, name: m?.[2], steps: [] });
    } else if (stages.length === 0) {
      args.push(ins);
    } else {
      (stages[stages.length - 1] as Stage).steps.push(ins);
    }
  }
  return { args, stages };
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}
function copies(stage: Stage): Copy[] {
  return stage.steps
    .filter((s) => s.op === 'COPY' || s.op === 'ADD')
    .map((s) => {
      const words = s.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const rest = words.filter((w) => !w.startsWith('--'));
      return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] as string };
    });
}
const exec = (s: Instruction) => JSON.parse(s.args) as string[];
const only = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op);

const TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const { args: globalArgs, stages } = parseDockerfile(TEXT);
const runtime = stages[stages.length - 1] as Stage;
const byName = (name: string) => stages.find((s) => s.name === name);

void t.test('three stages; the runtime is the last, from the same Node image', (t) => {
  t.same(stages.map((s) => s.name), ['build', 'deps', 'runtime']);
  const image = globalArgs.find((a) => a.op === 'ARG' && a.args.startsWith('NODE_IMAGE='))?.args.slice('NODE_IMAGE='.length);
  t.match(image, /^node:(\d+)-bookworm-slim$/, 'a Debian slim Node image');
  for (const s of stages) t.equal(s.from, '${NODE_IMAGE}', `${String(s.name)} uses it`);
  const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const wanted = Number(/>=\s*(\d+)/.exec(engines.engines.node)?.[1]);
  t.ok(Number(/^node:(\d+)/.exec(image ?? '')?.[1]) >= wanted, `Node ${image} satisfies engines ${engines.engines.node}`);
  t.end();
});

void t.test('the production dependencies come from npm ci --omit=dev on the lock file', (t) => {
  const deps = byName('deps') as Stage;
  t.same(copies(deps), [{ from: undefined, sources: ['package.json', 'package-lock.json'], dest: './' }], 'only the manifest and the lock file');
  t.ok(only(deps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args)), 'npm ci --omit=dev');
  const build = byName('build') as Stage;
  t.ok(only(build, 'RUN').some((r) => /\bnpm ci\b/.test(r.args) && !r.args.includes('--omit')), 'the build stage has the dev dependencies (TypeScript)');
  t.ok(only(build, 'RUN').some((r) => /\btsc -p tsconfig\.json\b/.test(r.args)), 'and compiles with the project tsconfig');
  t.end();
});

void t.test('the runtime stage carries only dist/src, production node_modules, package.json and the example config', (t) => {
  const c = copies(runtime);
  t.same(
    c.map((x) => ({ ...x, from: x.from ?? 'context' })),
    [
      { from: 'deps', sources: ['/app/node_modules'], dest: './node_modules' },
      { from: 'build', sources: ['/app/dist/src'], dest: './dist/src' },
      { from: 'context', sources: ['package.json', 'gateway.example.yaml'], dest: './' },
    ],
  );
  t.same(only(runtime, 'RUN'), [], 'nothing is installed or built in the runtime stage');
  t.same(only(runtime, 'ADD'), [], 'no ADD');
  const ts = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  t.same([ts.compilerOptions.rootDir, ts.compilerOptions.outDir], ['.', 'dist'], 'src/ compiles to dist/src');
  t.equal((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { type: string }).type, 'module', 'package.json is needed: it makes dist/src ES modules');
  t.end();
});

void t.test('src/ builds on its own: no import leaves src/ (the build stage has no test/ or bench/)', (t) => {
  const outside: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = resolve(dirname(path), m[1] as string);
          if (relative(join(ROOT, 'src'), target).startsWith('..')) outside.push(`${relative(ROOT, path)}: ${m[1]}`);
        }
      }
    }
  };
  walk(join(ROOT, 'src'));
  t.same(outside, []);
  t.end();
});

void t.test('a numeric non-root user, after the files (they stay root-owned and read-only to it)', (t) => {
  const users = only(runtime, 'USER');
  t.equal(users.length, 1);
  const [uid, gid] = (users[0]?.args ?? '').split(':');
  t.match(uid, /^\d+$/, 'numeric, so Kubernetes runAsNonRoot can verify it');
  t.not(Number(uid), 0, 'not root');
  t.match(gid, /^\d+$/);
  const lastCopy = Math.max(...runtime.steps.filter((s) => s.op === 'COPY').map((s) => s.line));
  t.ok((users[0]?.line ?? 0) > lastCopy, 'USER comes after the COPYs');
  const deployment = readYaml(join(DEPLOY, 'kubernetes/base/deployment.yaml'));
  const podSc = asObj(asObj(asObj(asObj(deployment.spec, 'spec').template, 'template').spec, 'pod').securityContext, 'securityContext');
  t.equal(String(podSc.runAsUser), uid, 'the Deployment runs as the same user');
  t.end();
});

void t.test('HEALTHCHECK asks /healthz on the default admin port; the entrypoint is the CLI', (t) => {
  const env = only(runtime, 'ENV').map((e) => e.args).join(' ');
  const url = /PORTCULLIS_HEALTHCHECK_URL=(\S+)/.exec(env)?.[1];
  t.ok(url, 'the health URL is an ENV (a different admin.listen can set it)');
  const defaults = configSchema.parse({ session: { secret: 'x'.repeat(32) } });
  const admin = parseListen(defaults.admin.listen);
  t.same([new URL(url ?? 'http://x').hostname, Number(new URL(url ?? 'http://x').port), new URL(url ?? 'http://x').pathname], ['127.0.0.1', admin?.port, '/healthz'], 'admin.listen default port, /healthz');
  const hc = only(runtime, 'HEALTHCHECK');
  t.equal(hc.length, 1);
  const cmd = JSON.parse(/CMD\s+(\[.*\])$/.exec(hc[0]?.args ?? '')?.[1] ?? '[]') as string[];
  t.equal(cmd[0], 'node', 'exec form, no shell needed');
  t.match(cmd[2], /fetch\(process\.env\.PORTCULLIS_HEALTHCHECK_URL/, 'fetches that URL');
  t.match(cmd[2], /AbortSignal\.timeout\(\d+\)/, 'with a timeout');
  t.match(hc[0]?.args, /--timeout=\d+s/);

  const entrypoint = exec(only(runtime, 'ENTRYPOINT')[0] as Instruction);
  t.same(entrypoint, ['node', 'dist/src/cli/bin.js'], 'node runs the CLI directly (it receives SIGTERM and drains)');
  t.ok(existsSync(join(ROOT, entrypoint[1] as string)), 'the built file exists');
  const cmdDefault = exec(only(runtime, 'CMD')[0] as Instruction);
  t.match(parseArgs(cmdDefault, {}), { ok: true, command: 'serve' }, 'the default command is serve');
  t.match(env, /PORTCULLIS_CONFIG=\/etc\/portcullis\/gateway\.yaml/, 'the config path the deployments mount');
  const exposed = only(runtime, 'EXPOSE').flatMap((e) => e.args.split(/\s+/)).map(Number);
  t.same(exposed, [parseListen(defaults.server.listen)?.port, admin?.port], 'EXPOSE the gateway and admin ports');
  t.end();
});

void t.test('.dockerignore lets in exactly what the stages copy from the context', (t) => {
  const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  t.equal(lines[0], '*', 'everything is excluded first');
  const allowed = lines.slice(1);
  t.ok(allowed.every((l) => l.startsWith('!')), 'then exceptions only');
  const fromContext = stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
  t.same([...new Set(fromContext)].sort(), allowed.map((l) => l.slice(1)).sort(), 'the exceptions are the context files the Dockerfile copies');
  for (const source of fromContext) t.ok(existsSync(join(ROOT, source)), `${source} exists`);
  t.notOk(allowed.some((l) => /deploy|secrets|\.env|node_modules|dist|test/.test(l)), 'no secrets, host builds or tests in the context');
  t.end();
});

void t.test('the compose files and the Kubernetes base build and run this image as the Dockerfile intends', (t) => {
  for (const file of ['docker-compose.yml', 'docker-compose.sentinel.yml']) {
    const compose = readYaml(join(DEPLOY, file));
    for (const [name, svc] of Object.entries(asObj(compose.services, 'services'))) {
      const s = asObj(svc, name);
      if (s.image !== 'portcullis:local') continue;
      t.same(s.build, { context: '..', dockerfile: 'Dockerfile' }, `${file} ${name}: built from the repository root`);
      const command = asList(s.command).map(String);
      t.match(parseArgs(command, {}), { ok: true }, `${file} ${name}: its command is a portcullis command line`);
    }
  }
  const deployment = readYaml(join(DEPLOY, 'kubernetes/base/deployment.yaml'));
  const container = asObj(asList(asObj(asObj(asObj(deployment.spec, 'spec').template, 'template').spec, 'pod').containers)[0], 'container');
  t.match(parseArgs(asList(container.args).map(String), {}), { ok: true, command: 'serve', configPath: '/etc/portcullis/gateway.yaml' }, 'Kubernetes passes serve --config to the entrypoint');
  t.end();
});
