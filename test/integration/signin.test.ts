import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack, type Stack } from '../fixtures/gateway.js';

function lastCode(stack: Stack, to: string): string {
  const outbox = stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === to);
  const text = outbox[outbox.length - 1]?.text ?? '';
  const m = /\b([0-9]{6})\b/.exec(text);
  if (!m) throw new Error(`no code in the outbox for ${to}`);
  return m[1]!;
}

void t.test('browser sign-in with an emailed code reaches the upstream with identity headers', async (t) => {
  const stack = await startStack({ config: { second_factor: { assignments: [{ group: 'operators', method: 'email' }] } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);

  const first = await b.get('/cameras?x=1');
  t.equal(first.status, 302);
  t.match(first.location, /^\/_gateway\/login\?rd=/);
  t.equal(stack.upstream.seen.length, 0, 'nothing reached the upstream');

  const login = await b.get(first.location!);
  t.equal(login.status, 200);
  const rd = decodeURIComponent(/rd=([^&]+)/.exec(first.location!)![1]!);
  const posted = await b.post('/_gateway/login', { username: 'alice', password: 'alice-password-1', csrf: b.csrf(), rd });
  t.equal(posted.status, 303);
  t.match(posted.location, /^\/_gateway\/verify/);

  const verify = await b.get(posted.location!);
  t.equal(verify.status, 200);
  t.match(verify.text, /a\*\*\*@example\.com/);
  const protectedBefore = await b.get('/cameras');
  t.equal(protectedBefore.status, 302, 'one factor is not enough');
  t.match(protectedBefore.location, /\/_gateway\/verify/);

  const code = lastCode(stack, 'alice@example.com');
  const done = await b.post('/_gateway/verify', { code, csrf: b.csrf(), rd });
  t.equal(done.status, 303);
  t.equal(done.location, rd);

  const page = await b.get('/cameras?x=1');
  t.equal(page.status, 200);
  const seen = page.json<{ url: string; headers: Record<string, string> }>();
  t.equal(seen.url, '/cameras?x=1');
  t.equal(seen.headers['remote-user'], 'alice');
  t.equal(seen.headers['remote-groups'], 'operators');
  t.equal(seen.headers['remote-email'], 'alice@example.com');
  t.equal(seen.headers['remote-name'], 'Alice Operator');
  t.notMatch(seen.headers.cookie ?? '', /portcullis_session/, 'session cookie never forwarded');

  const nonDev = stack.logs.lines.filter((l) => l.dev_delivery !== true).map((l) => JSON.stringify(l)).join('\n');
  t.notMatch(nonDev, new RegExp(code), 'the code is only in the dev delivery line');

  await b.get('/_gateway/account');
  const out = await b.post('/_gateway/logout', { csrf: b.csrf() });
  t.equal(out.status, 303);
  const after = await b.get('/cameras');
  t.equal(after.status, 302, 'signed out');
});
