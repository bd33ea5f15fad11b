/**
 * The README's "Deploying" section is the walk-through a person follows from a fresh clone: every file
 * it links or names under deploy/ exists (or is one the secrets step makes), and the sign-in it
 * describes uses the example users' real passwords.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PASSWORDS } from '../../src/users/demo-users.js';
import { ROOT } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const start = README.indexOf('\n## Deploying\n');
const section = README.slice(start, README.indexOf('\n## ', start + 1));

void t.test('the README has a Deploying section covering compose, Sentinel, Kubernetes and forward-auth', (t) => {
  t.ok(start > 0, 'it exists');
  for (const heading of ['### The image', '### Docker Compose, one node', '### Docker Compose with Redis Sentinel', '### Kubernetes', '### Behind nginx, Traefik or Caddy (forward-auth)']) {
    t.ok(section.includes(`\n${heading}\n`), heading);
  }
  for (const topic of ['**Redis.**', '**Scaling.**', '**Rolling updates.**', '**Metrics.**', 'docs/forward-auth.md']) t.ok(section.includes(topic), topic);
  t.end();
});

void t.test('every relative link and every deploy/ path it names exists', (t) => {
  const links = [...section.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/.test(l));
  t.ok(links.length > 5, 'it links files');
  for (const link of links) t.ok(existsSync(join(ROOT, link)), `link ${link}`);
  // (`kubectl ... scale|exec deploy/portcullis` names the Deployment, not a path.)
  const named = new Set([...section.matchAll(/(?<![\w/.-]|(?:scale|exec)\s)(deploy\/[\w./-]*[\w/])/g)].map((m) => m[1] as string));
  for (const p of named) {
    const secret = /\/secrets\/(session_secret|redis_password|smtp_password)$/.test(p);
    t.ok(secret || existsSync(join(ROOT, p)), secret ? `${p} is made by the secrets step` : `${p} exists`);
  }
  t.end();
});

void t.test('the walk-through signs in with the example users’ documented passwords', (t) => {
  for (const [user, password] of Object.entries(DEMO_PASSWORDS).filter(([u]) => section.includes(`\`${u}\``))) {
    t.ok(section.includes(`\`${user}\` / \`${password}\``), `${user} / ${password}`);
  }
  t.match(section, /`alice` \/ `alice-in-wonderland`/);
  t.end();
});
