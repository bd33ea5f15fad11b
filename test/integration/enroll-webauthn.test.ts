import t from 'tap';
import { Browser } from '../fixtures/browser.js';
import { checkResponse } from '../fixtures/openapi.js';
import { startStack, type TestUser } from '../fixtures/gateway.js';
import { SoftAuthenticator } from '../factors/soft-authenticator.js';
import { passwordStep, shownRecoveryCodes } from './enroll-helpers.js';

const USERS: Record<string, TestUser> = {
  alice: { password: 'alice-password-1', display_name: 'Alice Operator', email: 'alice@example.com', groups: ['operators'] },
};

function shownOptions(html: string): { challenge: string; rp: { id: string } } {
  const m = /data-webauthn-options="([^"]*)"/.exec(html);
  if (!m) throw new Error('no options on the page');
  const json = m[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(json) as { challenge: string; rp: { id: string } };
}

void t.test('forced passkey enrolment: the page carries the options, a real registration response enrols, a forged one does not', async (t) => {
  const stack = await startStack({ users: USERS, config: { second_factor: { methods: ['webauthn', 'recovery_code'] } } });
  t.teardown(() => stack.close());
  const b = new Browser(stack.url);
  const origin = new URL(stack.url).origin;
  const rd = '/cameras';

  const posted = await passwordStep(b, 'alice', 'alice-password-1', rd);
  const choice = await b.get(posted.location!);
  t.equal(choice.location, `/_gateway/enroll/webauthn?rd=${encodeURIComponent(rd)}`, 'the only method: straight to it');
  const page = await b.get(choice.location!);
  t.equal(page.status, 200);
  const options = shownOptions(page.text);
  t.equal(options.rp.id, new URL(stack.url).hostname, 'rp_id defaults to the portal host');

  const auth = new SoftAuthenticator();
  const noCsrf = await b.post('/_gateway/enroll/webauthn', { name: 'Laptop', credential: JSON.stringify(auth.register({ challenge: options.challenge, origin, rpId: options.rp.id })), rd });
  t.equal(noCsrf.status, 403, 'missing CSRF token');
  await b.get(choice.location!);
  const again = shownOptions((await b.get(choice.location!)).text);
  options.challenge = again.challenge;

  const evil = await b.post('/_gateway/enroll/webauthn', { name: 'Laptop', credential: JSON.stringify(auth.register({ challenge: options.challenge, origin: 'https://evil.example', rpId: options.rp.id })), csrf: b.csrf(), rd });
  t.equal(evil.status, 400, 'wrong origin refused');
  const junk = await b.post('/_gateway/enroll/webauthn', { name: 'Laptop', credential: '{not json', csrf: b.csrf(), rd });
  t.equal(junk.status, 400, 'junk refused');
  t.same(await stack.gateway.gateway.core.factors.get('webauthn')!.enrolled({ username: 'alice', groups: [], disabled: false, source: 'file' }, await stack.gateway.gateway.core.factors.state.get('alice')), undefined);

  const fresh = shownOptions(junk.text);
  const done = await b.post('/_gateway/enroll/webauthn', { name: 'Laptop', credential: JSON.stringify(auth.register({ challenge: fresh.challenge, origin, rpId: fresh.rp.id })), csrf: b.csrf(), rd });
  t.equal(done.status, 200, 'the recovery codes page');
  t.equal(shownRecoveryCodes(done.text).length, 10);
  t.ok(stack.logs.audits('factor_enrolled').some((l) => l.user === 'alice' && l.method === 'webauthn' && l.result === 'success'));
  t.ok(stack.logs.audits('enrolment').some((l) => l.reason === 'invalid_credential'));
  const app = await b.get(rd);
  t.equal(app.status, 200, 'reaches the app');

  // Next visit: password, then the passkey.
  const next = new Browser(stack.url);
  const signedIn = await passwordStep(next, 'alice', 'alice-password-1', rd);
  t.match(signedIn.location, /\/_gateway\/verify/, 'the second step');
  const verify = await next.get(signedIn.location!);
  t.equal(verify.status, 200);
  const req = shownOptions(verify.text) as unknown as { challenge: string; rpId: string; allowCredentials: Array<{ id: string }> };
  t.same(req.allowCredentials.map((c) => c.id), [auth.credentialId], "alice's passkey is offered");
  const wrong = await next.post('/_gateway/verify', { method: 'webauthn', credential: JSON.stringify(auth.assert({ challenge: req.challenge, origin: 'https://evil.example', rpId: req.rpId })), csrf: next.csrf(), rd });
  t.equal(wrong.status, 303);
  t.equal((await next.get(rd)).status, 302, 'a wrong origin does not complete the step');
  const page2 = await next.get(signedIn.location!);
  const req2 = shownOptions(page2.text) as unknown as { challenge: string; rpId: string };
  const assertion = JSON.stringify(auth.assert({ challenge: req2.challenge, origin, rpId: req2.rpId }));
  const ok = await next.post('/_gateway/verify', { method: 'webauthn', credential: assertion, csrf: next.csrf(), rd });
  t.equal(ok.status, 303);
  t.equal(ok.location, rd);
  const reached = await next.get(rd);
  t.equal(reached.status, 200, 'signed in with password and passkey');
  t.equal(reached.json<{ headers: Record<string, string> }>().headers['remote-user'], 'alice');
  t.ok(stack.logs.audits('second_factor').some((l) => l.user === 'alice' && l.method === 'webauthn' && l.result === 'success'));

  // A mobile client through the JSON API: login, options for the flow, the assertion as `credential`.
  const api = new Browser(stack.url);
  const login = await api.json('/_gateway/api/v1/login', { username: 'alice', password: 'alice-password-1' });
  const flow = login.json<{ flow: string; method: string }>().flow;
  const noFlow = await api.json('/_gateway/api/v1/webauthn/options', { flow: 'nope' });
  t.not(noFlow.status, 200, 'an unknown flow gets no options');
  t.same(checkResponse('/webauthn/options', 'POST', noFlow.status, String(noFlow.headers['content-type']), noFlow.text), [], 'the refusal is as documented');
  const opts = await api.json('/_gateway/api/v1/webauthn/options', { flow });
  t.equal(opts.status, 200);
  t.same(checkResponse('/webauthn/options', 'POST', 200, String(opts.headers['content-type']), opts.text), [], 'the options are as documented (docs/openapi.json)');
  const ro = opts.json<{ challenge: string; rpId: string }>();
  const other = await api.json('/_gateway/api/v1/verify', { flow, method: 'webauthn', credential: auth.assert({ challenge: ro.challenge, origin, rpId: 'evil.example' }) });
  t.equal(other.status, 401, 'wrong RP ID refused');
  const good = await api.json('/_gateway/api/v1/verify', { flow, method: 'webauthn', credential: auth.assert({ challenge: ro.challenge, origin, rpId: ro.rpId }) });
  t.equal(good.status, 200, 'the API step completes with the passkey');
  const replay = await api.json('/_gateway/api/v1/verify', { flow, method: 'webauthn', credential: auth.assert({ challenge: ro.challenge, origin, rpId: ro.rpId }) });
  t.not(replay.status, 200, 'the challenge worked once');
});

