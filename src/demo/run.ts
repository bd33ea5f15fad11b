import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { configSchema } from '../config/schema/index.js';
import { createLogger } from '../observability/logger.js';
import { DEMO_PASSWORDS } from '../users/demo-users.js';
import { installSignals, startGateway } from '../main.js';
import { startDemoApp } from './app.js';

/** The repository's demo users file, next to the package root (dist/src/demo → config/). */
const USERS_FILE = fileURLToPath(new URL('../../../config/users.yaml', import.meta.url));

/**
 * `portcullis demo`: the bundled camera app behind the gateway on http://127.0.0.1:8080, in-memory
 * store, console delivery (codes in the log and at /_gateway/dev/outbox). Nothing else needed.
 */
export async function demo(): Promise<void> {
  const logger = createLogger({ level: process.env.PORTCULLIS_LOG_LEVEL ?? 'info' });
  const app = await startDemoApp({ host: '127.0.0.1', port: 0 });
  const listen = process.env.PORTCULLIS_DEMO_LISTEN ?? '127.0.0.1:8080';
  const config = Object.freeze(
    configSchema.parse({
      server: { listen, public_url: `http://${listen}` },
      admin: { listen: process.env.PORTCULLIS_DEMO_ADMIN ?? '127.0.0.1:9090' },
      session: { store: 'memory', secret: randomBytes(32).toString('base64url') },
      users: { file: USERS_FILE },
      second_factor: { policy: 'required', methods: ['email', 'sms', 'totp', 'recovery_code'], assignments: [{ group: 'operators', method: 'email' }] },
      delivery: { email: { transport: 'console' }, sms: { provider: 'console' } },
      upstreams: [{ name: 'demo-vms', url: app.url, websocket: true }],
      access: {
        default_policy: 'two_factor',
        rules: [
          { paths: ['/health'], policy: 'bypass' },
          { paths: ['/admin', '/admin/**'], groups: ['admins'], policy: 'two_factor', max_auth_age: '15m' },
        ],
      },
      api_clients: [],
      portal: { title: 'Portcullis demo' },
    }),
  );
  logger.warn('demo mode: in-memory store (sessions are lost on restart), console delivery, dev outbox enabled');
  const running = await startGateway({ config, logger, demo: true });
  const lines = Object.entries(DEMO_PASSWORDS).map(([user, password]) => `  ${user.padEnd(12)} ${password}`);
  // The demo users' passwords are public fixtures, printed so a new user can sign in at once.
  logger.info({ url: running.url, outbox: `${running.url}/_gateway/dev/outbox`, demo_users: DEMO_PASSWORDS }, 'demo ready');
  process.stdout.write(
    `\nPortcullis demo: open ${running.url}/\nDemo users (user / password):\n${lines.join('\n')}\nCodes are printed here and listed at ${running.url}/_gateway/dev/outbox\n\n`,
  );
  installSignals({ ...running, close: async () => { await running.close(); await app.close(); } }, logger);
}
