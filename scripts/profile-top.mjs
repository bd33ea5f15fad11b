// Usage: node scripts/profile-top.mjs file.cpuprofile [n] — self time by function, and the share of Portcullis' own code
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const n = Number(process.argv[3] ?? 25);
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const agg = new Map();
let own = 0;
for (const [id, t] of dt) {
  const f = byId.get(id).callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(dist\/|node_modules\/)/, '$1');
  const key = `${f.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  agg.set(key, (agg.get(key) ?? 0) + t);
  if (/\/dist\/src\//.test(f.url)) own += t;
}
console.log(`total ${(total / 1e6).toFixed(2)} s sampled; Portcullis' own code (dist/src) self time: ${((own / total) * 100).toFixed(1)} %`);
console.log('| self % | function (file:line) |\n|---:|---|');
for (const [k, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`| ${((t / total) * 100).toFixed(1)} | \`${k}\` |`);
