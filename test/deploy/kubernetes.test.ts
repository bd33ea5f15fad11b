/**
 * deploy/kubernetes: the base, every overlay and every component are rendered with `kubectl kustomize`
 * (offline), every object is validated against the Kubernetes (and Prometheus Operator) schemas of
 * kubernetes-models, and the rendered gateway.yaml is loaded with the project's config loader, with the
 * ConfigMap and Secret written where the Deployment mounts them.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseListen } from '../../src/config/schema/common.js';
import type { Config } from '../../src/config/schema/index.js';
import { parseUsersFile } from '../../src/users/file-parse.js';
import { asList, asObj, checkConfigCli, DEPLOY, freshClone, initSecrets, loadMountedConfig, parseManifests, problems, readYaml, tempDir, writeTree, type Obj } from './helpers.js';

/** A YAML/JSON scalar as text (objects as JSON, so a wrong shape shows in the message). */
function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? '');
}


const KUBECTL = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const SKIP = KUBECTL.status === 0 ? false : 'kubectl is not on PATH: the kustomize renders of deploy/kubernetes are not checked on this machine';
const K8S = join(DEPLOY, 'kubernetes');
const PLACEHOLDER = 'REPLACE-ME';

type Model = { validate(): void };
const MODELS: Record<string, new (data: never) => Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

function render(dir: string): { ok: true; objects: Obj[] } | { ok: false; message: string } {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) return { ok: false, message: r.stderr || r.stdout };
  return { ok: true, objects: parseManifests(r.stdout) };
}

function mustRender(dir: string): Obj[] {
  const r = render(dir);
  if (!r.ok) throw new Error(`kubectl kustomize ${dir} failed: ${r.message}`);
  return r.objects;
}

/** Every object against its schema; an object of a kind without a model is itself an error. */
function schemaErrors(objects: Obj[]): string[] {
  const errors: string[] = [];
  for (const o of objects) {
    const key = `${String(o.apiVersion)}/${String(o.kind)}`;
    const Model = MODELS[key];
    const name = `${key} ${String(asObj(o.metadata, 'metadata').name)}`;
    if (!Model) {
      errors.push(`${name}: no schema known to this test`);
      continue;
    }
    // kustomize breaks long base64 values into lines; the API server's decoder (Go's encoding/base64)
    // ignores line breaks, the schema's "byte" format does not: compare what the server reads.
    const data = o.kind === 'Secret' && o.data ? Object.fromEntries(Object.entries(asObj(o.data, 'data')).map(([k, v]) => [k, String(v).replace(/\s+/g, '')])) : undefined;
    try {
      new Model((data ? { ...o, data } : o) as never).validate();
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  return errors;
}

const kindOf = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
function one(objects: Obj[], kind: string, name?: string): Obj {
  const found = kindOf(objects, kind).filter((o) => name === undefined || asObj(o.metadata, 'metadata').name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as Obj;
}
const path = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);
const nameOf = (o: Obj) => String(path(o, 'metadata', 'name'));

function gatewayContainer(objects: Obj[]): { deployment: Obj; pod: Obj; container: Obj } {
  const deployment = one(objects, 'Deployment', 'portcullis');
  const pod = asObj(path(deployment, 'spec', 'template', 'spec'), 'pod spec');
  const container = asObj(asList(pod.containers).find((c) => asObj(c, 'container').name === 'portcullis'), 'container portcullis');
  return { deployment, pod, container };
}

function containerPort(container: Obj, name: string): number {
  const port = asList(container.ports).map((p) => asObj(p, 'port')).find((p) => p.name === name);
  if (!port) throw new Error(`no container port named ${name}`);
  return Number(port.containerPort);
}

/**
 * Writes the ConfigMaps and Secrets the gateway container mounts into `dir` at their mount paths and
 * loads the config its `--config` names, as the pod would.
 */
async function loadRenderedConfig(objects: Obj[], dir: string) {
  const { pod, container } = gatewayContainer(objects);
  const volumes = new Map(asList(pod.volumes).map((v) => [String(asObj(v, 'volume').name), asObj(v, 'volume')]));
  const mounts = new Map<string, string>();
  for (const m of asList(container.volumeMounts).map((x) => asObj(x, 'volumeMount'))) {
    const mountPath = String(m.mountPath);
    const volume = volumes.get(String(m.name));
    if (!volume) throw new Error(`volumeMount ${String(m.name)} has no volume`);
    if (m.subPath !== undefined) throw new Error('subPath mounts are not updated by Kubernetes when the source changes: mount the whole volume');
    const host = join(dir, mountPath);
    mkdirSync(host, { recursive: true });
    mounts.set(mountPath, host);
    const cm = path(volume, 'configMap', 'name');
    const secret = path(volume, 'secret', 'secretName');
    if (cm !== undefined) {
      const data = asObj(path(one(objects, 'ConfigMap', str(cm)), 'data'), 'ConfigMap data');
      writeTree(host, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)])));
    } else if (secret !== undefined) {
      const data = asObj(path(one(objects, 'Secret', str(secret)), 'data'), 'Secret data');
      writeTree(host, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])));
    } else if (volume.emptyDir === undefined) {
      throw new Error(`volume ${String(m.name)}: only configMap, secret and emptyDir volumes are expected`);
    }
  }
  const args = asList(container.args).map(String);
  const at = args.indexOf('--config');
  const configPath = at >= 0 ? String(args[at + 1]) : '/etc/portcullis/gateway.yaml';
  const mountPath = [...mounts.keys()].filter((m) => configPath.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0];
  if (!mountPath) throw new Error(`--config ${configPath} is not on a mounted volume`);
  const hostFile = join(mounts.get(mountPath) as string, relative(mountPath, configPath));
  const text = readFileSync(hostFile, 'utf8');
  const result = await loadMountedConfig(text, hostFile, mounts);
  return { result, hostFile, mounts, text };
}

/** A clone of deploy/ with the production overlay's secret files made as its kustomization says. */
function productionClone(): { k8s: string; secrets: Record<string, string>; remove: () => void } {
  const clone = freshClone();
  const dir = join(clone.root, 'deploy/kubernetes/overlays/production/secrets');
  const made = initSecrets(clone.root, [dir, 'session_secret', 'redis_password']);
  if (made.status !== 0) throw new Error(`init-secrets.sh failed: ${made.stderr}`);
  writeFileSync(join(dir, 'smtp_password'), 'smtp password from the operator');
  const secrets = Object.fromEntries(['session_secret', 'redis_password', 'smtp_password'].map((k) => [k, readFileSync(join(dir, k), 'utf8')]));
  return { k8s: join(clone.root, 'deploy/kubernetes'), secrets, remove: clone.remove };
}

function checkGateway(t: Test, objects: Obj[], config: Readonly<Config>): void {
  const { deployment, pod, container } = gatewayContainer(objects);
  const hpa = kindOf(objects, 'HorizontalPodAutoscaler');
  const replicas = Number(path(deployment, 'spec', 'replicas'));
  if (hpa.length > 0) t.ok(Number(path(hpa[0], 'spec', 'minReplicas')) >= 2, 'the autoscaler keeps at least 2 replicas');
  else t.ok(replicas >= 2, `at least 2 replicas (${replicas})`);

  // Ports and probes: the admin port is where the config's admin listener is.
  const adminPort = parseListen(config.admin.listen)?.port;
  const httpPort = parseListen(config.server.listen)?.port;
  t.equal(containerPort(container, 'admin'), adminPort, 'container port admin = admin.listen');
  t.equal(containerPort(container, 'http'), httpPort, 'container port http = server.listen');
  t.not(parseListen(config.admin.listen)?.host, '127.0.0.1', 'the admin listener is reachable from the kubelet');
  t.same(path(container, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 'admin' }, 'readiness: /readyz on the admin port');
  t.same(path(container, 'livenessProbe', 'httpGet'), { path: '/healthz', port: 'admin' }, 'liveness: /healthz on the admin port');

  // Security context.
  const podSc = asObj(pod.securityContext, 'pod securityContext');
  const sc = asObj(container.securityContext, 'container securityContext');
  t.equal(podSc.runAsNonRoot, true, 'runAsNonRoot');
  t.ok(Number(podSc.runAsUser) > 0, 'a numeric non-root user');
  t.equal(sc.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem');
  t.equal(sc.allowPrivilegeEscalation, false, 'no privilege escalation');
  t.not(sc.privileged, true, 'not privileged');
  t.same(path(sc, 'capabilities', 'drop'), ['ALL'], 'every capability dropped');
  t.notOk(path(sc, 'capabilities', 'add'), 'none added');
  t.equal(pod.automountServiceAccountToken, false, 'no service account token');
  t.notOk(pod.hostNetwork, 'not on the host network');

  // Requests and limits.
  for (const kind of ['requests', 'limits']) {
    for (const r of ['cpu', 'memory']) t.ok(path(container, 'resources', kind, r), `resources.${kind}.${r}`);
  }

  // Draining: preStop pause, then SIGTERM drains for shutdown_timeout, all inside the grace period.
  const preStop = asList(path(container, 'lifecycle', 'preStop', 'exec', 'command')).map(String);
  t.equal(preStop[0], 'sleep', 'preStop pauses');
  const pause = Number(preStop[1]);
  t.ok(pause >= 5, `the pause (${pause}s) covers endpoint removal`);
  const grace = Number(pod.terminationGracePeriodSeconds);
  const drain = config.server.shutdown_timeout / 1000;
  t.ok(grace >= pause + drain + 1, `terminationGracePeriodSeconds ${grace} >= preStop ${pause} + shutdown_timeout ${drain} + 1`);
  t.equal(path(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'), 0, 'a rolling update never goes below the replica count');

  // PDB: covers the pods, leaves room for an eviction.
  const pdb = one(objects, 'PodDisruptionBudget');
  const labels = asObj(path(deployment, 'spec', 'template', 'metadata', 'labels'), 'pod labels');
  const selects = (selector: unknown) => Object.entries(asObj(selector, 'selector')).every(([k, v]) => labels[k] === v);
  t.ok(selects(path(pdb, 'spec', 'selector', 'matchLabels')), 'the PDB selects the gateway pods');
  const minAvailable = Number(path(pdb, 'spec', 'minAvailable'));
  t.ok(minAvailable >= 1 && minAvailable < (hpa.length > 0 ? Number(path(hpa[0], 'spec', 'minReplicas')) : replicas), `minAvailable ${minAvailable} protects without blocking drains`);

  // Services: the public one carries only the gateway port; the admin port has its own.
  const publicSvc = one(objects, 'Service', 'portcullis');
  t.ok(selects(path(publicSvc, 'spec', 'selector')), 'the Service selects the gateway pods');
  t.same(asList(path(publicSvc, 'spec', 'ports')).map((p) => asObj(p, 'port').targetPort), ['http'], 'the public Service exposes only http');
  const metricsSvc = one(objects, 'Service', 'portcullis-metrics');
  t.ok(selects(path(metricsSvc, 'spec', 'selector')), 'the metrics Service selects the gateway pods');
  t.same(asList(path(metricsSvc, 'spec', 'ports')).map((p) => asObj(p, 'port').targetPort), ['admin'], 'the metrics Service exposes only admin');

  // NetworkPolicy: the admin port is open to the monitoring namespace only.
  const np = one(objects, 'NetworkPolicy');
  t.ok(selects(path(np, 'spec', 'podSelector', 'matchLabels')), 'the NetworkPolicy selects the gateway pods');
  t.ok(asList(path(np, 'spec', 'policyTypes')).includes('Ingress'), 'it restricts ingress');
  const rules = asList(path(np, 'spec', 'ingress')).map((r) => asObj(r, 'rule'));
  t.ok(rules.length > 0, 'some traffic is let in');
  const opensAdmin = (r: Obj) => asList(r.ports).some((p) => [adminPort, 'admin'].includes(asObj(p, 'port').port as number | string));
  t.same(rules.filter((r) => r.ports === undefined), [], 'no rule opens every port');
  const adminRules = rules.filter(opensAdmin);
  t.equal(adminRules.length, 1, 'one rule opens the admin port');
  t.same(adminRules[0]?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], '...from the monitoring namespace only');

  // The image is run as built: no command override that skips the entrypoint's node process.
  t.notOk(container.command, 'the image entrypoint runs');
  t.equal(asList(container.args)[0], 'serve', 'the gateway command');
}

void t.test('the base renders offline from deploy/kubernetes and every object is valid', { skip: SKIP }, (t) => {
  const objects = mustRender(K8S);
  t.same(schemaErrors(objects), [], 'kubernetes-models accepts every object');
  t.same(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Service', 'Service'], 'the base holds exactly these objects');
  t.same(objects.filter((o) => !/^(v1|apps\/v1|policy\/v1|networking\.k8s\.io\/v1)$/.test(String(o.apiVersion))), [], 'no custom resources in the base');
  t.same(mustRender(join(K8S, 'base')), objects, 'deploy/kubernetes renders the base folder');
  t.end();
});

void t.test('the base: probes, security context, replicas, PDB, services, network policy, drain budget', { skip: SKIP }, async (t) => {
  const objects = mustRender(K8S);
  const { dir, remove } = tempDir('k8s-base');
  t.teardown(remove);
  const { result } = await loadRenderedConfig(objects, dir);
  // The base's secrets are placeholders: the gateway refuses them (session.secret is too short) and
  // nothing else is wrong with the mounted config.
  t.notOk(result.ok, 'the placeholder secrets do not start a gateway');
  t.same(problems(result).map((p) => p.replace(/^.*?:\d+:\d+ /, '')), ['session.secret: must be at least 32 bytes long (generate one with `openssl rand -base64 48`)']);
  const secret = asObj(path(one(objects, 'Secret'), 'data'), 'Secret data');
  t.same(Object.values(secret).map((v) => Buffer.from(String(v), 'base64').toString('utf8')), Object.keys(secret).map(() => PLACEHOLDER), 'the base holds placeholders only');
  // With a real session secret in its place, the same mounted config is valid, and its numbers are
  // the ones the Deployment is checked against.
  const again = await loadRenderedConfig(objects.map((o) => (o.kind === 'Secret' ? { ...o, data: { ...secret, session_secret: Buffer.from('x'.repeat(48)).toString('base64') } } : o)), dir);
  t.same(problems(again.result), [], 'the base config is valid with a real secret');
  t.same(again.result.warnings, [], 'and check-config has nothing to warn about');
  if (!again.result.ok) return;
  checkGateway(t, objects, again.result.config);
  const users = parseUsersFile(readFileSync(join(dir, '/etc/portcullis/users.yaml'), 'utf8'));
  t.ok(users.ok, 'the users file in the ConfigMap is valid');
});

void t.test('every overlay renders, validates, and mounts a config the loader accepts', { skip: SKIP }, async (t) => {
  const overlays = readdirSync(join(K8S, 'overlays'));
  t.ok(overlays.includes('production'), 'an example production overlay exists');
  for (const name of overlays) {
    await t.test(name, async (t) => {
      const clone = productionClone();
      t.teardown(clone.remove);
      const objects = mustRender(join(clone.k8s, 'overlays', name));
      t.same(schemaErrors(objects), [], 'kubernetes-models accepts every object');
      const { dir, remove } = tempDir(`k8s-${name}`);
      t.teardown(remove);
      const { result, text, hostFile, mounts } = await loadRenderedConfig(objects, dir);
      t.same(problems(result), [], 'the rendered gateway.yaml is valid with the mounted files');
      t.same(result.warnings, [], 'and check-config has nothing to warn about');
      const cli = checkConfigCli(text, hostFile, mounts);
      t.equal(cli.status, 0, `portcullis check-config accepts it: ${cli.stderr}`);
      t.match(cli.stdout, /^config OK: \S+\n$/, 'with no warnings');
      if (!result.ok) return;
      checkGateway(t, objects, result.config);
      const data = asObj(path(one(objects, 'Secret'), 'data'), 'Secret data');
      const decoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
      t.same(decoded, clone.secrets, 'the Secret holds the files from secrets/, not the placeholders');
      const users = parseUsersFile(readFileSync(join(dir, '/etc/portcullis/users.yaml'), 'utf8'));
      t.ok(users.ok, 'the users file is valid');
      for (const o of objects) t.ok(path(o, 'metadata', 'namespace'), `${String(o.kind)} ${nameOf(o)} has a namespace`);
      // An Ingress to the gateway serves the host of public_url, on the gateway port.
      const publicHosts = [result.config.server.public_url ?? []].flat().map((u) => new URL(u).hostname);
      for (const ingress of kindOf(objects, 'Ingress')) {
        for (const rule of asList(path(ingress, 'spec', 'rules')).map((r) => asObj(r, 'rule'))) {
          t.ok(publicHosts.includes(String(rule.host)), `Ingress ${nameOf(ingress)}: ${String(rule.host)} is a host of server.public_url`);
          for (const p of asList(path(rule, 'http', 'paths'))) {
            const backend = asObj(path(p, 'backend', 'service'), 'backend');
            if (backend.name === 'portcullis') t.equal(path(backend, 'port', 'name'), 'http', 'to the gateway port');
          }
        }
      }
    });
  }
});

void t.test('the production overlay does not render without its secret files (no placeholder reaches production)', { skip: SKIP }, (t) => {
  const clone = freshClone();
  t.teardown(clone.remove);
  const r = render(join(clone.root, 'deploy/kubernetes/overlays/production'));
  t.notOk(r.ok, 'kubectl kustomize fails');
  if (!r.ok) t.match(r.message, /secrets\/session_secret/);
  t.end();
});

void t.test('each optional component renders on the base and validates; none is part of the base', { skip: SKIP }, async (t) => {
  const components = readdirSync(join(K8S, 'components'));
  t.same(components.sort(), ['ingress-nginx-forward-auth', 'prometheus-servicemonitor']);
  for (const name of components) {
    await t.test(name, (t) => {
      // An overlay that adds only this component (kustomize takes relative paths only).
      const clone = freshClone();
      t.teardown(clone.remove);
      const dir = join(clone.root, 'deploy/kubernetes/overlays/component-check');
      writeTree(dir, {
        'kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: portcullis\nresources:\n  - ../../base\ncomponents:\n  - ../../components/${name}\n`,
      });
      const objects = mustRender(dir);
      t.same(schemaErrors(objects), [], 'kubernetes-models accepts every object');
      const base = mustRender(K8S).map((o) => `${String(o.kind)}/${nameOf(o)}`);
      const added = objects.filter((o) => !base.includes(`${String(o.kind)}/${nameOf(o)}`));
      t.ok(added.length > 0, 'the component adds objects');
      const { container } = gatewayContainer(objects);
      const services = kindOf(objects, 'Service');
      for (const o of added) {
        if (o.kind === 'ServiceMonitor') {
          const selector = asObj(path(o, 'spec', 'selector', 'matchLabels'), 'selector');
          const matched = services.filter((s) => Object.entries(selector).every(([k, v]) => path(s, 'metadata', 'labels', k) === v));
          t.same(matched.map(nameOf), ['portcullis-metrics'], 'the ServiceMonitor selects the metrics Service');
          const ports = asList(path(matched[0], 'spec', 'ports')).map((p) => asObj(p, 'port').name);
          for (const e of asList(path(o, 'spec', 'endpoints'))) {
            t.ok(ports.includes(asObj(e, 'endpoint').port), 'it scrapes a port of that Service');
            t.equal(asObj(e, 'endpoint').path, '/metrics');
          }
        } else if (o.kind === 'Ingress') {
          const annotations = asObj(path(o, 'metadata', 'annotations') ?? {}, 'annotations');
          const authUrl = annotations['nginx.ingress.kubernetes.io/auth-url'];
          const backends = asList(path(o, 'spec', 'rules')).flatMap((r) => asList(path(r, 'http', 'paths'))).map((p) => asObj(path(p, 'backend', 'service'), 'backend'));
          if (authUrl !== undefined) {
            const url = new URL(str(authUrl));
            t.equal(url.pathname, '/_gateway/authz', 'nginx auth_request asks /_gateway/authz (never a 302)');
            t.equal(Number(url.port), containerPort(container, 'http'), 'on the gateway port');
            t.match(url.hostname, /^portcullis\.[a-z0-9-]+\.svc\.cluster\.local$/, 'through the gateway Service, by its cluster name');
            t.match(String(annotations['nginx.ingress.kubernetes.io/auth-signin']), /\/_gateway\/login$/, 'unauthenticated browsers go to the sign-in page');
            const forwarded = String(annotations['nginx.ingress.kubernetes.io/auth-response-headers']).split(',');
            for (const h of ['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name']) t.ok(forwarded.includes(h), `${h} reaches the application`);
          } else {
            for (const b of backends) t.same([b.name, path(b, 'port', 'name')], ['portcullis', 'http'], 'the portal goes to the gateway Service');
            const paths = asList(path(o, 'spec', 'rules')).flatMap((r) => asList(path(r, 'http', 'paths'))).map((p) => asObj(p, 'path').path);
            t.same(paths, ['/_gateway/'], 'only the portal prefix');
          }
        } else {
          t.fail(`unexpected ${String(o.kind)} from component ${name}`);
        }
      }
      t.end();
    });
  }
});

void t.test('Redis comes from the Bitnami chart: the documented values match the gateway config, no Redis manifests here', { skip: SKIP }, (t) => {
  const values = readYaml(join(K8S, 'redis/values.yaml'));
  const clone = productionClone();
  t.teardown(clone.remove);
  const everything = [mustRender(K8S), mustRender(join(clone.k8s, 'overlays/production'))].flat();
  t.same(everything.filter((o) => o.kind === 'StatefulSet' || /redis/i.test(nameOf(o))), [], 'no Redis objects in the base or overlays');
  const images = everything.flatMap((o) => asList(path(o, 'spec', 'template', 'spec', 'containers')).map((c) => String(asObj(c, 'container').image)));
  t.same(images.filter((i) => /redis/.test(i)), [], 'no Redis image');

  t.equal(typeof values.fullnameOverride, 'string', 'fixed object names, whatever the release is called');
  t.equal(values.architecture, 'replication');
  t.equal(path(values, 'sentinel', 'enabled'), true, 'Sentinel');
  t.equal(path(values, 'replica', 'replicaCount'), 3, 'three nodes (each a Redis and a Sentinel)');
  t.equal(path(values, 'sentinel', 'quorum'), 2, 'quorum 2 of 3');
  t.equal(path(values, 'auth', 'enabled'), true, 'a password');
  t.equal(path(values, 'auth', 'sentinel'), true, 'on the sentinels too');
  t.match(String(path(values, 'commonConfiguration')), /appendonly yes/, 'AOF persistence');

  for (const file of [join(K8S, 'base/gateway.yaml'), join(K8S, 'overlays/production/gateway.yaml')]) {
    const config = readYaml(file);
    const sentinel = asObj(path(config, 'session', 'redis', 'sentinel'), `${file} session.redis.sentinel`);
    t.equal(sentinel.master_name, path(values, 'sentinel', 'masterSet'), `${relative(DEPLOY, file)}: master_name = sentinel.masterSet`);
    const nodes = asList(sentinel.nodes).map(String);
    t.equal(nodes.length, path(values, 'replica', 'replicaCount'), 'every sentinel is listed');
    const release = String(values.fullnameOverride);
    t.same(nodes, nodes.map((_, i) => `${release}-node-${i}.${release}-headless:${str(path(values, 'sentinel', 'containerPorts', 'sentinel') ?? 26379)}`), 'the chart names its pods <release>-node-N on <release>-headless');
    t.ok(sentinel.sentinel_password_file, 'the sentinel password is given');
    t.ok(path(config, 'session', 'redis', 'password_file'), 'the Redis password is given');
  }
  // With allowExternal false, the chart's NetworkPolicy admits only pods labelled <release>-client.
  t.equal(path(values, 'networkPolicy', 'allowExternal'), false, 'Redis admits its clients only');
  const labels = asObj(path(one(mustRender(K8S), 'Deployment'), 'spec', 'template', 'metadata', 'labels'), 'labels');
  t.equal(labels['portcullis-redis-client'], 'true', 'the gateway pods carry the client label');
  t.end();
});
