/**
 * Regression: a bypass rule on /public must never expose anything else (SPEC §3). Every hostile
 * target is either rejected by normalizePath (→ 400) or normalises to a path that gets two_factor;
 * the forwarded form is the authorised path itself.
 */
import t, { type Test } from 'tap';
import { accessSchema } from '../../src/config/schema/access.js';
import { normalizePath } from '../../src/policy/normalize.js';
import { compileAccess } from '../../src/policy/rules.js';
import { HOSTILE } from '../fixtures/hostile-paths.js';

function policyFor(caseInsensitive: boolean) {
  const access = accessSchema.parse({ default_policy: 'two_factor', case_insensitive_paths: caseInsensitive, rules: [{ paths: ['/public'], policy: 'bypass' }] });
  return compileAccess(access, { portalPrefix: '/_gateway' });
}

function check(t: Test, raw: string, caseInsensitive: boolean): void {
  const policy = policyFor(caseInsensitive);
  const n = normalizePath(raw, { caseInsensitive });
  if (!n.ok) {
    t.pass(`${JSON.stringify(raw)} rejected (${n.reason})`);
    return;
  }
  const d = policy.decide({ host: 'x', path: n.path, method: 'GET', clientIp: '127.0.0.1' });
  t.equal(d.policy, 'two_factor', `${JSON.stringify(raw)} → ${n.path} needs two_factor`);
  // What is forwarded normalises to itself: the upstream sees exactly what was authorised.
  const again = normalizePath(n.forward, { caseInsensitive });
  t.ok(again.ok && again.path === n.path, `${JSON.stringify(raw)} forwards ${n.forward} stably`);
}

void t.test('hostile paths never reach the bypass rule', (t) => {
  t.ok(HOSTILE.length >= 40);
  for (const raw of HOSTILE) check(t, raw, false);
  t.end();
});

void t.test('hostile paths in case-insensitive mode', (t) => {
  for (const raw of [...HOSTILE, '/PUBLIC/../admin', '/PUBLIC/%2E%2E/ADMIN', '/Public;/../Admin', '/PUBLICITY']) check(t, raw, true);
  t.end();
});

void t.test('legitimate public paths still bypass', (t) => {
  for (const [raw, ci] of [
    ['/public', false],
    ['/public/', false],
    ['/public/x.css', false],
    ['/public/a/b/c?x=1', false],
    ['/public/a/../b', false],
    ['/admin/../public/x', false],
    ['//public//x', false],
    ['/public;v=2/x', false],
    ['/public/%61.css', false],
    ['/public/caf%C3%A9', false],
    ['http://x/public/x', false],
    ['/PUBLIC/X', true],
    ['/Public', true],
  ] as const) {
    const n = normalizePath(raw, { caseInsensitive: ci });
    t.ok(n.ok, `${raw} accepted`);
    if (!n.ok) continue;
    t.equal(policyFor(ci).decide({ host: 'x', path: n.path, method: 'GET', clientIp: '10.0.0.1' }).policy, 'bypass', `${raw} bypasses`);
  }
  // A fullwidth solidus or dot is what an upstream applying NFKC reads as `/` or `.` (issue 17): refused.
  t.equal(normalizePath('/public/%ef%bc%8f..%ef%bc%8fadmin').ok, false, 'fullwidth solidus is refused');
  t.equal(normalizePath('/public/%ef%bc%8e%ef%bc%8e/admin').ok, false, 'fullwidth dots are refused');
  const n = normalizePath('/PUBLIC/x');
  t.ok(n.ok && policyFor(false).decide({ host: 'x', path: n.path, method: 'GET', clientIp: '10.0.0.1' }).policy === 'two_factor', 'case-sensitive by default');
  t.end();
});
