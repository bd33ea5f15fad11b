/**
 * deploy/nginx-forward-auth.conf and deploy/Caddyfile.forward-auth are what the generators print for
 * deploy/forward-auth.yaml (with the options its header names), so the documented examples cannot drift.
 * After a change to the generators, rewrite them with PORTCULLIS_WRITE_EXAMPLES=1 and review the diff.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { caddyConfig } from '../../src/frontproxy/caddy.js';
import { nginxConfig } from '../../src/frontproxy/nginx.js';

const ROOT = process.cwd();
const SOURCE = 'deploy/forward-auth.yaml';

void t.test('the deploy examples are the generators\' output for deploy/forward-auth.yaml', async (t) => {
  const loaded = await loadConfigText(readFileSync(join(ROOT, SOURCE), 'utf8'), SOURCE, { SESSION_SECRET: 'example-session-secret-0123456789abcdef' });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const examples: Array<[string, string]> = [
    ['deploy/nginx-forward-auth.conf', nginxConfig(loaded.config, { source: SOURCE, tlsCert: '/etc/ssl/certs/vms.example.com.pem', tlsKey: '/etc/ssl/private/vms.example.com.key' }).text],
    ['deploy/Caddyfile.forward-auth', caddyConfig(loaded.config, { source: SOURCE }).text],
  ];
  for (const [file, text] of examples) {
    const wanted = text.endsWith('\n') ? text : `${text}\n`;
    if (process.env.PORTCULLIS_WRITE_EXAMPLES === '1') writeFileSync(join(ROOT, file), wanted);
    t.equal(readFileSync(join(ROOT, file), 'utf8'), wanted, `${file} (PORTCULLIS_WRITE_EXAMPLES=1 rewrites it)`);
  }
});
