import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, PortcullisError, isPortcullisError } from '../../src/errors/index.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

t.test('every code is named PORTCULLIS_ERR_*, has an HTTP status and a message a user may see', async (t) => {
  for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
    t.match(code, /^PORTCULLIS_ERR_[A-Z_]+$/);
    t.ok(status >= 400 && status <= 599, `${code} status`);
    t.ok(message.length > 3 && !/stack|exception|undefined/i.test(message), `${code} message`);
  }
});

t.test('every code the source raises is declared here (no typo can reach a client)', async (t) => {
  const used = new Set<string>();
  for (const file of sources(join(process.cwd(), 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/PORTCULLIS_ERR_[A-Z_]+/g)) used.add(m[0]);
  }
  t.ok(used.size > 10);
  for (const code of used) t.ok(code in ERROR_CODES, code);
});

t.test('PortcullisError carries its code, status, safe details and cause', async (t) => {
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
});
