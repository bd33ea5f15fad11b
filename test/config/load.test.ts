import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem, loadConfigFile, loadConfigText, type LoadResult } from '../../src/config/load.js';

const SECRET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const BASE = `session:\n  secret: "${SECRET}"\nupstreams:\n  - name: vms\n    url: http://127.0.0.1:8081\n`;

const problems = (r: LoadResult) => (r.ok ? [] : r.problems.map(formatProblem));
const warnings = (r: LoadResult) => r.warnings.map(formatProblem);
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfigText(text, 'gw.yaml', env);

void t.test('a minimal config loads with its defaults; the only warnings are about console delivery', async (t) => {
  const r = await load(BASE);
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.same(
    r.warnings.map((w) => w.path),
    ['delivery.email.transport', 'delivery.sms.provider'],
    'codes in the log are called out',
  );
  t.equal(r.config.server.listen, '0.0.0.0:8080');
  t.equal(r.config.session.lifetime, 12 * 3_600_000);
  t.equal(r.config.upstreams[0]?.url, 'http://127.0.0.1:8081');
  t.equal(r.file, 'gw.yaml');
});

void t.test('a YAML syntax error is reported at its position', async (t) => {
  const r = await load('server:\n  listen: [0.0.0.0:8080\nsession: {}\n');
  t.notOk(r.ok);
  t.equal(problems(r).length, 1);
  t.match(problems(r)[0], /^gw\.yaml:3:1 YAML: /);
});

void t.test('a duplicate key is a YAML error at the second key', async (t) => {
  const r = await load(`${BASE}upstreams: []\n`);
  t.match(problems(r), [/^gw\.yaml:6:1 YAML: Map keys must be unique/]);
});

void t.test('an empty file and a non-mapping top level are clear problems', async (t) => {
  t.same(problems(await load('')), ['gw.yaml:1:1 the config file is empty; it needs at least a session section with a secret']);
  t.same(problems(await load('# only a comment\n')), ['gw.yaml:1:1 the config file is empty; it needs at least a session section with a secret']);
  t.same(problems(await load('\n- a\n- b\n')), ['gw.yaml:2:1 the top level must be a mapping of sections (server:, session:, upstreams:, ...)']);
  t.same(problems(await load('just text\n')), ['gw.yaml:1:1 the top level must be a mapping of sections (server:, session:, upstreams:, ...)']);
});

void t.test('a wrong type says what it must be and what it is', async (t) => {
  const r = await load(`${BASE}server:\n  watch_config: yes please\n  workers: [2]\n`);
  t.same(problems(r), [
    "gw.yaml:7:17 server.watch_config: must be true or false but it's a string",
    "gw.yaml:8:12 server.workers: must be 'auto' or a number but it's a list",
  ]);
});

void t.test('an out-of-range number names the bound and the value', async (t) => {
  const r = await load(`${BASE}delivery:\n  email:\n    transport: smtp\n    smtp:\n      host: mail\n      port: 70000\n`);
  t.same(problems(r), ["gw.yaml:11:13 delivery.email.smtp.port: must be at most 65535 but it's configured as 70000"]);
});

void t.test('a bad duration and a bad CIDR are reported at their values', async (t) => {
  const r = await load(`${BASE}regulation:\n  window: 10 minutes\nserver:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.300/8\n`);
  t.same(problems(r), [
    "gw.yaml:7:11 regulation.window: must be a duration such as '90s', '5m', '12h' or '90d' (or 0) but it's configured as '10 minutes'",
    "gw.yaml:11:7 server.trusted_proxies[1]: must be an IPv4 or IPv6 network such as '10.0.0.0/8' but it's configured as '10.0.0.300/8'",
  ]);
});

void t.test('a duration of the wrong type still says it is a duration', async (t) => {
  const r = await load(`${BASE}regulation:\n  block: true\n`);
  t.same(problems(r), ["gw.yaml:7:10 regulation.block: must be a duration such as '90s', '5m', '12h' or '90d' (or 0) but it's the boolean true"]);
});

void t.test('unknown keys: at the key, with did-you-mean, at the top, nested and in an array item', async (t) => {
  const r = await load(`${BASE}  - name: nvr\n    ulr: http://x\nserver:\n  listn: 0.0.0.0:80\nsesion: {}\nsecond_factor:\n  code: {lenght: 8}\n`);
  t.same(problems(r), [
    'gw.yaml:6:5 upstreams[1].url: is required',
    "gw.yaml:7:5 upstreams[1].ulr: unknown key; did you mean 'url'?",
    "gw.yaml:9:3 server.listn: unknown key; did you mean 'listen'?",
    "gw.yaml:10:1 sesion: unknown key; did you mean 'session'?",
    "gw.yaml:12:10 second_factor.code.lenght: unknown key; did you mean 'length'?",
  ]);
});

void t.test('an unknown key with no close match lists the known keys; renamed keys name the new one', async (t) => {
  const r = await load(`${BASE}logging:\n  colour: true\naccess_control: {}\nsession_x: 1\nregulation:\n  find_time: 5m\n`);
  t.same(problems(r), [
    'gw.yaml:7:3 logging.colour: unknown key (known keys: level, format)',
    "gw.yaml:8:1 access_control: unknown key; it is now 'access'",
    "gw.yaml:9:1 session_x: unknown key; did you mean 'session'?",
    "gw.yaml:11:3 regulation.find_time: unknown key; it is now 'regulation.window'",
  ]);
});

void t.test('every problem is reported in one run, in file order', async (t) => {
  const r = await load(
    [
      'server:',
      '  listen: nowhere',
      '  portal_prefix: gateway/',
      'session:',
      '  store: memcache',
      '  secret: short',
      'second_factor:',
      '  methods: [totp, carrier_pigeon]',
      'upstreams:',
      '  - name: vms',
      '    url: ftp://x',
      '',
    ].join('\n'),
  );
  t.notOk(r.ok);
  t.same(problems(r), [
    "gw.yaml:2:11 server.listen: must be 'host:port' (for example '0.0.0.0:8080' or '[::]:8080') but it's configured as 'nowhere'",
    "gw.yaml:3:18 server.portal_prefix: must be a path such as '/_gateway' (no trailing slash)",
    "gw.yaml:5:10 session.store: must be one of 'redis' or 'memory' but it's configured as 'memcache'",
    'gw.yaml:6:11 session.secret: must be at least 32 bytes long (generate one with `openssl rand -base64 48`)',
    "gw.yaml:8:19 second_factor.methods[1]: must be one of 'totp', 'email', 'sms', 'webauthn' or 'recovery_code' but it's configured as 'carrier_pigeon'",
    "gw.yaml:11:10 upstreams[0].url: must be an absolute http(s) URL but it's configured as 'ftp://x'",
  ]);
});

void t.test('a missing required key is placed at the closest ancestor in the file', async (t) => {
  t.same(problems(await load('server:\n  workers: 1\n')), ['gw.yaml:1:1 session.secret: is required (>= 32 bytes); use ${SESSION_SECRET} or secret_file']);
  t.same(problems(await load('server: {}\nsession:\n  store: redis\n')), ['gw.yaml:2:1 session.secret: is required (>= 32 bytes); use ${SESSION_SECRET} or secret_file']);
});

void t.test('the session secret is never echoed in a message', async (t) => {
  const r = await load('session:\n  secret: hunter2-but-short\n');
  t.equal(problems(r).length, 1);
  t.notMatch(problems(r)[0], /hunter2/);
  const typed = await load('session:\n  secret: [hunter2hunter2hunter2hunter2hunter2hunter2]\n');
  t.same(problems(typed), ["gw.yaml:2:11 session.secret: must be a string but it's a list"]);
});

void t.test('${VAR} interpolation: whole value, embedded, escaped, coerced, unset', async (t) => {
  const env = { SESSION_SECRET: SECRET, HOST: 'redis.internal', WORKERS: '3', WATCH: 'true' };
  const r = await load(
    'session:\n  secret: ${SESSION_SECRET}\n  redis:\n    url: redis://${HOST}:6379/0\n    key_prefix: "$${literal}"\nserver:\n  workers: ${WORKERS}\n  watch_config: ${WATCH}\nupstreams: [{name: a, url: "http://x"}]\n',
    env,
  );
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.equal(r.config.session.secret, SECRET);
  t.equal(r.config.session.redis.url, 'redis://redis.internal:6379/0');
  t.equal(r.config.session.redis.key_prefix, '${literal}');
  t.equal(r.config.server.workers, 3);
  t.equal(r.config.server.watch_config, true);

  const quoted = await load(`${BASE}server:\n  workers: "\${WORKERS}"\n`, env);
  t.same(problems(quoted), ["gw.yaml:7:12 server.workers: must be 'auto' or a number but it's configured as '3'"], 'a quoted value stays a string');

  const unset = await load('session:\n  secret: ${SESSION_SECRET}\n  redis:\n    url: "redis://${NOPE}:6379"\nupstreams: [{name: a, url: "http://${A}${B}"}]\n', { SESSION_SECRET: SECRET });
  t.same(problems(unset), [
    'gw.yaml:4:10 session.redis.url: environment variable NOPE is not set',
    'gw.yaml:5:28 upstreams[0].url: environment variables A, B are not set',
  ]);
  t.same(problems(await load('session:\n  secret: ${SESSION_SECRET}\n')), ['gw.yaml:2:11 session.secret: environment variable SESSION_SECRET is not set']);
  t.same(problems(await load(`${BASE}portal:\n  title: "\${unclosed"\n`)), ["gw.yaml:7:10 portal.title: has '${' without a closing '}' (write '$${' for a literal '${')"]);
  t.same(problems(await load(`${BASE}portal:\n  title: "\${1BAD}"\n`)), ["gw.yaml:7:10 portal.title: has '${1BAD}', which is not an environment variable name"]);
  t.equal(process.env.NOPE, undefined);
});

void t.test('the process environment is the default', async (t) => {
  process.env.PORTCULLIS_TEST_SECRET = SECRET;
  t.teardown(() => delete process.env.PORTCULLIS_TEST_SECRET);
  const r = await loadConfigText('session:\n  secret: ${PORTCULLIS_TEST_SECRET}\nupstreams: [{name: a, url: "http://x"}]\n', 'gw.yaml');
  t.ok(r.ok);
});

void t.test('x_file secrets: read relative to the config, missing, both, and non-secret *_file keys', async (t) => {
  const dir = t.testdir({ 'secret.txt': `${SECRET}\n`, 'ldap.txt': 'p4ss\r\n', 'two-lines.txt': 'a\n\n' });
  const file = join(dir, 'gw.yaml');
  const write = (text: string) => writeFileSync(file, text);

  write('session:\n  secret_file: secret.txt\nusers:\n  file: users.yaml\n  ldap:\n    url: ldap://dc\n    bind_dn: cn=x\n    bind_password_file: ${DIR}/ldap.txt\n    base_dn: dc=x\nupstreams: [{name: a, url: "http://x"}]\nserver:\n  tls: {cert_file: tls/cert.pem, key_file: /abs/key.pem}\ndelivery:\n  email:\n    templates_dir: templates\n');
  const ok = await loadConfigFile(file, { DIR: dir });
  t.ok(ok.ok, JSON.stringify(problems(ok)));
  if (!ok.ok) return;
  t.equal(ok.config.session.secret, SECRET, 'one trailing newline removed');
  t.equal(ok.config.users.ldap?.bind_password, 'p4ss', 'CRLF removed too');
  t.equal(ok.config.users.file, join(dir, 'users.yaml'), 'users.file is a path, resolved against the config directory');
  t.equal(ok.config.server.tls?.cert_file, join(dir, 'tls/cert.pem'), 'cert_file is not a secret, only a path');
  t.equal(ok.config.server.tls?.key_file, '/abs/key.pem');
  t.equal(ok.config.delivery.email.templates_dir, join(dir, 'templates'));

  write(`session:\n  secret: "${SECRET}"\n  secret_file: secret.txt\n`);
  t.same(problems(await loadConfigFile(file, {})), [`${file}:3:3 session.secret_file: set either secret or secret_file, not both`]);

  write('session:\n  secret_file: missing.txt\n');
  t.same(problems(await loadConfigFile(file, {})), [`${file}:2:16 session.secret: cannot read the secret file '${join(dir, 'missing.txt')}': no such file`]);

  write('session:\n  secret_file: .\n');
  t.same(problems(await loadConfigFile(file, {})), [`${file}:2:16 session.secret: cannot read the secret file '${dir}': not a regular file`]);

  write('session:\n  secret_file: two-lines.txt\n');
  t.same(problems(await loadConfigFile(file, {})), [`${file}:2:16 session.secret: must be at least 32 bytes long (generate one with \`openssl rand -base64 48\`)`], 'only one newline is trimmed; the short value is checked');

  write('session:\n  secret_file: ${NOPE}\n');
  t.same(problems(await loadConfigFile(file, {})), [`${file}:2:16 session.secret_file: environment variable NOPE is not set`]);

  write(`session:\n  secret: "${SECRET}"\nserver:\n  tls:\n    cert: x\n    cert_file: a.pem\n    key_file: b.pem\n`);
  t.match(problems(await loadConfigFile(file, {})), [`${file}:5:5 server.tls.cert: unknown key; did you mean 'cert_file'?`]);

  write(`session:\n  secret: "${SECRET}"\nserver:\n  listen_x_file: a\n`);
  t.match(problems(await loadConfigFile(file, {})), [/server\.listen_x_file: unknown key/]);
});

void t.test('a secret file larger than the limit is refused', async (t) => {
  const dir = t.testdir({ 'big.txt': 'x'.repeat(70_000) });
  const r = await loadConfigText('session:\n  secret_file: big.txt\n', join(dir, 'gw.yaml'), {});
  t.match(problems(r), [/session\.secret: the secret file '.*big\.txt' is larger than 65536 bytes/]);
});

void t.test('warnings: memory store, long lifetime, short codes, policy off, workers, no upstreams', async (t) => {
  const r = await load(`session:\n  secret: "${SECRET}"\n  store: memory\n  lifetime: 90d\nserver:\n  workers: auto\nsecond_factor:\n  policy: off\n  code: {length: 4}\n`);
  t.ok(r.ok, 'warnings do not fail the load');
  t.same(warnings(r), [
    'gw.yaml:1:1 upstreams: warning: no upstreams are configured; signed-in requests have nowhere to go',
    'gw.yaml:3:10 session.store: warning: the memory store keeps sessions in this process only: they are lost on restart and not shared between instances',
    'gw.yaml:4:13 session.lifetime: warning: sessions that last 90 days outlive the 30 days that a second factor should be trusted for; consider 12h with trusted devices',
    'gw.yaml:6:12 server.workers: warning: the memory store cannot be shared between processes; one worker will be used (use the redis store for several)',
    'gw.yaml:8:11 second_factor.policy: warning: the second factor is off: a password alone opens every protected application',
    'gw.yaml:9:18 second_factor.code.length: warning: codes of 4 characters are easy to guess; use 6 or more',
  ]);
  const exactly = await load(`session:\n  secret: "${SECRET}"\n  lifetime: 30d\nupstreams: [{name: a, url: "http://x"}]\n`);
  t.same(warnings(exactly).filter((w) => !w.includes('delivery.')), [], '30d itself does not warn');
});

void t.test('warnings are returned with errors too', async (t) => {
  const r = await load(`session:\n  secret: short\n  store: memory\nupstreams: [{name: a, url: "http://x"}]\n`);
  t.notOk(r.ok);
  t.equal(problems(r).length, 1);
  t.same(warnings(r).filter((w) => !w.includes('delivery.')).length, 1);
});

void t.test('checks across sections', async (t) => {
  const r = await load(
    [
      'session:',
      `  secret: "${SECRET}"`,
      `  secrets: ["${SECRET}"]`,
      'upstreams:',
      '  - {name: vms, url: "http://a"}',
      '  - {name: vms, url: "http://b"}',
      'api_clients:',
      '  - name: sync',
      '    networks: [10.0.0.0/8]',
      '    upstreams: [vms, nvr]',
      '  - name: sync',
      '    networks: [10.0.0.0/8]',
      'second_factor:',
      '  methods: [totp, email]',
      '  assignments:',
      '    - {group: operators, method: email}',
      '    - {user: alice, method: sms}',
      '',
    ].join('\n'),
  );
  t.same(problems(r), [
    'gw.yaml:3:12 session.secrets: set either secret or secrets (the first of secrets signs), not both',
    "gw.yaml:6:12 upstreams[1].name: duplicate upstream name 'vms' (also upstreams[0])",
    "gw.yaml:10:22 api_clients[0].upstreams[1]: there is no upstream named 'nvr' (upstreams: 'vms')",
    "gw.yaml:11:11 api_clients[1].name: duplicate API client name 'sync' (also api_clients[0])",
    "gw.yaml:17:29 second_factor.assignments[1].method: 'sms' is not enabled in second_factor.methods",
  ]);
});

void t.test('secrets alone is accepted as the session secret', async (t) => {
  const r = await load(`session:\n  secrets: ["${SECRET}", "${SECRET}-old"]\nupstreams: [{name: a, url: "http://x"}]\n`);
  t.ok(r.ok, JSON.stringify(problems(r)));
});

void t.test('the config is deep-frozen', async (t) => {
  const r = await load(BASE);
  if (!r.ok) return t.fail('should load');
  t.ok(Object.isFrozen(r.config));
  t.ok(Object.isFrozen(r.config.session));
  t.ok(Object.isFrozen(r.config.session.cookie));
  t.ok(Object.isFrozen(r.config.upstreams));
  t.ok(Object.isFrozen(r.config.upstreams[0]));
  t.ok(Object.isFrozen(r.config.upstreams[0]?.match.hosts));
  t.throws(() => {
    (r.config.server as { listen: string }).listen = 'x';
  }, TypeError);
});

void t.test('empty values mean "not set"', async (t) => {
  const r = await load(`${BASE}server:\n  tls:\n  public_url:\n`);
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (r.ok) t.equal(r.config.server.tls, undefined);
});

void t.test('a __proto__ key cannot pollute anything', async (t) => {
  const r = await load(`${BASE}server:\n  __proto__: {listen: "1.2.3.4:1"}\n`);
  t.match(problems(r), [/server\.__proto__: unknown key/]);
  t.equal(({} as Record<string, unknown>).listen, undefined);
});

void t.test('malformed and huge input does not crash', async (t) => {
  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
    'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
    'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
    'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
    'g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]',
    '',
  ].join('\n');
  t.same(problems(await load(bomb)), ['gw.yaml:1:1 YAML: Excessive alias count indicates a resource exhaustion attack']);

  const anchors = await load(`session:\n  secret: &s "${SECRET}"\n  secrets: [*s]\n`);
  t.match(problems(anchors), [/session\.secrets: set either secret or secrets/], 'a few aliases are fine');

  t.same(problems(await load('x'.repeat(1_048_577))), ['gw.yaml:1:1 the config file is larger than 1048576 bytes']);

  const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
  t.notOk((await load(`a: ${deep}\n`)).ok);
  t.notOk((await load('server: {listen: ]\n')).ok);
  t.notOk((await load('? [a, b]\n: c\n')).ok, 'a complex key is refused');
  t.notOk((await load('%YAML 9.9\n---\na: 1\n---\nb: 2\n')).ok);
  t.notOk((await load('\u0000\u0001\u0002')).ok);
  t.notOk((await load('session: !!binary aGVsbG8=\n')).ok);
  t.same(problems(await load('session: *undefined_anchor\n')), ["gw.yaml:1:10 session: refers to an unknown anchor 'undefined_anchor'"]);
  t.same(problems(await load(`${BASE}server: &s {limits: *s}\n`)), ["gw.yaml:6:21 server.limits.limits: refers to 's', which contains it"]);
});

void t.test('a missing or unreadable config file is a problem, not a crash', async (t) => {
  const dir = t.testdir({ 'big.yaml': 'a'.repeat(1_048_577) });
  t.same(problems(await loadConfigFile(join(dir, 'nope.yaml'), {})), [`${join(dir, 'nope.yaml')}:1:1 cannot read the config file: no such file`]);
  t.same(problems(await loadConfigFile(dir, {})), [`${dir}:1:1 cannot read the config file: not a regular file`]);
  t.same(problems(await loadConfigFile(join(dir, 'big.yaml'), {})), [`${join(dir, 'big.yaml')}:1:1 the config file is larger than 1048576 bytes`]);
});

void t.test('loading twice gives equal, independent configs (reload is side-effect free)', async (t) => {
  const a = await load(BASE);
  const b = await load(BASE);
  if (!a.ok || !b.ok) return t.fail('should load');
  t.same(a.config, b.config);
  t.not(a.config, b.config);
});

void t.test('jwks_file and private_key_file are paths (not secrets), resolved against the config directory', async (t) => {
  const r = await loadConfigText(
    `${BASE}api_clients:\n  - name: m\n    bearer_jwt: {jwks_file: keys/jwks.json}\nidentity:\n  jwt_assertion: {private_key_file: /abs/key.pem}\nusers:\n  ldap: {url: "ldaps://dc", bind_dn: x, bind_password: y, base_dn: z, tls: {ca_file: ca.pem}}\n`,
    '/etc/portcullis/gateway.yaml',
    {},
  );
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.equal(r.config.api_clients[0]?.bearer_jwt?.jwks_file, '/etc/portcullis/keys/jwks.json');
  t.equal(r.config.identity.jwt_assertion?.private_key_file, '/abs/key.pem');
  t.equal(r.config.users.ldap?.tls.ca_file, '/etc/portcullis/ca.pem');
});

void t.test('a zod refinement on a section is placed at that section', async (t) => {
  const r = await load(`${BASE}api_clients:\n  - name: m\n    bearer_jwt:\n      jwks_url: https://x/jwks\n      jwks_file: j.json\n`);
  t.same(problems(r), ['gw.yaml:8:5 api_clients[0].bearer_jwt: set exactly one of jwks_url, jwks_file or secret']);
});

void t.test('x_file works for every secret key, found from the schema (nested, in arrays)', async (t) => {
  const dir = t.testdir({ s: `${SECRET}\n` });
  const text = [
    'session:',
    '  secret_file: s',
    '  redis: {password_file: s}',
    'delivery:',
    '  email: {transport: smtp, smtp: {host: mail, password_file: s}}',
    '  sms: {provider: twilio, twilio: {account_sid: AC1, auth_token_file: s, from: "+15005550006"}}',
    'upstreams: [{name: a, url: "http://x"}]',
    'api_clients:',
    '  - {name: m, bearer_jwt: {secret_file: s}}',
    '',
  ].join('\n');
  const r = await loadConfigText(text, join(dir, 'gw.yaml'), {});
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.equal(r.config.session.secret, SECRET);
  t.equal(r.config.session.redis.password, SECRET);
  t.equal(r.config.delivery.email.smtp?.password, SECRET);
  t.equal(r.config.delivery.sms.twilio?.auth_token, SECRET);
  t.equal(r.config.api_clients[0]?.bearer_jwt?.secret, SECRET);
});

void t.test('YAML merge keys share settings; keys written in place win', async (t) => {
  const r = await load(
    [
      'session:',
      `  secret: "${SECRET}"`,
      'upstreams:',
      '  - &vms',
      '    name: vms',
      '    url: http://10.0.0.5:8081',
      '    timeouts: {connect: 2s, idle: 0}',
      '  - <<: *vms',
      '    name: vms-backup',
      '  - <<: [*vms]',
      '    name: nvr',
      '    url: http://10.0.0.6:8081',
      '',
    ].join('\n'),
  );
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.same(r.config.upstreams.map((u) => [u.name, u.url, u.timeouts.connect]), [
    ['vms', 'http://10.0.0.5:8081', 2000],
    ['vms-backup', 'http://10.0.0.5:8081', 2000],
    ['nvr', 'http://10.0.0.6:8081', 2000],
  ]);
  t.same(problems(await load(`${BASE}server:\n  <<: 5\n`)), ["gw.yaml:7:3 server: '<<' must merge a mapping"]);
});

void t.test('with checkFiles, every referenced file must exist and be readable (serve and check-config use it)', async (t) => {
  const dir = t.testdir({ 'users.yaml': 'users: {}\n', templates: {} });
  const file = join(dir, 'gw.yaml');
  writeFileSync(
    file,
    `${BASE}users:\n  file: ./users.yaml\nserver:\n  tls: {cert_file: ./missing-cert.pem, key_file: ./users.yaml}\ndelivery:\n  email: {templates_dir: ./users.yaml}\n`,
  );
  const r = await loadConfigFile(file, {}, { checkFiles: true });
  t.notOk(r.ok);
  t.same(problems(r), [
    `${file}:9:20 server.tls.cert_file: file '${join(dir, 'missing-cert.pem')}' does not exist`,
    `${file}:11:26 delivery.email.templates_dir: folder '${join(dir, 'users.yaml')}' not a folder`,
  ]);
  const plain = await loadConfigFile(file, {});
  t.ok(plain.ok, 'without checkFiles only the config itself is validated');
});
