import t from 'tap';
import { DEFAULT_CONFIG_PATH, parseArgs, parseOptions } from '../../src/cli/args.js';

void t.test('--config is found anywhere on the line, in both spellings', (t) => {
  t.match(parseArgs(['check-config', '--config', 'a.yaml'], {}), { ok: true, command: 'check-config', configPath: 'a.yaml', args: [] });
  t.match(parseArgs(['--config', 'a.yaml', 'check-config'], {}), { ok: true, command: 'check-config', configPath: 'a.yaml', args: [] });
  t.match(parseArgs(['--config=b.yaml', 'serve'], {}), { ok: true, command: 'serve', configPath: 'b.yaml' });
  t.match(parseArgs(['users', 'unlock', '--config', 'c.yaml', 'alice'], {}), { ok: true, command: 'users', configPath: 'c.yaml', args: ['unlock', 'alice'] });
  t.match(parseArgs(['sessions', 'list', '-c', 'd.yaml', '--user', 'bob'], {}), { ok: true, command: 'sessions', configPath: 'd.yaml', args: ['list', '--user', 'bob'] });
  t.end();
});

void t.test('the config path falls back to $PORTCULLIS_CONFIG, then ./gateway.yaml', (t) => {
  t.match(parseArgs(['serve'], { PORTCULLIS_CONFIG: '/etc/portcullis/gateway.yaml' }), { configPath: '/etc/portcullis/gateway.yaml' });
  t.match(parseArgs(['serve', '--config', 'x.yaml'], { PORTCULLIS_CONFIG: '/etc/p.yaml' }), { configPath: 'x.yaml' }, '--config wins');
  t.match(parseArgs(['serve'], { PORTCULLIS_CONFIG: '' }), { configPath: DEFAULT_CONFIG_PATH });
  t.match(parseArgs(['serve'], {}), { configPath: './gateway.yaml' });
  t.end();
});

void t.test('usage errors', (t) => {
  t.same(parseArgs(['serve', '--config'], {}), { ok: false, message: '--config needs a file name' });
  t.same(parseArgs(['serve', '--config', '--help'], {}), { ok: false, message: '--config needs a file name' });
  t.same(parseArgs(['serve', '--config='], {}), { ok: false, message: '--config needs a file name' });
  t.same(parseArgs(['--config', 'a', 'serve', '--config', 'b'], {}), { ok: false, message: '--config is given more than once' });
  t.same(parseArgs(['--verbose', 'serve'], {}), { ok: false, message: "unknown option '--verbose'" });
  t.end();
});

void t.test('--help anywhere, no command, and -- passing the rest through', (t) => {
  t.match(parseArgs(['--help'], {}), { ok: true, help: true, command: undefined });
  t.match(parseArgs(['serve', '-h'], {}), { ok: true, help: true, command: 'serve' });
  t.match(parseArgs([], {}), { ok: true, help: false, command: undefined });
  t.match(parseArgs(['users', 'invite', '--', '--config'], {}), { ok: true, args: ['invite', '--', '--config'], configPath: './gateway.yaml' });
  t.end();
});

void t.test('command options', (t) => {
  t.same(parseOptions(['--algorithm', 'scrypt'], { '--algorithm': true }), { ok: true, options: { '--algorithm': 'scrypt' }, positionals: [] });
  t.same(parseOptions(['--algorithm=bcrypt', 'x'], { '--algorithm': true }), { ok: true, options: { '--algorithm': 'bcrypt' }, positionals: ['x'] });
  t.same(parseOptions(['--all'], { '--all': false }), { ok: true, options: { '--all': true }, positionals: [] });
  t.same(parseOptions(['--all=yes'], { '--all': false }), { ok: false, message: '--all takes no value' });
  t.same(parseOptions(['--algorithm'], { '--algorithm': true }), { ok: false, message: '--algorithm needs a value' });
  t.same(parseOptions(['--colour'], { '--algorithm': true }), { ok: false, message: "unknown option '--colour'" });
  t.same(parseOptions(['--toString'], {}), { ok: false, message: "unknown option '--toString'" }, 'no prototype keys');
  t.end();
});
