// Usage: node scripts/profile-hot-path.mjs <checkout with dist/ built> <cookie|bearer> <outdir> — profiles a signed-in wrk run (docs/performance.md)
// with --cpu-prof. Since issue 15's fourth round the gateway runs the bench's configuration (scripts/signed-in-gateway.mjs:
// trusted proxies and four identity fields); the profiles of earlier rounds were taken without them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { startOrigin, startSignedInGateway } from './signed-in-gateway.mjs';

const [repo, mode, out] = process.argv.slice(2);
if (!repo || !out || !['cookie', 'bearer'].includes(mode ?? '')) {
  console.error('usage: node scripts/profile-hot-path.mjs <checkout> <cookie|bearer> <outdir>');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const origin = await startOrigin();
const gw = await startSignedInGateway(repo, out, origin.url, ['--cpu-prof', `--cpu-prof-dir=${out}`]);
const header = gw.header(mode);
const [name, ...rest] = header.split(': ');
const probe = await fetch(`${gw.url}/bench/session`, { headers: { [name]: rest.join(': ') } });
console.log('probe', probe.status);
const wrk = execFileSync('wrk', ['-t1', '-c64', '-d10s', '-H', header, `${gw.url}/bench/session`], { encoding: 'utf8' });
console.log(wrk);
gw.child.kill('SIGTERM');
await new Promise((r) => gw.child.on('exit', r));
origin.child.kill();
console.log(readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).join(' '));
