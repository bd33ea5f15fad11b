import t from 'tap';
import { configSchema } from '../../src/config/schema/index.js';
import { Keyring } from '../../src/keys/keyring.js';
import {
  DEVICE_COOKIE_MAX_AGE_SECONDS,
  DeviceCookies,
  clearCookie,
  deviceCookieOptions,
  serializeCookie,
  portalIsHttps,
  sessionCookieName,
  sessionCookieOptions,
  usesHostPrefix,
} from '../../src/session/cookie-options.js';

const SECRET = 's'.repeat(40);
const config = (cookie: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, server: Record<string, unknown> = {}) =>
  configSchema.parse({ server, session: { secret: SECRET, cookie, ...extra } });
const session = (cookie: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => config(cookie, extra).session;

void t.test('defaults: HttpOnly, SameSite=Lax, Path=/, host-only, Secure only on HTTPS (auto)', (t) => {
  const http = sessionCookieOptions(config(), false);
  t.same(http, { name: 'portcullis_session', httpOnly: true, secure: false, sameSite: 'Lax', domain: '', path: '/' });
  t.equal(serializeCookie('abc.def', http), 'portcullis_session=abc.def; Path=/; HttpOnly; SameSite=Lax');
  const https = sessionCookieOptions(config(), true);
  t.equal(https.secure, true);
  t.equal(serializeCookie('v', https), 'portcullis_session=v; Path=/; HttpOnly; Secure; SameSite=Lax');
  t.end();
});

void t.test('configured secure, same_site, domain and name win', (t) => {
  const forced = sessionCookieOptions(config({ secure: true, same_site: 'strict', domain: 'example.com', name: 'sid' }), false);
  t.equal(serializeCookie('v', forced), 'sid=v; Path=/; Domain=example.com; HttpOnly; Secure; SameSite=Strict');
  t.equal(sessionCookieOptions(config({ secure: false }), true).secure, false);
  t.equal(sessionCookieOptions(config({ same_site: 'none' }), true).sameSite, 'None');
  t.equal(sessionCookieOptions(config({ same_site: 'none', secure: false }), false).secure, true, 'SameSite=None is always Secure (browsers refuse it otherwise)');
  t.end();
});

void t.test('device cookie is long-lived; clearing sets Max-Age=0', (t) => {
  const opts = deviceCookieOptions(session(), true);
  t.equal(opts.name, 'portcullis_device');
  t.equal(opts.maxAge, DEVICE_COOKIE_MAX_AGE_SECONDS);
  t.match(serializeCookie('v', opts), /Max-Age=34560000/);
  t.equal(clearCookie(sessionCookieOptions(config(), false)), 'portcullis_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
  t.end();
});

void t.test('serializeCookie refuses values that could inject attributes', (t) => {
  const opts = sessionCookieOptions(config(), false);
  for (const bad of ['a;b', 'a b', 'a\r\nSet-Cookie: x=1', 'a,b', '"q"']) t.throws(() => serializeCookie(bad, opts), bad);
  t.end();
});

void t.test('device cookies: issue, verify, tamper, rotation, not interchangeable with session cookies', async (t) => {
  const devices = DeviceCookies.fromConfig(session());
  const { id, cookie } = devices.issue();
  t.match(id, /^[A-Za-z0-9_-]{43}$/);
  t.equal(devices.verify(cookie), id);
  t.equal(devices.sign(id), cookie);
  t.equal(devices.verify(cookie.slice(0, -2) + 'xx'), undefined);
  t.equal(devices.verify(undefined), undefined);
  const rotated = new DeviceCookies(new Keyring(['n'.repeat(40), SECRET]));
  t.equal(rotated.verify(cookie), id, 'old secret still verifies');
  t.equal(new DeviceCookies(new Keyring(['n'.repeat(40)])).verify(cookie), undefined);
  const { signer } = await import('../../src/session/cookie.js');
  t.equal(signer(new Keyring([SECRET]).cookie('session')).verify(cookie), undefined, 'a device cookie is not a session cookie');
  t.not(devices.issue().id, id);
});

void t.test('an https public_url makes the portal HTTPS whatever the hop; a TLS listener too', (t) => {
  t.equal(portalIsHttps(config({}, {}, { public_url: 'https://vms.example.com' }).server), true);
  t.equal(portalIsHttps(config({}, {}, { public_url: ['https://a.example.com', 'https://b.example.com'] }).server), true);
  t.equal(portalIsHttps(config({}, {}, { public_url: ['https://a.example.com', 'http://b.example.com'] }).server), false, 'one plain-HTTP host: not forced');
  t.equal(portalIsHttps(config({}, {}, { public_url: 'http://127.0.0.1:8080' }).server), false);
  t.equal(portalIsHttps(config().server), false);
  t.equal(portalIsHttps(config({}, {}, { tls: { cert_file: 'c', key_file: 'k' } }).server), true);
  t.end();
});

void t.test('__Host- prefix: auto on for an HTTPS portal without a cookie domain; Secure, host-only, Path=/', (t) => {
  const https = config({}, {}, { public_url: 'https://vms.example.com' });
  t.equal(usesHostPrefix(https), true);
  t.equal(sessionCookieName(https), '__Host-portcullis_session');
  const opts = sessionCookieOptions(https, false);
  t.equal(serializeCookie('v', opts), '__Host-portcullis_session=v; Path=/; HttpOnly; Secure; SameSite=Lax', 'Secure even when the last hop was plain HTTP');
  t.equal(sessionCookieName(config({ domain: '.example.com' }, {}, { public_url: 'https://vms.example.com' })), 'portcullis_session', 'a shared cookie domain cannot use __Host-');
  t.equal(sessionCookieName(config({ secure: false }, {}, { public_url: 'https://vms.example.com' })), 'portcullis_session');
  t.equal(sessionCookieName(config({ host_prefix: false }, {}, { public_url: 'https://vms.example.com' })), 'portcullis_session', 'operators can turn it off');
  t.equal(sessionCookieName(config()), 'portcullis_session', 'plain HTTP keeps the SPEC name');
  const forced = config({ host_prefix: true });
  t.equal(sessionCookieName(forced), '__Host-portcullis_session');
  t.equal(sessionCookieOptions(forced, false).secure, true);
  t.throws(() => config({ host_prefix: true, domain: '.example.com' }), /host_prefix/);
  t.throws(() => config({ host_prefix: true, secure: false }), /host_prefix/);
  t.end();
});
