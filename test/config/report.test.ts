import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';

const BASE = `session:
  store: memory
  secret: test-session-secret-0123456789-abcdefghijklmnop
upstreams:
  - {name: app, url: "http://127.0.0.1:8081"}
`;

void t.test('second_factor.report and notify_operators: defaults, valid values, mistakes at their line', async (t) => {
  const plain = await loadConfigText(BASE, 'gateway.yaml', {});
  if (!plain.ok) throw new Error(plain.problems.map(formatProblem).join('\n'));
  t.same(plain.config.second_factor.report, { enabled: true, link_ttl: 24 * 3_600_000 }, 'on by default, links live 24h');
  t.same(plain.config.second_factor.notify_operators, [], 'nobody is emailed by default');

  const set = await loadConfigText(`${BASE}second_factor:\n  report: {enabled: false, link_ttl: 2h}\n  notify_operators: [security@example.com, "SOC Team <soc@example.com>"]\n`, 'gateway.yaml', {});
  t.notOk(set.ok, 'a display-name form is not an address');
  const bad = await loadConfigText(`${BASE}second_factor:\n  report: {enabled: false, link_ttl: 2h, lifetime: 1h}\n  notify_operators: [security@example.com, not-an-address]\n`, 'gateway.yaml', {});
  t.notOk(bad.ok);
  const problems = bad.ok ? [] : bad.problems.map(formatProblem);
  t.match(problems.join('\n'), /gateway\.yaml:7:42 second_factor\.report\.lifetime: unknown key/, 'an unknown key under report, at its line');
  t.match(problems.join('\n'), /gateway\.yaml:8:44 second_factor\.notify_operators\[1\]: must be an email address/, 'the bad address, at its line');

  const good = await loadConfigText(`${BASE}second_factor:\n  report: {enabled: false, link_ttl: 2h}\n  notify_operators: [security@example.com]\n`, 'gateway.yaml', {});
  if (!good.ok) throw new Error(good.problems.map(formatProblem).join('\n'));
  t.same(good.config.second_factor.report, { enabled: false, link_ttl: 2 * 3_600_000 });
  t.same(good.config.second_factor.notify_operators, ['security@example.com']);
});
