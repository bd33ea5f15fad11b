import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, PortcullisError, isPortcullisError, publicDetails, wireCode } from '../../src/errors/index.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

void t.test('every code is named PORTCULLIS_ERR_*, has an HTTP status and a message a user may see', (t) => {
  for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
    t.match(code, /^PORTCULLIS_ERR_[A-Z_]+$/);
    t.ok(status >= 400 && status <= 599, `${code} status`);
    t.ok(message.length > 3 && !/stack|exception|undefined/i.test(message), `${code} message`);
  }
  t.end();
});

void t.test('every code the source raises is declared here (no typo can reach a client)', (t) => {
  const used = new Set<string>();
  for (const file of sources(join(process.cwd(), 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/PORTCULLIS_ERR_[A-Z_]+/g)) used.add(m[0]);
  }
  t.ok(used.size > 10);
  for (const code of used) t.ok(code in ERROR_CODES, code);
  t.end();
});

void t.test('PortcullisError carries its code, status, safe details and cause', (t) => {
  const cause = new Error('redis said no');
  const err = new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { cause, details: { retry_after: 30 } });
  t.equal(err.status, 429);
  t.equal(err.message, ERROR_CODES.PORTCULLIS_ERR_RATE_LIMITED.message);
  t.equal(err.details.retry_after, 30);
  t.equal(err.cause, cause);
  t.ok(Object.isFrozen(err.details));
  t.ok(isPortcullisError(err));
  t.ok(isPortcullisError(err, 'PORTCULLIS_ERR_RATE_LIMITED'));
  t.notOk(isPortcullisError(err, 'PORTCULLIS_ERR_LOCKED'));
  t.notOk(isPortcullisError(cause));
  t.end();
});

void t.test('the wire code is derived from the code, in one place', (t) => {
  t.equal(wireCode('PORTCULLIS_ERR_RATE_LIMITED'), 'rate_limited');
  t.equal(wireCode('PORTCULLIS_ERR_INVALID_CREDENTIALS'), 'invalid_credentials');
  for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) t.match(wireCode(code), /^[a-z_]+$/, code);
  t.end();
});

void t.test('only the declared detail fields reach a client', (t) => {
  const e = new PortcullisError('PORTCULLIS_ERR_RATE_LIMITED', undefined, { details: { retry_after: 30, user: 'alice', internal: 'x' } });
  t.same(publicDetails(e), { retry_after: 30 });
  t.same(publicDetails(new PortcullisError('PORTCULLIS_ERR_DELIVERY_FAILED', undefined, { details: { reason: 'api_error', channel: 'sms' } })), {}, 'a delivery failure names no provider detail');
  t.same(publicDetails(new PortcullisError('PORTCULLIS_ERR_INVALID_CODE', undefined, { details: { attempts_left: 2 } })), { attempts_left: 2 });
  t.end();
});
