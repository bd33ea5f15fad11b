import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack } from '../fixtures/gateway.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, slapdAvailable, startSlapd } from '../fixtures/slapd.js';

if (!slapdAvailable()) {
  t.plan(0, 'slapd, ldap-utils or openssl not installed');
} else {
  void t.test('directory users sign in through the gateway: groups, email and the code from the directory; a dead directory means no access', async (t) => {
    const slapd = await startSlapd();
    t.teardown(() => slapd.stop());
    const stack = await startStack({
      config: {
        users: {
          file: undefined,
          ldap: {
            url: slapd.url,
            bind_dn: SERVICE_DN,
            bind_password: SERVICE_PASSWORD,
            base_dn: BASE_DN,
            group_filter: '(&(objectClass=groupOfNames)(member={dn}))',
            group_base_dn: `ou=groups,${BASE_DN}`,
            timeout: '2s',
          },
        },
        second_factor: { assignments: [{ group: 'operators', method: 'email' }] },
      },
    });
    t.teardown(() => stack.close());

    const b = new Browser(stack.url);
    await b.get('/_gateway/login');
    const wrong = await b.post('/_gateway/login', { username: 'alice', password: 'nope', csrf: b.csrf(), rd: '/' });
    t.equal(wrong.status, 401);
    const posted = await b.post('/_gateway/login', { username: 'alice', password: 'alice-ldap-pw', csrf: b.csrf(), rd: '/cams' });
    t.equal(posted.status, 303);
    await b.get(posted.location!);
    const mail = stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === 'alice@example.com').pop();
    t.ok(mail, 'the code went to the directory email (an operator group member gets email)');
    const code = /\b(\d{6})\b/.exec(mail!.text)![1]!;
    const done = await b.post('/_gateway/verify', { code, csrf: b.csrf(), rd: '/cams' });
    t.equal(done.status, 303);
    const page = await b.get('/cams');
    t.equal(page.status, 200);
    const h = page.json<{ headers: Record<string, string> }>().headers;
    t.equal(h['remote-user'], 'alice');
    t.same(h['remote-groups']!.split(',').sort(), ['operators', 'viewers']);
    t.equal(h['remote-email'], 'alice@example.com');
    t.equal(h['remote-name'], 'Alice Operator');

    await slapd.kill();
    const other = new Browser(stack.url);
    await other.get('/_gateway/login');
    const down = await other.post('/_gateway/login', { username: 'bob', password: 'bob-ldap-pw', csrf: other.csrf(), rd: '/' });
    t.equal(down.status, 503, 'directory down: a clear failure, never a pass');
    t.notOk(other.cookies.has('portcullis_session'));

    await slapd.start();
    let status = 0;
    for (let i = 0; i < 40 && status !== 303; i++) {
      await other.get('/_gateway/login');
      status = (await other.post('/_gateway/login', { username: 'bob', password: 'bob-ldap-pw', csrf: other.csrf(), rd: '/' })).status;
      if (status !== 303) await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(status, 303, 'recovers when the directory is back');
  });
}
