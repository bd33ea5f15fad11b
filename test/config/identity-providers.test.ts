import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { formatProblem, loadConfigFile, loadConfigText, type LoadResult } from '../../src/config/load.js';
import { checkConfigCommand, providerRegistrations } from '../../src/cli/check-config.js';

const SECRET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const DELIVERY = `delivery:\n  email: {transport: smtp, smtp: {host: smtp.example.com}}\n  sms: {provider: twilio, twilio: {account_sid: AC1, auth_token: t, from: "+15550000000"}}\n`;
const BASE = `server:\n  public_url: https://vms.example.com\nsession:\n  secret: "${SECRET}"\nupstreams:\n  - {name: vms, url: "http://127.0.0.1:8081"}\n${DELIVERY}`;

const problems = (r: LoadResult) => (r.ok ? [] : r.problems.map(formatProblem));
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfigText(text, 'gw.yaml', env);
const provider = (lines: string) => `${BASE}identity_providers:\n  - name: entra\n    client_id: portcullis\n${lines}`;

void t.test('an identity provider with a secret from the environment loads with its defaults', async (t) => {
  const r = await load(provider('    issuer: https://login.example.com/tenant/v2.0\n    client_secret: ${OIDC_SECRET}\n'), { OIDC_SECRET: 's3cret-value' });
  t.ok(r.ok, JSON.stringify(problems(r)));
  if (!r.ok) return;
  t.same(r.warnings, []);
  const p = r.config.identity_providers[0]!;
  t.match(p, {
    name: 'entra',
    issuer: 'https://login.example.com/tenant/v2.0',
    client_secret: 's3cret-value',
    scopes: ['openid', 'email', 'profile'],
    claims: { username: 'preferred_username', email: 'email', display_name: 'name', groups: 'groups', phone: 'phone_number' },
    users: 'directory',
    allowed_groups: [],
    second_factor: 'required',
    mfa_acr_values: [],
    end_session: false,
    timeout: 10_000,
  });
  t.equal(p.display_name, undefined);
  t.equal(r.config.portal.password_form, true);
});

void t.test('client_secret_file like every secret; private_key_jwt.key_file is a path resolved against the config', async (t) => {
  const dir = t.testdir({ 'oidc-secret': 'from-a-file\n', 'key.pem': generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const file = join(dir, 'gw.yaml');
  const withFile = await loadConfigText(provider('    issuer: https://idp.example\n    client_secret_file: ./oidc-secret\n'), file, {}, { checkFiles: true });
  t.ok(withFile.ok, JSON.stringify(problems(withFile)));
  if (withFile.ok) t.equal(withFile.config.identity_providers[0]!.client_secret, 'from-a-file');
  const withKey = await loadConfigText(provider('    issuer: https://idp.example\n    private_key_jwt: {key_file: key.pem, alg: ES256}\n'), file, {}, { checkFiles: true });
  t.ok(withKey.ok, JSON.stringify(problems(withKey)));
  if (withKey.ok) t.equal(withKey.config.identity_providers[0]!.private_key_jwt!.key_file, join(dir, 'key.pem'));
  const missing = await loadConfigText(provider('    issuer: https://idp.example\n    private_key_jwt: {key_file: nope.pem}\n'), file, {}, { checkFiles: true });
  t.match(problems(missing), [/identity_providers\[0\]\.private_key_jwt\.key_file: file '.*nope\.pem' does not exist/]);
});

void t.test('an http:// issuer only on a loopback address', async (t) => {
  for (const issuer of ['http://127.0.0.1:8080', 'http://localhost:9000/realms/x', 'http://[::1]:8080']) {
    const r = await load(provider(`    issuer: "${issuer}"\n    client_secret: x\n`));
    t.ok(r.ok, `${issuer}: ${JSON.stringify(problems(r))}`);
  }
  for (const [issuer, message] of [
    ['http://idp.example.com', /http:\/\/ is accepted only on a loopback address/],
    ['http://10.0.0.5', /http:\/\/ is accepted only on a loopback address/],
    ['http://127.0.0.1.nip.io', /http:\/\/ is accepted only on a loopback address/],
    ['ftp://idp.example.com', /must be an https:\/\/ URL/],
    ['not a url', /must be the provider's issuer URL/],
    ['https://idp.example.com/?tenant=1', /must not carry a query/],
  ] as const) {
    const r = await load(provider(`    issuer: "${issuer}"\n    client_secret: x\n`));
    t.match(problems(r), [new RegExp(`^gw\\.yaml:\\d+:\\d+ identity_providers\\[0\\]\\.issuer: .*${message.source}`)], issuer);
  }
});

void t.test('every mistake is reported at its place', async (t) => {
  const r = await load(
    `${BASE}identity_providers:\n` +
      '  - name: Entra ID\n    issuer: https://a.example\n    client_id: x\n' +
      '  - name: kc\n    issuer: https://b.example\n    client_id: x\n    client_secret: s\n    private_key_jwt: {key_file: k.pem}\n' +
      '  - name: kc\n    issuer: https://c.example\n    client_id: x\n    client_secret: s\n    scopes: [email]\n    users: ldap\n    second_factor: never\n    token_endpoint_auth_method: private_key_jwt\n    claim: {}\n',
  );
  const all = problems(r).join('\n');
  t.match(all, /identity_providers\[0\]\.name: must be 1-32 lower-case letters, digits or -/);
  t.match(all, /identity_providers\[1\]\.private_key_jwt: set either client_secret or private_key_jwt, not both/);
  t.match(all, /identity_providers\[2\]\.name: duplicate identity provider name 'kc' \(also identity_providers\[1\]\)/);
  t.match(all, /identity_providers\[2\]\.users: /);
  t.match(all, /identity_providers\[2\]\.second_factor: /);
  t.match(all, /identity_providers\[2\]\.claim: unknown key; did you mean 'claims'\?/);
  const second = await load(provider('    issuer: https://a.example\n'));
  t.match(problems(second), [/identity_providers\[0\]: needs client_secret \(or client_secret_file\) or private_key_jwt/]);
  const third = await load(provider('    issuer: https://a.example\n    client_secret: s\n    scopes: [email]\n    token_endpoint_auth_method: private_key_jwt\n'));
  t.match(problems(third).join('\n'), /identity_providers\[0\]\.scopes: must include 'openid'/);
  t.match(problems(third).join('\n'), /identity_providers\[0\]\.token_endpoint_auth_method: private_key_jwt needs the private_key_jwt key/);
});

void t.test('warnings: no public_url with providers; the password form hidden without providers', async (t) => {
  const noUrl = await load(`session:\n  secret: "${SECRET}"\nupstreams:\n  - {name: vms, url: "http://127.0.0.1:8081"}\n${DELIVERY}identity_providers:\n  - {name: kc, issuer: "https://kc.example/realms/x", client_id: x, client_secret: s}\n`);
  t.ok(noUrl.ok);
  t.match(noUrl.warnings.map(formatProblem), [/identity_providers: warning: server\.public_url is not set/]);
  const hidden = await load(`${BASE}portal:\n  password_form: false\n`);
  t.ok(hidden.ok);
  t.match(hidden.warnings.map(formatProblem), [/portal\.password_form: warning: the password form is hidden and no identity_providers are configured/]);
});

void t.test('check-config prints the redirect URI (and the post-logout one with end_session) to register at each provider', async (t) => {
  const text = `server:\n  public_url: [https://vms.example.com/, https://cams.example.com]\n  portal_prefix: /auth\nsession:\n  secret: "${SECRET}"\nupstreams:\n  - {name: vms, url: "http://127.0.0.1:8081"}\n${DELIVERY}identity_providers:\n  - {name: entra, issuer: "https://login.example.com/t/v2.0", client_id: x, client_secret: s}\n  - {name: kc, issuer: "https://kc.example/realms/x", client_id: x, client_secret: s, end_session: true}\n`;
  const dir = t.testdir({ 'gw.yaml': text });
  const out: string[] = [];
  const code = await checkConfigCommand(join(dir, 'gw.yaml'), { stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => out.push(c) } }, {});
  t.equal(code, 0);
  t.same(out.join('').trimEnd().split('\n'), [
    `config OK: ${join(dir, 'gw.yaml')}`,
    "identity provider 'entra': redirect URI https://vms.example.com/auth/oidc/entra/callback",
    "identity provider 'entra': redirect URI https://cams.example.com/auth/oidc/entra/callback",
    "identity provider 'kc': redirect URI https://vms.example.com/auth/oidc/kc/callback, post-logout redirect URI https://vms.example.com/auth/login",
    "identity provider 'kc': redirect URI https://cams.example.com/auth/oidc/kc/callback, post-logout redirect URI https://cams.example.com/auth/login",
  ]);
  const loaded = await loadConfigFile(join(dir, 'gw.yaml'), {});
  if (loaded.ok) t.same(providerRegistrations({ ...loaded.config, server: { ...loaded.config.server, public_url: undefined } }), [
    "identity provider 'entra': redirect URI https://HOST/auth/oidc/entra/callback",
    "identity provider 'kc': redirect URI https://HOST/auth/oidc/kc/callback, post-logout redirect URI https://HOST/auth/login",
  ]);
});
