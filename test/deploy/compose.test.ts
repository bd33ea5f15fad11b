/**
 * deploy/docker-compose*.yml: every path they name exists (after the one documented secrets step, in a
 * fresh clone), the gateway config they mount passes the project's config loader and `check-config`
 * with the mounted files, and the services they wire together agree with each other. No Docker engine
 * runs here, so this is what can be checked without one.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { parseListen } from '../../src/config/schema/common.js';
import type { Config } from '../../src/config/schema/index.js';
import { DEMO_PASSWORDS } from '../../src/users/demo-users.js';
import { parseUsersFile } from '../../src/users/file-parse.js';
import { verifyPassword } from '../../src/users/password.js';
import { asList, asObj, checkConfigCli, DEPLOY, freshClone, initSecrets, loadMountedConfig, problems, readYaml, seconds, type Obj } from './helpers.js';

/** A YAML/JSON scalar as text (objects as JSON, so a wrong shape shows in the message). */
function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? '');
}


const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.sentinel.yml'];
const CADDY = spawnSync('caddy', ['version'], { encoding: 'utf8' }).status === 0;

interface NamedPath {
  what: string;
  path: string;
  kind: 'file' | 'dir';
  secret: boolean;
}

/** Every host path a compose file names (build contexts and Dockerfiles, bind mounts, secret and config files, env files). */
function namedPaths(composeFile: string): NamedPath[] {
  const compose = readYaml(composeFile);
  const base = dirname(composeFile);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const out: NamedPath[] = [];
  const services = asObj(compose.services, 'services');
  const volumes = Object.keys(asObj(compose.volumes ?? {}, 'volumes'));
  const secrets = asObj(compose.secrets ?? {}, 'secrets');
  for (const [name, value] of Object.entries(services)) {
    const svc = asObj(value, `service ${name}`);
    if (svc.build !== undefined) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : asObj(svc.build, 'build');
      const context = at(str(build.context ?? '.'));
      out.push({ what: `${name}: build context`, path: context, kind: 'dir', secret: false });
      out.push({ what: `${name}: Dockerfile`, path: resolve(context, str(build.dockerfile ?? 'Dockerfile')), kind: 'file', secret: false });
    }
    for (const v of asList(svc.volumes)) {
      const source = typeof v === 'string' ? v.split(':')[0] ?? '' : str(asObj(v, 'volume').source ?? '');
      if (source.startsWith('.') || source.startsWith('/')) {
        out.push({ what: `${name}: bind mount ${source}`, path: at(source), kind: existsSync(at(source)) && statSync(at(source)).isDirectory() ? 'dir' : 'file', secret: false });
      } else if (!volumes.includes(source)) {
        throw new Error(`${composeFile}: service ${name} mounts the volume '${source}', which is not declared`);
      }
    }
    for (const s of asList(svc.secrets)) {
      const secretName = typeof s === 'string' ? s : String(asObj(s, 'secret').source);
      if (!(secretName in secrets)) throw new Error(`${composeFile}: service ${name} uses the undeclared secret '${secretName}'`);
    }
    for (const e of asList(typeof svc.env_file === 'string' ? [svc.env_file] : svc.env_file)) out.push({ what: `${name}: env_file`, path: at(String(e)), kind: 'file', secret: false });
  }
  for (const [name, value] of Object.entries(secrets)) {
    const file = asObj(value, `secret ${name}`).file;
    if (file !== undefined) out.push({ what: `secret ${name}`, path: at(str(file)), kind: 'file', secret: true });
  }
  for (const [name, value] of Object.entries(asObj(compose.configs ?? {}, 'configs'))) {
    const file = asObj(value, `config ${name}`).file;
    if (file !== undefined) out.push({ what: `config ${name}`, path: at(str(file)), kind: 'file', secret: false });
  }
  return out;
}

function missing(paths: NamedPath[]): string[] {
  return paths
    .filter((p) => {
      try {
        const st = statSync(p.path);
        return p.kind === 'dir' ? !st.isDirectory() : !st.isFile();
      } catch {
        return true;
      }
    })
    .map((p) => `${p.what}: ${p.path}`);
}

function services(composeFile: string): Record<string, Obj> {
  return Object.fromEntries(Object.entries(asObj(readYaml(composeFile).services, 'services')).map(([k, v]) => [k, asObj(v, k)]));
}

const command = (svc: Obj) => asList(svc.command).map(String);
const isGateway = (svc: Obj) => command(svc)[0] === 'serve';

/** The container path → host path map of a service's bind mounts and secrets. */
function mountsOf(composeFile: string, svc: Obj): Map<string, string> {
  const base = dirname(composeFile);
  const compose = readYaml(composeFile);
  const mounts = new Map<string, string>();
  for (const v of asList(svc.volumes)) {
    if (typeof v !== 'string') continue;
    const [source, target] = v.split(':');
    if (source && target && (source.startsWith('.') || source.startsWith('/'))) mounts.set(target, resolve(base, source));
  }
  for (const s of asList(svc.secrets)) {
    const name = typeof s === 'string' ? s : String(asObj(s, 'secret').source);
    const file = String(asObj(asObj(compose.secrets, 'secrets')[name], name).file);
    mounts.set(`/run/secrets/${name}`, resolve(base, file));
  }
  return mounts;
}

async function gatewayConfig(t: Test, composeFile: string, svc: Obj): Promise<Readonly<Config> | undefined> {
  const args = command(svc);
  const configPath = args[args.indexOf('--config') + 1] as string;
  const mounts = mountsOf(composeFile, svc);
  const hostFile = mounts.get(configPath);
  t.ok(hostFile, `--config ${configPath} is a mounted file`);
  if (!hostFile) return undefined;
  const text = readFileSync(hostFile, 'utf8');
  const result = await loadMountedConfig(text, hostFile, mounts);
  t.same(problems(result), [], 'the mounted gateway config is valid (the loader reads the mounted secrets and files)');
  t.same(result.warnings, [], 'check-config has nothing to warn about');
  const cli = checkConfigCli(text, hostFile, mounts);
  t.equal(cli.status, 0, `portcullis check-config accepts it: ${cli.stderr}`);
  t.match(cli.stdout, /^config OK: \S+\n$/, 'with no warnings');
  return result.ok ? result.config : undefined;
}

void t.test('in the repository every path the compose files name exists, except the secret files init-secrets.sh makes', (t) => {
  for (const file of COMPOSE_FILES) {
    const paths = namedPaths(join(DEPLOY, file));
    t.ok(paths.some((p) => p.what.endsWith('Dockerfile')), `${file}: builds the image`);
    t.same(missing(paths.filter((p) => !p.secret)), [], `${file}: every non-secret path exists`);
    for (const p of paths.filter((x) => x.secret)) t.equal(dirname(p.path), join(DEPLOY, 'secrets'), `${p.what} is made in deploy/secrets`);
    t.ok(readFileSync(join(DEPLOY, 'secrets/.gitignore'), 'utf8').split('\n').includes('*'), 'deploy/secrets is ignored by git');
  }
  t.end();
});

void t.test('a fresh clone plus deploy/init-secrets.sh has every path the compose files name', (t) => {
  const clone = freshClone();
  t.teardown(clone.remove);
  for (const file of COMPOSE_FILES) t.not(missing(namedPaths(join(clone.root, 'deploy', file))), [], `${file}: the clone lacks the secrets before the step`);
  const r = initSecrets(clone.root);
  t.equal(r.status, 0, r.stderr);
  for (const file of COMPOSE_FILES) t.same(missing(namedPaths(join(clone.root, 'deploy', file))), [], `${file}: nothing is missing after it`);
  const secret = join(clone.root, 'deploy/secrets/session_secret');
  const value = readFileSync(secret, 'utf8');
  t.match(value, /^[A-Za-z0-9+/]{64}$/, '48 random bytes, base64, no newline');
  t.equal(statSync(secret).mode & 0o777, 0o644, 'readable by the container user (compose mounts it unchanged)');
  t.equal(statSync(dirname(secret)).mode & 0o777, 0o700, 'inside a folder only its owner enters');
  t.end();
});

void t.test('init-secrets.sh keeps existing files, makes the names it is given, refuses odd names', (t) => {
  const clone = freshClone();
  t.teardown(clone.remove);
  t.equal(initSecrets(clone.root).status, 0);
  const secret = join(clone.root, 'deploy/secrets/session_secret');
  const first = readFileSync(secret, 'utf8');
  const again = initSecrets(clone.root);
  t.equal(again.status, 0);
  t.match(again.stdout, /^kept {4}.*session_secret$/m);
  t.equal(readFileSync(secret, 'utf8'), first, 'a second run changes nothing');

  const dir = join(clone.root, 'elsewhere/secrets');
  const made = initSecrets(clone.root, [dir, 'session_secret', 'redis_password']);
  t.equal(made.status, 0, made.stderr);
  const a = readFileSync(join(dir, 'session_secret'), 'utf8');
  const b = readFileSync(join(dir, 'redis_password'), 'utf8');
  t.not(a, b, 'each file is drawn on its own');
  t.not(a, first);
  t.ok(readFileSync(join(dir, '.gitignore'), 'utf8').includes('*'), 'a new folder is ignored by git');
  for (const bad of ['../escape', '.hidden', 'a/b']) {
    const r = initSecrets(clone.root, [dir, bad]);
    t.equal(r.status, 2, `'${bad}' is refused`);
    t.match(r.stderr, /is not a plain file name/);
  }
  t.notOk(existsSync(join(clone.root, 'elsewhere/escape')), 'nothing written outside the folder');
  t.end();
});

void t.test('the single-node stack: gateway, Redis with AOF, Mailpit, the demo app, all wired together', async (t) => {
  const clone = freshClone();
  t.teardown(clone.remove);
  initSecrets(clone.root);
  const file = join(clone.root, 'deploy/docker-compose.yml');
  const svcs = services(file);
  const gateways = Object.entries(svcs).filter(([, s]) => isGateway(s));
  t.equal(gateways.length, 1, 'one gateway');
  const config = await gatewayConfig(t, file, gateways[0]![1]);
  if (!config) return;
  checkWiring(t, svcs, config);
  const redisCmd = command(svcs.redis as Obj);
  t.equal(redisCmd[redisCmd.indexOf('--appendonly') + 1], 'yes', 'Redis persists with the append-only file');
  t.ok(asList((svcs.redis as Obj).volumes).some((v) => String(v).endsWith(':/data')), 'on a volume');
  t.equal(new URL(config.session.redis.url).hostname, 'redis', 'the gateway uses that Redis');
});

void t.test('the Sentinel stack: one master, one replica, three sentinels, two gateways behind a load balancer', async (t) => {
  const clone = freshClone();
  t.teardown(clone.remove);
  initSecrets(clone.root);
  const file = join(clone.root, 'deploy/docker-compose.sentinel.yml');
  const svcs = services(file);
  const gateways = Object.entries(svcs).filter(([, s]) => isGateway(s));
  t.same(gateways.map(([n]) => n).sort(), ['gateway-1', 'gateway-2'], 'two gateways');
  let config: Readonly<Config> | undefined;
  for (const [name, svc] of gateways) {
    await t.test(name, async (t) => {
      config = await gatewayConfig(t, file, svc);
    });
  }
  if (!config) return;
  checkWiring(t, svcs, config);

  const redisServers = Object.entries(svcs).filter(([, s]) => command(s)[0] === 'redis-server');
  const replicas = redisServers.filter(([, s]) => command(s).includes('--replicaof'));
  const masters = redisServers.filter(([, s]) => !command(s).includes('--replicaof'));
  t.equal(masters.length, 1, 'one master');
  t.equal(replicas.length, 1, 'one replica');
  for (const [name, s] of redisServers) {
    const c = command(s);
    t.equal(c[c.indexOf('--appendonly') + 1], 'yes', `${name} persists with the append-only file`);
    t.equal(c[c.indexOf('--replica-announce-ip') + 1], name, `${name} announces its service name`);
  }
  const replicaCmd = command(replicas[0]![1]);
  t.same(replicaCmd.slice(replicaCmd.indexOf('--replicaof') + 1, replicaCmd.indexOf('--replicaof') + 3), [masters[0]![0], '6379'], 'the replica follows the master');

  const sentinels = Object.entries(svcs).filter(([, s]) => command(s).join(' ').includes('--sentinel'));
  t.equal(sentinels.length, 3, 'three sentinels');
  const conf = readFileSync(join(clone.root, 'deploy/redis/sentinel.conf'), 'utf8');
  for (const [name, s] of sentinels) {
    t.ok(asList(s.volumes).includes('./redis/sentinel.conf:/etc/redis/sentinel.conf:ro'), `${name} reads deploy/redis/sentinel.conf`);
  }
  const monitor = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(conf);
  t.ok(monitor, 'sentinel.conf monitors a master');
  const [, masterName, masterHost, masterPort, quorum] = monitor ?? [];
  t.equal(masterName, config.session.redis.sentinel?.master_name, 'the gateways ask for the monitored master');
  t.equal(masterHost, masters[0]![0], 'the master service');
  t.equal(masterPort, '6379');
  t.ok(Number(quorum) > sentinels.length / 2 && Number(quorum) <= sentinels.length, `quorum ${quorum} is a majority of ${sentinels.length}`);
  t.match(conf, /^sentinel resolve-hostnames yes$/m, 'service names resolve');
  t.match(conf, /^port 26379$/m);
  t.same([...(config.session.redis.sentinel?.nodes ?? [])].sort(), sentinels.map(([n]) => `${n}:26379`).sort(), 'the gateways know every sentinel');

  // The load balancer sends to both gateways and takes one out when its /readyz fails.
  const caddyfile = join(clone.root, 'deploy/caddy/Caddyfile');
  const lb = Object.entries(svcs).find(([, s]) => asList(s.volumes).some((v) => String(v).startsWith('./caddy/Caddyfile:')));
  t.ok(lb, 'a load balancer mounts deploy/caddy/Caddyfile');
  const text = readFileSync(caddyfile, 'utf8');
  const port = parseListen(config.server.listen)?.port;
  const upstreams = /reverse_proxy\s+([^{\n]+)\{/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  t.same(upstreams.sort(), gateways.map(([n]) => `${n}:${port}`).sort(), 'Caddy balances over both gateways');
  t.match(text, new RegExp(`health_port ${parseListen(config.admin.listen)?.port}\\b`), 'health checks on the admin port');
  t.match(text, /health_uri \/readyz/, 'of /readyz');
  t.ok(config.server.trusted_proxies.length > 0, 'the gateways believe the load balancer’s X-Forwarded-For');
  for (const [name, s] of gateways) t.same(asList(s.ports).filter((p) => /:8080$/.test(String(p))), [], `${name}: the gateway port is reached through the load balancer only`);
});

void t.test('deploy/caddy/Caddyfile is a valid Caddy config', { skip: CADDY ? false : 'caddy is not on PATH' }, (t) => {
  const r = spawnSync('caddy', ['adapt', '--config', join(DEPLOY, 'caddy/Caddyfile'), '--adapter', 'caddyfile'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as Obj;
  t.match(JSON.stringify(json), /"dial":"gateway-1:8080"/);
  t.end();
});

void t.test('deploy/users.yaml: valid, and the walk-through’s passwords open it with a code by email', async (t) => {
  const parsed = parseUsersFile(readFileSync(join(DEPLOY, 'users.yaml'), 'utf8'));
  t.ok(parsed.ok, 'the users file is valid');
  if (!parsed.ok) return;
  for (const file of ['gateway.yaml', 'gateway.sentinel.yaml']) {
    await t.test(file, (t) => {
      const assignments = asList(asObj(readYaml(join(DEPLOY, file)).second_factor, 'second_factor').assignments).map((a) => asObj(a, 'assignment'));
      for (const [name, user] of parsed.users) {
        t.ok(user.email, `${name} has an address for the codes (Mailpit catches them)`);
        const method = assignments.find((a) => typeof a.group === 'string' && user.groups.includes(a.group))?.method;
        t.equal(method, 'email', `${name}'s second factor is a code by email`);
      }
      t.end();
    });
  }
  for (const [name, user] of parsed.users) {
    const password = DEMO_PASSWORDS[name];
    t.ok(password, `${name} is a demo user whose password the comments give`);
    t.ok(password && (await verifyPassword(user.password ?? '', password)), `${name}'s password is the documented one`);
    t.match(readFileSync(join(DEPLOY, 'users.yaml'), 'utf8'), new RegExp(`#\\s+${name}\\s+${password}\\b`), 'and the file says so');
  }
});

/** What every stack shares: the upstream, the mail catcher, grace periods, published ports, images. */
function checkWiring(t: Test, svcs: Record<string, Obj>, config: Readonly<Config>): void {
  const upstream = new URL(config.upstreams[0]!.url);
  const app = svcs[upstream.hostname];
  t.ok(app, `the upstream ${upstream.hostname} is a service of the stack`);
  const appArgs = parseArgs(command(app ?? {}), {});
  t.match(appArgs, { ok: true, command: 'demo-app' }, 'it runs `portcullis demo-app`');
  const appCmd = command(app ?? {});
  t.equal(parseListen(appCmd[appCmd.indexOf('--listen') + 1] ?? '')?.port, Number(upstream.port), 'on the port the gateway sends to');
  t.equal(parseListen(appCmd[appCmd.indexOf('--listen') + 1] ?? '')?.host, '0.0.0.0', 'reachable from the gateway container');
  t.notOk(app?.ports, 'the demo app is not published (it trusts identity headers)');

  const smtp = config.delivery.email.smtp;
  t.equal(config.delivery.email.transport, 'smtp');
  const mail = svcs[smtp?.host ?? ''];
  t.match(String(mail?.image), /^axllent\/mailpit:/, 'codes go to Mailpit');
  t.equal(smtp?.port, 1025, 'on its SMTP port');
  t.ok(asList(mail?.ports).includes('127.0.0.1:8025:8025'), 'its web UI on http://localhost:8025');
  t.ok(config.second_factor.methods.includes('email'));

  for (const [name, svc] of Object.entries(svcs)) {
    for (const p of asList(svc.ports)) t.match(String(p), /^127\.0\.0\.1:/, `${name}: ${String(p)} is published on loopback only`);
    if (svc.image === 'portcullis:local') t.ok(svc.build, `${name}: the local image is built, never pulled`);
    if (isGateway(svc)) {
      t.ok(seconds(String(svc.stop_grace_period)) > config.server.shutdown_timeout / 1000, `${name}: stop_grace_period > shutdown_timeout (SIGTERM drains)`);
      t.equal(svc.read_only, true, `${name}: read-only root filesystem`);
      t.same(svc.cap_drop, ['ALL'], `${name}: no capabilities`);
      t.equal(svc.healthcheck, undefined, `${name}: the image's HEALTHCHECK (admin /healthz) applies`);
      t.equal(parseListen(config.admin.listen)?.port, 9090, `${name}: the admin port is the one the image's HEALTHCHECK asks`);
    }
  }
  t.equal(config.session.store, 'redis', 'sessions in Redis');
}
