import { readFile } from 'node:fs/promises';
import t from 'tap';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { Browser } from '../fixtures/browser.js';
import { startStack } from '../fixtures/gateway.js';
import { allSchemas, checkRequest, checkResponse, validate, type Schema } from '../fixtures/openapi.js';

const DOCS_FILE = new URL('../../../docs/openapi.json', import.meta.url);

void t.test('validator: types, integer, null, enum, required, additionalProperties', (t) => {
  const s: Schema = {
    type: 'object',
    properties: { a: { type: 'string', enum: ['x', 'y'] }, n: { type: 'integer', minimum: 0 }, z: { type: ['string', 'null'] } },
    required: ['a'],
    additionalProperties: false,
  };
  t.same(validate(s, { a: 'x' }), []);
  t.same(validate(s, { a: 'y', n: 0, z: null }), []);
  t.same(validate(s, { a: 'y', z: 'text' }), []);
  t.match(validate(s, { n: 1 }), [/missing required property "a"/]);
  t.match(validate(s, { a: 'q' }), [/not one of/]);
  t.match(validate(s, { a: 'x', n: 1.5 }), [/expected integer/]);
  t.match(validate(s, { a: 'x', n: -1 }), [/minimum/]);
  t.match(validate(s, { a: 'x', z: 3 }), [/expected string\|null/]);
  t.match(validate(s, { a: 'x', extra: true }), [/unexpected property "extra"/]);
  t.match(validate(s, ['a']), [/expected object, got array/]);
  t.match(validate(s, null), [/expected object, got null/]);
  t.same(validate({ type: 'object', properties: {} }, { anything: 1 }), [], 'extra properties allowed unless additionalProperties is false');
  t.same(validate({ type: 'boolean', enum: [true] }, true), []);
  t.match(validate({ type: 'boolean', enum: [true] }, false), [/not one of/]);
  t.end();
});

void t.test('validator: items, date-time, oneOf, $ref', (t) => {
  t.same(validate({ type: 'array', items: { type: 'string' } }, ['a', 'b']), []);
  t.match(validate({ type: 'array', items: { type: 'string' } }, ['a', 2]), [/\$\[1\]: expected string/]);
  const dt: Schema = { type: 'string', format: 'date-time' };
  t.same(validate(dt, '2026-11-23T12:00:00.000Z'), []);
  t.same(validate(dt, '2026-11-23T12:00:00+01:00'), []);
  t.match(validate(dt, '2026-11-23'), [/not a date-time/]);
  t.match(validate(dt, '2026-13-45T99:00:00Z'), [/not a date-time/]);
  const one: Schema = { oneOf: [{ type: 'object', properties: { k: { type: 'string', enum: ['a'] } }, required: ['k'] }, { type: 'object', properties: { k: { type: 'string', enum: ['b'] } }, required: ['k'] }] };
  t.same(validate(one, { k: 'a' }), []);
  t.match(validate(one, { k: 'c' }), [/matches 0 of the oneOf/]);
  t.match(validate({ oneOf: [{ type: 'string' }, { type: 'string' }] }, 's'), [/matches 2 of the oneOf/], 'oneOf means exactly one');
  t.same(validate({ $ref: '#/components/schemas/SentInfo' }, { channel: 'sms', destination: '+49 *** 78', fell_back: false }), []);
  t.match(validate({ $ref: '#/components/schemas/SentInfo' }, { channel: 'fax', destination: 'x', fell_back: false }), [/not one of/]);
  t.throws(() => validate({ $ref: '#/components/schemas/Nope' }, {}), /unresolvable/);
  t.throws(() => validate({ $ref: 'https://elsewhere/x.json' }, {}), /unresolvable/);
  t.end();
});

void t.test('validator: keywords outside the subset are refused, not ignored', (t) => {
  t.throws(() => validate({ type: 'string', pattern: '^a' }, 'a'), /unsupported schema keyword "pattern"/);
  t.throws(() => validate({ anyOf: [] }, 'a'), /unsupported schema keyword "anyOf"/);
  t.throws(() => validate({ type: 'string', format: 'email' }, 'a'), /unsupported format/);
  t.end();
});

void t.test('the document stays within the subset, and every $ref resolves', (t) => {
  const schemas = allSchemas();
  t.ok(schemas.length > 30, `${schemas.length} schemas`);
  for (const s of schemas) validate(s, s.type === 'object' ? {} : null); // throws on an unknown keyword or a bad $ref
  t.equal(OPENAPI_DOCUMENT.openapi, '3.1.0');
  t.same(Object.keys(OPENAPI_DOCUMENT.paths).sort(), ['/login', '/logout', '/openapi.json', '/resend', '/session', '/verify', '/webauthn/options']);
  t.end();
});

void t.test('request schemas: the documented requests', (t) => {
  t.same(checkRequest('/login', 'POST', { username: 'alice', password: 'p' }), []);
  t.same(checkRequest('/login', 'POST', { username: 'alice', password: 'p', device_token: 'd' }), []);
  t.match(checkRequest('/login', 'POST', { username: 'alice' }), [/password/]);
  t.same(checkRequest('/verify', 'POST', { flow: 'f', code: '123456', method: 'email', remember_device: true }), []);
  t.match(checkRequest('/verify', 'POST', { flow: 'f', code: '1', method: 'carrier-pigeon' }), [/not one of/]);
  t.same(checkRequest('/resend', 'POST', { flow: 'f' }), []);
  t.same(checkRequest('/verify', 'POST', { flow: 'f', method: 'webauthn', credential: { id: 'x', rawId: 'x', type: 'public-key', response: {} } }), [], 'a passkey answer instead of a code');
  t.same(checkRequest('/webauthn/options', 'POST', { flow: 'f' }), []);
  t.match(checkRequest('/webauthn/options', 'POST', {}), [/flow/]);
  t.same(checkResponse('/webauthn/options', 'POST', 200, 'application/json', JSON.stringify({ challenge: 'c', rpId: 'localhost', allowCredentials: [{ id: 'i', type: 'public-key' }], timeout: 60000, userVerification: 'preferred' })), []);
  t.end();
});

void t.test('checkResponse: unknown statuses, wrong content types and bodies are reported', (t) => {
  t.match(checkResponse('/login', 'POST', 418, 'application/json', '{}'), [/status 418 is not in the document/]);
  t.match(checkResponse('/login', 'POST', 401, 'text/html', '<p>'), [/not JSON/]);
  t.match(checkResponse('/login', 'POST', 401, 'application/json', '{"error":"invalid_code","request_id":"r"}'), [/not one of/]);
  t.same(checkResponse('/login', 'POST', 401, 'application/json; charset=utf-8', '{"error":"invalid_credentials","request_id":"r"}'), []);
  t.same(checkResponse('/logout', 'POST', 204, undefined, ''), []);
  t.match(checkResponse('/logout', 'POST', 204, 'application/json', '{}'), [/no body/]);
  t.throws(() => checkResponse('/nope', 'GET', 200, 'application/json', '{}'), /no GET \/nope/);
  t.end();
});

void t.test('docs/openapi.json is the served document', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const res = await new Browser(stack.url).fetch('/_gateway/api/v1/openapi.json');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.same(checkResponse('/openapi.json', 'GET', res.status, String(res.headers['content-type']), res.text), []);
  const served = res.json();
  t.same(served, JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)), 'served = src/api/openapi.ts');
  const file = JSON.parse(await readFile(DOCS_FILE, 'utf8')) as unknown;
  t.same(file, served, 'docs/openapi.json = served (regenerate it: see docs/api.md)');
});

void t.test('with another portal_prefix the served document names it in servers', async (t) => {
  const stack = await startStack({ config: { server: { listen: '127.0.0.1:0', portal_prefix: '/auth' } } });
  t.teardown(() => stack.close());
  const res = await new Browser(stack.url).fetch('/auth/api/v1/openapi.json');
  t.equal(res.status, 200);
  const doc = res.json<{ servers: Array<{ url: string }>; paths: object }>();
  t.same(doc.servers, [{ url: '/auth/api/v1' }]);
  t.same(doc.paths, JSON.parse(JSON.stringify(OPENAPI_DOCUMENT.paths)));
});
