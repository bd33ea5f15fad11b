import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { loadConfigFile, formatProblem } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema/index.js';
import { startGateway } from '../../src/main.js';
import { PORTAL_CSP } from '../../src/portal/views/csp.js';
import { startStack } from '../fixtures/gateway.js';

async function get(url: string, headers: Record<string, string>) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const HTML = { accept: 'text/html,application/xhtml+xml' };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

void t.test('error pages: the portal layout in the visitor’s language, with the request id; JSON for API clients', async (t) => {
  const stack = await startStack({ config: { access: { default_policy: 'two_factor', rules: [{ paths: ['/forbidden'], policy: 'deny' }, { paths: ['/down'], policy: 'bypass' }] }, upstreams: [{ name: 'down', url: `http://127.0.0.1:${await closedPort()}`, match: { path_prefix: '/down' } }, { name: 'app', url: 'http://127.0.0.1:9' }] } });
  t.teardown(() => stack.close());

  const de = await get(`${stack.url}/_gateway/nope`, { ...HTML, 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' });
  t.equal(de.status, 404);
  t.match(de.text, /<html lang="de"/);
  t.match(de.text, /<h1 class="title">Seite nicht gefunden<\/h1>/);
  t.match(de.text, /Unter dieser Adresse gibt es keine Seite/);
  t.match(de.text, /href="\/_gateway\/static\/portal\.css\?v=/, 'the portal stylesheet');
  t.match(de.text, new RegExp(`<code>${String(de.headers['x-request-id'])}</code>`), 'the request id to quote, the one in X-Request-Id');
  t.match(de.text, /Zur Startseite/);
  t.notMatch(de.text, /Not found|not_found/, 'no English, no internal code');
  t.equal(de.headers['content-security-policy'], PORTAL_CSP, 'the portal’s CSP (its stylesheet loads)');

  const json = await get(`${stack.url}/_gateway/nope`, { accept: 'application/json', 'accept-language': 'de' });
  t.equal(json.status, 404);
  t.match(json.headers['content-type'], /^application\/json/);
  t.match(JSON.parse(json.text), { error: 'not_found', request_id: json.headers['x-request-id'] });

  const fr = await request(`${stack.url}/_gateway/login`, { method: 'PUT', headers: { ...HTML, 'accept-language': 'fr' } });
  const frText = await fr.body.text();
  t.equal(fr.statusCode, 405);
  t.match(frText, /<html lang="fr"[\s\S]*Cette action n’est pas possible ici/);

  const es = await get(`${stack.url}/public/%2e%2e%2fadmin`, { ...HTML, 'accept-language': 'es' });
  t.equal(es.status, 400);
  t.match(es.text, /<html lang="es"[\s\S]*Esta dirección no se puede usar/);

  const nl = await get(`${stack.url}/forbidden`, { ...HTML, 'accept-language': 'nl' });
  t.equal(nl.status, 403);
  t.match(nl.text, /<html lang="nl"[\s\S]*Toegang geweigerd/);

  const ru = await get(`${stack.url}/down/cams?x=1`, { ...HTML, 'accept-language': 'ru' });
  t.equal(ru.status, 502);
  t.match(ru.text, /<html lang="ru"[\s\S]*Приложение недоступно/);
  t.match(ru.text, /<a class="button button--primary" href="\/down\/cams\?x=1">Повторить<\/a>/, 'try the same page again');
  const downJson = await get(`${stack.url}/down/cams`, { accept: 'application/json' });
  t.equal(downJson.status, 502);
  t.match(JSON.parse(downJson.text), { error: 'upstream_unavailable' });
});

void t.test('branding: product name, logo, accent colour and help link in the top bar and on the sign-in card', async (t) => {
  const dir = t.testdir({ 'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#c05"/></svg>' });
  const logo = join(dir, 'logo.svg');
  const branded = await startStack({ config: { portal: { title: 'Portcullis', branding: { product_name: 'Acme VMS', logo_file: logo, accent_color: '#C0115A', help_url: 'https://help.example.com/vms' } } } });
  t.teardown(() => branded.close());
  const page = await get(`${branded.url}/_gateway/login`, HTML);
  t.match(page.text, /<title>Sign in · Acme VMS<\/title>/);
  t.match(page.text, /<span class="brand__name">Acme VMS<\/span>/, 'the name in the top bar');
  t.match(page.text, /<p class="card__brand"><img class="card__mark brand__logo" src="\/_gateway\/static\/brand-logo\.svg\?v=[\w-]+" alt="" height="32"><span>Acme VMS<\/span><\/p>/, 'logo and name on the sign-in card');
  t.match(page.text, /<a class="topbar__link" href="https:\/\/help\.example\.com\/vms" rel="noopener noreferrer">Help<\/a>/);
  const css = /<link rel="stylesheet" href="(\/_gateway\/static\/brand\.css\?v=[\w-]+)">/.exec(page.text)?.[1];
  t.ok(css, 'the accent stylesheet is linked after portal.css');
  const sheet = await get(`${branded.url}${css}`, {});
  t.equal(sheet.status, 200);
  t.match(sheet.text, /--accent: #c0115a;/);
  t.match(sheet.text, /--accent-text: #ffffff;/, 'white reads better on this colour');
  const img = await request(`${branded.url}/_gateway/static/brand-logo.svg`);
  t.equal(img.statusCode, 200);
  t.equal(img.headers['content-type'], 'image/svg+xml');
  t.match(String(img.headers['content-security-policy']), /sandbox/, 'an SVG opened on its own is shown, never run');
  await img.body.text();
  const error = await get(`${branded.url}/_gateway/nope`, HTML);
  t.match(error.text, /Acme VMS[\s\S]*brand\.css/, 'error pages are branded too');

  const mail = branded.gateway.gateway.core.delivery;
  await mail.notify('new_device', 'alice@example.com', { name: 'Alice' }, 'en');
  t.match(mail.outbox!.latest('alice@example.com')?.subject, /Acme VMS/, 'emails use the product name');
});

void t.test('branding problems are configuration errors', async (t) => {
  const dir = t.testdir({ 'logo.gif': 'GIF89a', 'big.png': Buffer.alloc(300 * 1024) });
  const base = `session:\n  secret: "${'s'.repeat(40)}"\nupstreams:\n  - {name: app, url: "http://127.0.0.1:9"}\n`;
  const cases: Array<[string, RegExp]> = [
    ['portal:\n  branding: {logo_file: missing.svg}\n', /portal\.branding\.logo_file: file '.*missing\.svg' does not exist/],
    ['portal:\n  branding: {logo_file: logo.gif}\n', /portal\.branding\.logo_file: must be an \.svg, \.png, \.jpg or \.webp file/],
    ['portal:\n  branding: {accent_color: blue}\n', /portal\.branding\.accent_color: must be a colour written as '#rrggbb'/],
    ['portal:\n  branding: {help_url: "javascript:alert(1)"}\n', /portal\.branding\.help_url/],
  ];
  for (const [yaml, problem] of cases) {
    await writeFile(join(dir, 'gw.yaml'), base + yaml);
    const r = await loadConfigFile(join(dir, 'gw.yaml'), {}, { checkFiles: true });
    t.notOk(r.ok, yaml.trim());
    if (!r.ok) t.match(r.problems.map(formatProblem).join('\n'), problem);
  }
  await writeFile(join(dir, 'gw.yaml'), `${base}portal:\n  branding: {logo_file: big.png}\n`);
  const r = await loadConfigFile(join(dir, 'gw.yaml'), {}, { checkFiles: true });
  t.ok(r.ok, 'the size is checked when the gateway reads the file');
  const config = configSchema.parse({ session: { store: 'memory', secret: 's'.repeat(40) }, server: { listen: '127.0.0.1:0' }, admin: { listen: '' }, upstreams: [{ name: 'app', url: 'http://127.0.0.1:9' }], portal: { branding: { logo_file: join(dir, 'big.png') } }, logging: { level: 'silent' } });
  await t.rejects(startGateway({ config }), /portal\.branding\.logo_file: .*big\.png' is 307200 bytes; at most 262144 are accepted/, 'the gateway does not start (and leaves nothing open)');
});
