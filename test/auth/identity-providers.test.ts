import t from 'tap';
import { readClaims, showsMfa } from '../../src/auth/identity-providers.js';

const claimsConfig = { claims: { username: 'preferred_username', email: 'email', display_name: 'name', groups: 'groups', phone: 'phone_number' } };

void t.test('mapped claims are read with care: shapes, verified flags, group lists', (t) => {
  const read = (claims: Record<string, unknown>) => readClaims(claimsConfig, { claims });
  t.same(read({ preferred_username: 'alice', name: 'Alice A', email: 'alice@example.com', phone_number: '+4915112345678', groups: ['a', 'b', 'a'] }), {
    username: 'alice',
    displayName: 'Alice A',
    email: 'alice@example.com',
    phone: '+4915112345678',
    groups: ['a', 'b'],
  });
  t.same(read({ preferred_username: 'alice', email: 'alice@example.com', email_verified: false, phone_number: '+4915112345678', phone_number_verified: false }), { username: 'alice', groups: [] }, 'unverified addresses are dropped');
  t.same(read({ preferred_username: 'alice', email: 'not-an-address', phone_number: '0151 1234', groups: 'single' }), { username: 'alice', groups: ['single'] });
  t.same(read({ preferred_username: 'has space', groups: [1, null, 'ok', 'bad\u0000'] }), { groups: ['ok'] }, 'a user name with a space is not one');
  t.same(read({ preferred_username: 12345 }), { username: '12345', groups: [] }, 'a numeric user name');
  t.same(read({ preferred_username: 'x'.repeat(257) }), { groups: [] });
  t.equal(read({ groups: Array.from({ length: 400 }, (_, i) => `g${i}`) }).groups.length, 256, 'at most 256 groups');
  t.same(readClaims({ claims: { ...claimsConfig.claims, username: 'upn', email: 'mail' } }, { claims: { upn: 'a@b.c', mail: 'a@b.c', mail_verified: false } }), { username: 'a@b.c', groups: [] });
  t.end();
});

void t.test('MFA at the provider: amr mfa/otp/hwk/swk/fido, or an acr the operator lists', (t) => {
  const cfg = { mfa_acr_values: ['urn:mfa', '2'] };
  for (const v of ['mfa', 'otp', 'hwk', 'swk', 'fido']) t.ok(showsMfa(cfg, { amr: ['pwd', v] }), v);
  t.notOk(showsMfa(cfg, { amr: ['pwd'] }));
  t.notOk(showsMfa(cfg, { amr: [] }));
  t.notOk(showsMfa(cfg, { amr: ['pwd', 'sms'] }), 'sms alone is not in the list');
  t.ok(showsMfa(cfg, { amr: ['pwd'], acr: '2' }));
  t.notOk(showsMfa(cfg, { amr: ['pwd'], acr: '1' }));
  t.notOk(showsMfa({ mfa_acr_values: [] }, { amr: [], acr: 'urn:mfa' }));
  t.end();
});
