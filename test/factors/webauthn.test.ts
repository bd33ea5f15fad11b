import t from 'tap';
import type { UserRecord } from '../../src/users/directory.js';
import type { PasskeyEvent } from '../../src/factors/webauthn.js';
import { factorsFor } from './helpers.js';
import { SoftAuthenticator } from './soft-authenticator.js';

const ORIGIN = 'https://gw.example.org';
const RP = 'gw.example.org';
const user = (name: string): UserRecord => ({ username: name, groups: [], disabled: false, source: 'file', displayName: name });

function setup(t: Parameters<typeof factorsFor>[0], sf: Record<string, unknown> = {}) {
  const b = factorsFor(t, { server: { public_url: ORIGIN }, second_factor: { webauthn: sf } });
  return { b, w: b.webauthn };
}

async function enrol(w: ReturnType<typeof setup>['w'], u: UserRecord, name = 'Laptop') {
  const auth = new SoftAuthenticator();
  const opts = (await w.creationOptions(u))!;
  const added = await w.finishRegistration(u.username, name, auth.register({ challenge: opts.challenge, origin: ORIGIN, rpId: RP }));
  return { auth, added, opts };
}

void t.test('registration: options, a real none-attestation response, the passkey kept under the user', async (t) => {
  const { b, w } = setup(t);
  const alice = user('alice');
  const { auth, added, opts } = await enrol(w, alice);
  t.equal(opts.rp.id, RP);
  t.equal(opts.rp.name, 'Portcullis');
  t.equal(opts.attestation, 'none');
  t.match(added, { id: auth.credentialId, name: 'Laptop', createdAt: b.clock.now() });
  t.same((await w.list('alice')).map((p) => p.name), ['Laptop']);
  t.match(await w.enrolled(alice), { type: 'webauthn', kind: 'secret' });
  const raw = await b.store.get('webauthn:alice');
  t.ok(raw?.startsWith('v1.'), 'sealed at rest');
  t.notOk(raw?.includes(auth.credentialId), 'no plain credential id in the store');
});

void t.test('registration refused: wrong origin, wrong RP ID, replayed, no pending challenge, junk', async (t) => {
  const { w } = setup(t);
  const alice = user('alice');
  const a = new SoftAuthenticator();
  let o = (await w.creationOptions(alice))!;
  t.equal(await w.finishRegistration('alice', 'x', a.register({ challenge: o.challenge, origin: 'https://evil.example', rpId: RP })), undefined, 'wrong origin');
  o = (await w.creationOptions(alice))!;
  t.equal(await w.finishRegistration('alice', 'x', a.register({ challenge: o.challenge, origin: ORIGIN, rpId: 'evil.example' })), undefined, 'wrong RP ID');
  o = (await w.creationOptions(alice))!;
  const good = a.register({ challenge: o.challenge, origin: ORIGIN, rpId: RP });
  t.equal(await w.finishRegistration('bob', 'x', good), undefined, "another user's challenge");
  o = (await w.creationOptions(alice))!;
  const good2 = a.register({ challenge: o.challenge, origin: ORIGIN, rpId: RP });
  t.ok(await w.finishRegistration('alice', 'x', good2));
  t.equal(await w.finishRegistration('alice', 'y', good2), undefined, 'replayed (challenge used)');
  for (const junk of [null, 'x', {}, { id: 1 }, []]) t.equal(await w.finishRegistration('alice', 'j', junk), undefined);
  t.equal((await w.list('alice')).length, 1);
});

void t.test('authentication: once per challenge; replay, wrong origin, wrong RP ID, other user, expiry refused', async (t) => {
  const { b, w } = setup(t, { timeout: '60s' });
  const alice = user('alice');
  const bob = user('bob');
  const { auth } = await enrol(w, alice);
  const { auth: bobAuth } = await enrol(w, bob, 'Phone');

  let o = (await w.requestOptions('flow-1', 'alice'))!;
  t.same(o.allowCredentials?.map((c) => c.id), [auth.credentialId]);
  const ok = JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP }));
  t.same(await w.verify('flow-1', 'alice', ok), { result: 'ok' });
  t.not((await w.verify('flow-1', 'alice', ok)).result, 'ok', 'replayed assertion');
  t.ok((await w.list('alice'))[0]!.lastUsedAt !== undefined, 'last used recorded');

  o = (await w.requestOptions('flow-2', 'alice'))!;
  t.equal((await w.verify('flow-2', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: 'https://evil.example', rpId: RP })))).result, 'invalid', 'wrong origin');
  o = (await w.requestOptions('flow-3', 'alice'))!;
  t.equal((await w.verify('flow-3', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: 'evil.example' })))).result, 'invalid', 'wrong RP ID');
  o = (await w.requestOptions('flow-4', 'alice'))!;
  t.equal((await w.verify('flow-4', 'alice', JSON.stringify(bobAuth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP })))).result, 'invalid', "bob's passkey on alice's step");
  o = (await w.requestOptions('flow-5', 'alice'))!;
  t.equal((await w.verify('flow-5', 'bob', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP })))).result, 'invalid', "alice's challenge for bob");
  o = (await w.requestOptions('flow-6', 'alice'))!;
  b.clock.advance(61_000);
  t.equal((await w.verify('flow-6', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP })))).result, 'expired', 'challenge expired with timeout');
  t.equal((await w.verify('flow-none', 'alice', ok)).result, 'expired', 'no challenge');
  t.equal(await w.requestOptions('flow-7', 'carol'), undefined, 'no passkey: no options');
});

void t.test('a signature counter going backwards is refused and reported', async (t) => {
  const events: PasskeyEvent[] = [];
  const b = factorsFor(t, { server: { public_url: ORIGIN } });
  // the same store and keys, with a listener
  const { WebAuthnFactor } = await import('../../src/factors/webauthn.js');
  const { Keyring } = await import('../../src/keys/keyring.js');
  const w = new WebAuthnFactor(b.store, () => b.config.second_factor.webauthn, () => ORIGIN, new Keyring(['k'.repeat(40)]).atRest('webauthn'), b.clock, (e) => events.push(e));
  const alice = user('alice');
  const { auth } = await enrol(w, alice);
  let o = (await w.requestOptions('f1', 'alice'))!;
  t.equal((await w.verify('f1', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP, counter: 10 })))).result, 'ok');
  o = (await w.requestOptions('f2', 'alice'))!;
  t.equal((await w.verify('f2', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP, counter: 5 })))).result, 'invalid', 'clone with a lower counter');
  t.match(events, [{ event: 'webauthn_counter_regressed', user: 'alice', credentialId: auth.credentialId, stored: 10 }]);
  o = (await w.requestOptions('f3', 'alice'))!;
  t.equal((await w.verify('f3', 'alice', JSON.stringify(auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP, counter: 11 })))).result, 'ok', 'the real one goes on');
});

void t.test('several passkeys: rename, remove one, remove all; bounded names', async (t) => {
  const { b, w } = setup(t);
  const alice = user('alice');
  const one = await enrol(w, alice, 'One');
  const two = await enrol(w, alice, '  Two\u0000\n ');
  t.same((await w.list('alice')).map((p) => p.name), ['One', 'Two']);
  t.ok(await w.rename('alice', one.auth.credentialId, 'x'.repeat(500)));
  t.equal((await w.list('alice'))[0]!.name.length, 64);
  t.notOk(await w.rename('alice', one.auth.credentialId, '   '), 'empty name refused');
  t.notOk(await w.rename('bob', one.auth.credentialId, 'mine'), "not another user's");
  t.ok(await w.removeOne('alice', two.auth.credentialId));
  t.notOk(await w.removeOne('alice', two.auth.credentialId));
  t.same((await w.list('alice')).map((p) => p.id), [one.auth.credentialId]);
  const o = (await w.requestOptions('f', 'alice'))!;
  t.equal((await w.verify('f', 'alice', JSON.stringify(two.auth.assert({ challenge: o.challenge, origin: ORIGIN, rpId: RP })))).result, 'invalid', 'a removed passkey no longer works');
  await b.registry.reset('alice');
  t.same(await w.list('alice'), [], 'users reset-2fa removes them');
});

void t.test('rp_id from config; an origin outside it gets no options; a tampered record counts as none', async (t) => {
  const { b, w } = setup(t, { rp_id: 'example.org', rp_name: 'ACME' });
  const alice = user('alice');
  const o = (await w.creationOptions(alice))!;
  t.equal(o.rp.id, 'example.org');
  t.equal(o.rp.name, 'ACME');
  t.equal(await w.creationOptions(alice, { origin: 'https://evil.example' }), undefined);
  t.equal(await w.creationOptions(alice, { origin: 'not a url' }), undefined);
  const a = new SoftAuthenticator();
  t.ok(await w.finishRegistration('alice', 'k', a.register({ challenge: o.challenge, origin: ORIGIN, rpId: 'example.org' })));
  await b.store.set('webauthn:alice', 'v1.AAAA.BBBB.CCCC', 0);
  t.same(await w.list('alice'), []);
  t.equal(await w.enrolled(alice), undefined);
});
