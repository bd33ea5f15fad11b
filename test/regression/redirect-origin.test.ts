/**
 * Regression (issue 12 item 3): after signing in on http://127.0.0.1:18080 (its public_url),
 * `rd=http://127.0.0.1:9999/steal` was followed — the check compared host names, not origins. Only
 * origins the gateway serves (scheme, host and port of a public_url, or of a configured host in the
 * request's scheme and port) are honoured now; the rest falls back to portal.default_redirect.
 */
import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { startStack } from '../fixtures/gateway.js';
import { freePort } from '../fixtures/redis.js';

void t.test('rd is honoured only for a served origin after a real sign-in', async (t) => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const stack = await startStack({
    config: {
      server: { listen: `127.0.0.1:${port}`, public_url: origin },
      portal: { default_redirect: '/home' },
    },
  });
  t.teardown(() => stack.close());
  t.equal(stack.url, origin);

  const signIn = async (rd: string): Promise<string | undefined> => {
    const b = new Browser(stack.url);
    const page = await b.get(`/_gateway/login?rd=${encodeURIComponent(rd)}`);
    t.equal(page.status, 200);
    const posted = await b.post('/_gateway/login', { username: 'svc', password: 'svc-password-1', csrf: b.csrf(), rd });
    t.equal(posted.status, 303, `signed in (rd ${rd})`);
    return posted.location;
  };

  const refused = [
    'http://127.0.0.1:9999/steal',
    'https://127.0.0.1:9999/steal',
    `https://127.0.0.1:${port}/steal`,
    'http://127.0.0.1/steal',
    'http://localhost:9999/steal',
    `http://localhost:${port}/steal`,
    `http://127.0.0.1:${port}@evil.example/`,
    '//evil.example/',
    '/\\evil.example/',
    'javascript:alert(1)',
  ];
  for (const rd of refused) t.equal(await signIn(rd), '/home', `${rd} falls back`);
  t.equal(await signIn(`${origin}/cameras?x=1`), `${origin}/cameras?x=1`, 'the public_url origin is honoured');
  t.equal(await signIn('/cameras/2'), '/cameras/2', 'a relative path is honoured');
});
