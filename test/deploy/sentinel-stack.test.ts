/**
 * The Sentinel stack of deploy/docker-compose.sentinel.yml, run with real processes on loopback instead
 * of containers: the Redis master and replica with the compose file's own command lines, three sentinels
 * from deploy/redis/sentinel.conf, two gateways from deploy/gateway.sentinel.yaml. Only the addresses
 * change (service names → 127.0.0.1, fixed ports → free ones); everything else is the files' own.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort, rawCommand, redisAvailable } from '../fixtures/redis.js';
import { asList, asObj, DEPLOY, loadMountedConfig, problems, readYaml, tempDir } from './helpers.js';

const HOST = '127.0.0.1';
const SKIP = redisAvailable() ? false : 'redis-server is not on PATH';

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

void t.test('the compose Sentinel set-up reaches quorum and serves two gateways that share one store', { skip: SKIP }, async (t) => {
  const { dir, remove } = tempDir('sentinel-stack');
  t.teardown(remove);
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
  });
  const redis = async (args: string[], port: number): Promise<void> => {
    const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(`redis-server on ${port}: ${output}`, async () => (await rawCommand(port, 'PING', 500)).startsWith('+PONG'));
  };

  const services = asObj(readYaml(join(DEPLOY, 'docker-compose.sentinel.yml')).services, 'services');
  const commandOf = (name: string) => asList(asObj(services[name], name).command).map(String);
  const ports = { 'redis-master': await freePort(), 'redis-replica': await freePort() } as Record<string, number>;
  const local = (args: string[], self: string) =>
    args.slice(1).map((a, i, all) => {
      if (a in ports) return HOST; // a service name
      if (a === '6379' && all[i - 1] === 'redis-master') return String(ports['redis-master']);
      return a;
    }).concat(['--port', String(ports[self]), '--bind', HOST, '--dir', dir, '--dbfilename', `${self}.rdb`, '--appenddirname', `${self}-aof`]);
  await redis(local(commandOf('redis-master'), 'redis-master'), ports['redis-master'] as number);
  await redis(local(commandOf('redis-replica'), 'redis-replica'), ports['redis-replica'] as number);
  await waitFor('the replica to sync', async () => /master_link_status:up/.test(await rawCommand(ports['redis-replica'] as number, 'INFO replication')));
  t.match(await rawCommand(ports['redis-master'] as number, 'CONFIG GET appendonly'), /yes/, 'the master keeps an append-only file');

  const sentinelNames = Object.keys(services).filter((n) => commandOf(n).join(' ').includes('--sentinel'));
  t.equal(sentinelNames.length, 3, 'three sentinels');
  const conf = readFileSync(join(DEPLOY, 'redis/sentinel.conf'), 'utf8');
  const sentinelPorts: number[] = [];
  for (const name of sentinelNames) {
    const port = await freePort();
    sentinelPorts.push(port);
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `${conf.replace(/^port 26379$/m, `port ${port}`).replace(/ redis-master 6379 /, ` ${HOST} ${ports['redis-master']} `)}\nbind ${HOST}\n`);
    await redis([file, '--sentinel'], port);
  }
  const masterName = /^sentinel monitor (\S+) /m.exec(conf)?.[1] as string;
  for (const port of sentinelPorts) {
    await waitFor(`sentinel ${port} to know the replica and the other sentinels`, async () => {
      const reply = await rawCommand(port, `SENTINEL CKQUORUM ${masterName}`);
      const master = await rawCommand(port, `SENTINEL MASTER ${masterName}`);
      return reply.startsWith('+OK 3 usable Sentinels') && /num-slaves\r\n\$1\r\n1\r\n/.test(master);
    });
  }
  t.match(await rawCommand(sentinelPorts[0] as number, `SENTINEL CKQUORUM ${masterName}`), /^\+OK 3 usable Sentinels\. Quorum and failover authorization can be reached/, 'quorum and failover authorization can be reached');
  t.match(await rawCommand(sentinelPorts[0] as number, `SENTINEL GET-MASTER-ADDR-BY-NAME ${masterName}`), new RegExp(`${ports['redis-master']}`), 'the sentinels agree on the master');

  // Two gateways with deploy/gateway.sentinel.yaml, their sentinels and mounts pointed at this machine.
  const secret = join(dir, 'session_secret');
  writeFileSync(secret, 'a-session-secret-for-this-test-only-0123456789');
  let text = readFileSync(join(DEPLOY, 'gateway.sentinel.yaml'), 'utf8');
  sentinelNames.forEach((name, i) => (text = text.replace(`${name}:26379`, `${HOST}:${sentinelPorts[i]}`)));
  text = text.replace(/listen: 0\.0\.0\.0:\d+/g, `listen: ${HOST}:0`).replace(/host: mailpit/, `host: ${HOST}`);
  const mounts = new Map([
    ['/etc/portcullis/users.yaml', join(DEPLOY, 'users.yaml')],
    ['/run/secrets/session_secret', secret],
  ]);
  const loaded = await loadMountedConfig(text, join(dir, 'gateway.yaml'), mounts);
  t.same(problems(loaded), [], 'the config loads');
  if (!loaded.ok) return;
  const gateways: RunningGateway[] = [];
  t.teardown(async () => {
    for (const g of gateways) await g.close();
  });
  for (let i = 0; i < 2; i++) gateways.push(await startGateway({ config: loaded.config, logger: createLogger({ level: 'silent' }) }));
  for (const g of gateways) {
    await waitFor('the gateway to be ready', async () => (await request(`${g.adminUrl}/readyz`)).statusCode === 200);
    const ready = await request(`${g.adminUrl}/readyz`);
    t.same(await ready.body.json(), { status: 'ready', store: 'ok', config: 'loaded' }, `${g.url}: ready through the sentinels`);
  }
  const [one, two] = gateways as [RunningGateway, RunningGateway];
  await one.gateway.core.store.set('deploy-test:shared', 'written by gateway one', 60_000);
  t.equal(await two.gateway.core.store.get('deploy-test:shared'), 'written by gateway one', 'what one gateway stores, the other reads');
  const anonymous = await request(`${two.url}/`, { headers: { accept: 'text/html' } });
  t.equal(anonymous.statusCode, 302, 'and it guards the upstream');
  await anonymous.body.dump();
});
