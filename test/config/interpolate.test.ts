import t from 'tap';
import { interpolate } from '../../src/config/interpolate.js';

void t.test('expands whole and embedded variables', (t) => {
  const env = { A: 'alpha', B: 'beta', EMPTY: '' };
  t.same(interpolate('${A}', env), { ok: true, value: 'alpha', changed: true });
  t.same(interpolate('x-${A}-${B}-y', env), { ok: true, value: 'x-alpha-beta-y', changed: true });
  t.same(interpolate('${EMPTY}', env), { ok: true, value: '', changed: true }, 'set but empty is set');
  t.same(interpolate('plain $A text {A}', env), { ok: true, value: 'plain $A text {A}', changed: false });
  t.end();
});

void t.test('$${ is a literal ${', (t) => {
  t.same(interpolate('$${A}', { A: 'x' }), { ok: true, value: '${A}', changed: true });
  t.same(interpolate('$$${A}', { A: 'x' }), { ok: true, value: '$${A}', changed: true });
  t.end();
});

void t.test('an unset variable, a bad name and an unclosed brace are errors', (t) => {
  t.same(interpolate('${NOPE}', {}), { ok: false, message: 'environment variable NOPE is not set' });
  t.same(interpolate('${A}${B}', {}), { ok: false, message: 'environment variables A, B are not set' });
  t.same(interpolate('${A-B}', {}), { ok: false, message: "has '${A-B}', which is not an environment variable name" });
  t.same(interpolate('${}', {}), { ok: false, message: "has '${}', which is not an environment variable name" });
  t.same(interpolate('abc ${A', {}), { ok: false, message: "has '${' without a closing '}' (write '$${' for a literal '${')" });
  t.end();
});

void t.test('a value is not expanded twice', (t) => {
  t.same(interpolate('${A}', { A: '${B}', B: 'no' }), { ok: true, value: '${B}', changed: true });
  t.end();
});
