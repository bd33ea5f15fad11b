import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parseListen } from '../config/schema/common.js';
import { configSchema, type Config } from '../config/schema/index.js';
import { createLogger } from '../observability/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { DEMO_PASSWORDS, DEMO_USER_METHODS } from '../users/demo-users.js';
import { installSignals, startGateway } from '../main.js';
import { startDemoApp } from './app.js';

/** The repository's demo users file, next to the package root (dist/src/demo → config/). */
const USERS_FILE = fileURLToPath(new URL('../../../config/users.yaml', import.meta.url));

export const DEMO_DEFAULT_LISTEN = '127.0.0.1:8080';
export const DEMO_DEFAULT_ADMIN = '127.0.0.1:9090';

type Out = { write(chunk: string): unknown };

export interface DemoOptions {
  /** `--listen`; else `$PORTCULLIS_DEMO_LISTEN`; else 127.0.0.1:8080. */
  listen?: string | true | undefined;
  /** `--admin`; else `$PORTCULLIS_DEMO_ADMIN`; else 127.0.0.1:9090. */
  admin?: string | true | undefined;
}

/** The demo's whole configuration: the camera app behind the gateway, every method shown by a demo user. */
export function demoConfig(listen: string, admin: string, upstreamUrl: string): Readonly<Config> {
  return Object.freeze(
    configSchema.parse({
      // Passkeys need a host name (an IP address is no WebAuthn RP ID): on 127.0.0.1 the demo also serves
      // http://localhost:PORT, a secure context for browsers.
      server: { listen, public_url: localhostAlias(listen) ? [`http://${listen}`, localhostAlias(listen)!] : `http://${listen}` },
      admin: { listen: admin },
      session: { store: 'memory', secret: randomBytes(32).toString('base64url') },
      users: { file: USERS_FILE },
      // alice: email (her group's assignment); carol: SMS and dave: authenticator app (their own
      // `second_factor.method` in config/users.yaml); bob: a code by email, and he may add the others.
      second_factor: { policy: 'required', methods: ['email', 'sms', 'totp', 'webauthn', 'recovery_code'], assignments: [{ group: 'operators', method: 'email' }] },
      delivery: { email: { transport: 'console' }, sms: { provider: 'console' } },
      upstreams: [{ name: 'demo-vms', url: upstreamUrl, websocket: true }],
      access: {
        default_policy: 'two_factor',
        rules: [
          { paths: ['/health'], policy: 'bypass' },
          { paths: ['/admin', '/admin/**'], groups: ['admins'], policy: 'two_factor', max_auth_age: '15m' },
        ],
      },
      // `curl -u svc-export:export-all-the-things http://127.0.0.1:8080/export` (config/users.yaml).
      api_clients: [{ name: 'legacy-export', basic: { users: ['svc-export'] } }],
      portal: { title: 'Portcullis demo' },
    }),
  );
}

/** `http://localhost:PORT` for a demo listening on 127.0.0.1:PORT (where passkeys work), else undefined. */
export function localhostAlias(listen: string): string | undefined {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(listen);
  return m ? `http://localhost:${m[1]}` : undefined;
}

/** Why an address cannot be used, as one line that says what to do; undefined when it is free. */
async function addressProblem(address: string, option: '--listen' | '--admin', env: string): Promise<{ message: string } | { port: number }> {
  const parsed = parseListen(address);
  if (!parsed) return { message: `${option} must be 'host:port' (for example '127.0.0.1:8080') but it's '${address}'` };
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another program, or another demo, listens there)' : err.code === 'EACCES' ? 'is not allowed for this user' : `cannot be used (${err.code ?? err.message})`;
      resolve({ message: `${address} ${why}. Choose another address with ${option} HOST:PORT (or $${env}), for example: portcullis demo ${option} ${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port === 0 ? 8180 : (parsed.port + 100) % 65536}` });
    });
    probe.listen(parsed.port, parsed.host, () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve({ port }));
    });
  });
}

function withPort(address: string, port: number): string {
  const parsed = parseListen(address)!;
  return `${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${port}`;
}

/**
 * `portcullis demo [--listen HOST:PORT] [--admin HOST:PORT]`: the bundled camera app behind the gateway,
 * in-memory store (expected here), console delivery (codes in the log and at /_gateway/dev/outbox).
 * Nothing else needed. A taken address stops it at once (exit 1) with a line saying how to choose
 * another; a malformed one is a usage error (exit 2). Resolves undefined while it runs.
 */
export async function demoCommand(o: DemoOptions, io: { stdout: Out; stderr: Out }, env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const listenArg = typeof o.listen === 'string' ? o.listen : (env.PORTCULLIS_DEMO_LISTEN || DEMO_DEFAULT_LISTEN);
  const adminArg = typeof o.admin === 'string' ? o.admin : (env.PORTCULLIS_DEMO_ADMIN || DEMO_DEFAULT_ADMIN);
  // Both addresses are tried before anything starts: a busy port is told at once, never after a start-up.
  const listenFree = await addressProblem(listenArg, '--listen', 'PORTCULLIS_DEMO_LISTEN');
  if ('message' in listenFree) return fail(io, listenFree.message, parseListen(listenArg) ? 1 : 2);
  const adminFree = await addressProblem(adminArg, '--admin', 'PORTCULLIS_DEMO_ADMIN');
  if ('message' in adminFree) return fail(io, adminFree.message, parseListen(adminArg) ? 1 : 2);
  // Port 0 means "any free port": the one the probe was given, so the public URL names a real port.
  const listen = withPort(listenArg, listenFree.port);
  const admin = withPort(adminArg, adminFree.port);

  const logger = createLogger({ level: env.PORTCULLIS_LOG_LEVEL ?? 'info' });
  const app = await startDemoApp({ host: '127.0.0.1', port: 0 });
  const config = demoConfig(listen, admin, app.url);
  let running;
  try {
    // The demo's own memory store: the loud production warning about it does not apply here.
    running = await startGateway({ config, logger, demo: true, store: new MemoryStore() });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return fail(io, `${listen} or ${admin} was taken while the demo started. Choose other addresses with --listen HOST:PORT and --admin HOST:PORT.`, 1);
    throw err;
  }
  logger.warn({ store: 'memory' }, 'demo mode: the in-memory store is expected here (sessions are lost when the demo stops; production uses store: redis); console delivery; dev outbox enabled');
  const width = Math.max(...Object.keys(DEMO_PASSWORDS).map((u) => u.length)) + 2;
  const pwWidth = Math.max(...Object.values(DEMO_PASSWORDS).map((p) => p.length)) + 2;
  const lines = Object.entries(DEMO_PASSWORDS).map(([user, password]) => `  ${user.padEnd(width)}${password.padEnd(pwWidth)}${DEMO_USER_METHODS[user] ?? ''}`);
  // The demo users' passwords are public fixtures, printed so a new user can sign in at once.
  logger.info({ url: running.url, outbox: `${running.url}/_gateway/dev/outbox`, demo_users: DEMO_PASSWORDS }, 'demo ready');
  io.stdout.write(
    `\nPortcullis demo: open ${running.url}/\n${localhostAlias(listen) ? `Passkeys need a host name: open ${localhostAlias(listen)!}/ to add one (account page) and sign in with it.\n` : ''}Demo users (user, password, second step):\n${lines.join('\n')}\nCodes are printed here and listed at ${running.url}/_gateway/dev/outbox\n\n`,
  );
  installSignals({ ...running, close: async () => { await running.close(); await app.close(); } }, logger);
  return undefined;
}

function fail(io: { stderr: Out }, message: string, code: number): number {
  io.stderr.write(`portcullis demo: ${message}\n`);
  return code;
}
