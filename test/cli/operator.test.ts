/**
 * `portcullis sessions ...` as child processes against a real redis-server shared with a running gateway:
 * what the commands do is seen by the gateway at once. Usage and store errors of both commands.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET } from '../fixtures/gateway.js';
import { freePort, redisAvailable } from '../fixtures/redis.js';
import { audits, inProcess, reachesApp, run, sentToLogin, setUp, signIn, until } from './operator-helpers.js';

if (!redisAvailable()) {
  t.plan(0, 'redis-server is not installed');
} else {
  void t.test('sessions list and revoke --id, --user, --all: the running gateway drops the sessions', async (t) => {
    const { stack, config } = await setUp(t);
    const cfg = await config('gateway.yaml');
    const one = await signIn(stack, 'svc', 'svc-password-1');
    const two = await signIn(stack, 'svc', 'svc-password-1');
    const alice = await signIn(stack, 'alice', 'alice-password-1');
    t.equal(one.status, 303);
    t.equal(one.location, '/');
    t.equal(alice.location?.startsWith('/_gateway/verify'), true, 'alice is half-way: one factor');
    t.ok(await reachesApp(one.b));
    t.ok(await reachesApp(two.b));

    const listed = await run(['sessions', 'list', '--config', cfg]);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^REF\s+USER\s+LEVEL\s+IP\s+CREATED\s+EXPIRES$/);
    t.equal(lines.length, 4, 'a header and three sessions');
    t.equal(lines.filter((l) => /^[0-9a-f]{12}\s+svc\s+two_factor\s+127\.0\.0\.1\s/.test(l)).length, 2);
    t.equal(lines.filter((l) => /^[0-9a-f]{12}\s+alice\s+one_factor\s/.test(l)).length, 1);

    const json = await run(['sessions', 'list', '--user', 'svc', '--json'], { PORTCULLIS_CONFIG: cfg });
    t.equal(json.code, 0, json.stderr);
    const svc = JSON.parse(json.stdout) as Array<{ ref: string; user: string; level: string; ip: string; factors: string[] }>;
    t.equal(svc.length, 2);
    t.ok(svc.every((s) => s.user === 'svc' && s.level === 'two_factor' && s.ip === '127.0.0.1' && /^[0-9a-f]{64}$/.test(s.ref)));
    t.notMatch(json.stdout, /csrf|deviceId/, 'no secrets in the listing');

    // End the first browser's session by a short reference.
    const firstRef = (await stack.gateway.gateway.core.sessions.get(one.b.cookies.get('portcullis_session')))!.ref;
    t.ok(svc.some((s) => s.ref === firstRef), 'listed by its reference');
    const byId = await run(['sessions', 'revoke', '--id', firstRef.slice(0, 12), '--config', cfg]);
    t.equal(byId.code, 0, byId.stderr);
    t.match(byId.stdout, /^ended 1 session \([0-9a-f]{12} of svc\)\n$/);
    t.match(audits(byId.stderr)[0], { event: 'sessions_revoked', user: 'svc', result: 'success', reason: 'id', client_ip: 'cli' });
    t.ok(await until(() => sentToLogin(one.b)), 'the revoked browser is sent to the login page');
    t.ok(await reachesApp(two.b), 'the other session of the same user still works');

    const byUser = await run(['sessions', '--config', cfg, 'revoke', '--user', 'svc']);
    t.equal(byUser.code, 0, byUser.stderr);
    t.equal(byUser.stdout, 'ended 1 session of svc\n');
    t.ok(await until(() => sentToLogin(two.b)));

    const again = await run(['sessions', 'revoke', '--id', firstRef, '--config', cfg]);
    t.equal(again.code, 1, 'an ended session cannot be ended twice');
    t.match(again.stderr, /no session with reference/);

    const all = await run(['sessions', 'revoke', '--all', '--config', cfg]);
    t.equal(all.code, 0, all.stderr);
    t.equal(all.stdout, 'ended 1 session\n');
    const empty = await run(['sessions', 'list', '--config', cfg]);
    t.equal(empty.stdout, 'no sessions\n');
    const verify = await alice.b.get('/_gateway/verify');
    t.match(verify.location, /^\/_gateway\/login/, 'the half-signed-in browser starts again');
  });

  void t.test('usage and config errors exit 2, an unreachable store exits 1', async (t) => {
    const { config, stack } = await setUp(t);
    const cfg = await config('gateway.yaml');
    // Two as child processes for the exit code; the rest in-process (the same runCli the binary runs).
    const children = await Promise.all([run(['sessions', 'revoke', '--config', cfg]), run(['users', 'frobnicate', 'alice', '--config', cfg])]);
    for (const u of children) {
      t.equal(u.code, 2, u.stderr);
      t.equal(u.stdout, '');
      t.match(u.stderr, /^portcullis (sessions|users): .+\n\nUsage:\n/);
    }
    const lines: string[][] = [
      ['sessions'],
      ['sessions', 'kill'],
      ['sessions', 'revoke', '--all', '--user', 'x'],
      ['sessions', 'revoke', '--id', 'nothex'],
      ['sessions', 'list', '--bogus'],
      ['sessions', 'list', 'extra'],
      ['users'],
      ['users', 'unlock'],
      ['users', 'unlock', 'alice', 'bob'],
      ['users', 'devices', 'alice', '--revoke', 'abc', '--all'],
      ['users', 'invite', 'alice', '--all'],
    ];
    for (const line of lines) {
      const r = await inProcess([...line, '--config', cfg]);
      t.equal(r.code, 2, line.join(' '));
      t.equal(r.stdout, '');
      t.match(r.stderr, /^portcullis (sessions|users): .+\n\nUsage:\n/);
    }

    const badFile = join(stack.dir, 'bad.yaml');
    await writeFile(badFile, 'session:\n  secret: short\n');
    const bad = await run(['users', 'unlock', 'alice', '--config', badFile]);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /bad\.yaml:2:11 session\.secret: must be at least 32 bytes/);

    const memory = await config('memory.yaml', { session: { store: 'memory', secret: SECRET } });
    const mem = await inProcess(['sessions', 'list', '--config', memory]);
    t.equal(mem.code, 2);
    t.match(mem.stderr, /session\.store is 'memory'/);

    const closed = await freePort();
    const down = await config('down.yaml', { session: { store: 'redis', secret: SECRET, redis: { url: `redis://127.0.0.1:${closed}/0`, connect_timeout: '1s' } } });
    const results = [await run(['sessions', 'list', '--config', down]), await inProcess(['users', 'unlock', 'alice', '--config', down]), await inProcess(['sessions', 'revoke', '--all', '--config', down])];
    for (const r of results) {
      t.equal(r.code, 1);
      t.equal(r.stdout, '');
      const out = r.stderr.trimEnd().split('\n');
      t.equal(out.length, 1, 'one line');
      t.match(out[0], new RegExp(`^portcullis (sessions list|users unlock|sessions revoke): cannot reach the session store at redis://127\\.0\\.0\\.1:${closed}/0: `));
    }
  });
}
