// Usage: node scripts/profile-hot-path.mjs <checkout with dist/ built> <cookie|bearer> <outdir> — profiles a signed-in wrk run (docs/performance.md)
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const [repo, mode, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const { hashPassword } = await import(join(repo, 'dist/src/users/password.js'));
const body = Buffer.alloc(1024, 'x');
const up = spawn(process.execPath, ['-e', "const b=Buffer.alloc(1024,'x');require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':b.length});s.end(b)}).listen(18499,'127.0.0.1')"], { stdio: 'inherit' });
writeFileSync(join(out, 'users.yaml'), `users:\n  bench:\n    password: ${JSON.stringify(await hashPassword('bench-password-1', 'argon2id'))}\n    groups: [ops]\n    second_factor: {enabled: false}\n`);
writeFileSync(join(out, 'gw.yaml'), `server: {listen: 127.0.0.1:18400}\nadmin: {listen: ""}\nlogging: {level: warn}\nsession: {store: memory, secret: "${'s'.repeat(40)}"}\nusers: {file: ${join(out, 'users.yaml')}}\naccess: {default_policy: two_factor}\nupstreams: [{name: app, url: "http://127.0.0.1:18499"}]\n`);
const gw = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out}`, join(repo, 'dist/src/cli/bin.js'), 'serve', '--config', join(out, 'gw.yaml')], { stdio: 'inherit' });
for (let i = 0; i < 100; i++) { try { await fetch('http://127.0.0.1:18400/_gateway/login'); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }
const login = await fetch('http://127.0.0.1:18400/_gateway/api/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }) });
const { token } = await login.json();
const header = mode === 'bearer' ? `Authorization: Bearer ${token}` : `Cookie: portcullis_session=${token}`;
const probe = await fetch('http://127.0.0.1:18400/x', { headers: mode === 'bearer' ? { authorization: `Bearer ${token}` } : { cookie: `portcullis_session=${token}` } }); console.log('probe', probe.status, token ? 'token' : 'no token');
  const wrk = execFileSync('wrk', ['-t1', '-c64', '-d10s', '-H', header, 'http://127.0.0.1:18400/x'], { encoding: 'utf8' });
console.log(wrk); console.log(wrk.split('\n').filter((l) => /Requests\/sec|Latency|Non-2xx/.test(l)).join('\n'));
gw.kill('SIGTERM');
await new Promise((r) => gw.on('exit', r));
up.kill();
console.log(readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).join(' '));
