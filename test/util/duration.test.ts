import t from 'tap';
import { formatDuration, parseDuration } from '../../src/util/duration.js';

void t.test('parses every unit and 0', (t) => {
  t.equal(parseDuration('90s'), 90_000);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('12h'), 43_200_000);
  t.equal(parseDuration('90d'), 7_776_000_000);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration(0), 0);
  t.end();
});

void t.test('rejects malformed durations', (t) => {
  for (const bad of ['', '5', '5 minutes', '-5m', 'm', '5x', '1e3s', 5]) t.equal(parseDuration(bad as string), undefined, String(bad));
  t.end();
});

void t.test('formats the shortest exact unit', (t) => {
  t.equal(formatDuration(300_000), '5m');
  t.equal(formatDuration(90_000), '90s');
  t.equal(formatDuration(1500), '1500ms');
  t.equal(formatDuration(0), '0');
  t.end();
});
