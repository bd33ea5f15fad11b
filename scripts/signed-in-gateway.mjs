// The shared setup of scripts/profile-hot-path.mjs and scripts/cpu-per-request.mjs: a 1 KiB origin and
// `portcullis serve` in front of it with the bench's configuration (trusted proxies, the four identity
// fields, bypass and one_factor rules, memory store), signed in once through the JSON API.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An origin answering 1 KiB to every request; `{ url, child }`. */
export async function startOrigin() {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `const b=Buffer.alloc(1024,'x');require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':b.length});s.end(b)}).listen(${port},'127.0.0.1')`], { stdio: 'inherit' });
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * The gateway built in `repo` (dist/), its files in `dir`, Node started with `nodeArgs`; resolves once
 * signed in: `{ url, child, header(mode) }` where header gives the wrk `-H` value for `cookie` or `bearer`.
 */
export async function startSignedInGateway(repo, dir, originUrl, nodeArgs = []) {
  const { hashPassword } = await import(join(repo, 'dist/src/users/password.js'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'users.yaml'), `users:\n  bench:\n    password: ${JSON.stringify(await hashPassword('bench-password-1', 'argon2id'))}\n    display_name: Bench\n    email: bench@example.com\n    groups: [bench]\n    second_factor: {enabled: false}\n`);
  writeFileSync(join(dir, 'gateway.yaml'), `server: {listen: "127.0.0.1:${port}", trusted_proxies: [127.0.0.1/32]}\nadmin: {listen: ""}\nlogging: {level: error}\nsession: {store: memory, secret: "${'c'.repeat(48)}"}\nusers: {file: ${join(dir, 'users.yaml')}}\naccess:\n  default_policy: two_factor\n  rules:\n    - {paths: [/bench/bypass], policy: bypass}\n    - {paths: [/bench/session], policy: one_factor}\nupstreams: [{name: app, url: "${originUrl}"}]\n`);
  const child = spawn(process.execPath, [...nodeArgs, join(repo, 'dist/src/cli/bin.js'), 'serve', '--config', join(dir, 'gateway.yaml')], { stdio: ['ignore', 'inherit', 'inherit'] });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) up = await fetch(`${url}/health`).then(() => true, () => new Promise((r) => setTimeout(() => r(false), 100)));
  const login = await fetch(`${url}/_gateway/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }) });
  const { token } = await login.json();
  if (!token) throw new Error(`sign-in failed: ${login.status}`);
  return { url, child, header: (mode) => (mode === 'bearer' ? `Authorization: Bearer ${token}` : `Cookie: portcullis_session=${token}`) };
}
