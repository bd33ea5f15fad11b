import t from 'tap';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { UserDirectory, UserRecord } from '../../src/users/directory.js';
import { claimsNamespace, ExternalUserDirectory, ExternalUsers, externalUsername, isExternalUser } from '../../src/users/external.js';
import { PasswordVerifier, hashPassword } from '../../src/users/password.js';
import { ManualClock } from '../../src/util/clock.js';

const carla: UserRecord = { username: 'entra:carla', displayName: 'Carla', email: 'carla@example.com', groups: ['vms-admins'], disabled: false, source: 'idp:entra' };

void t.test('claims users are kept in the store under their provider-qualified name, for a while', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const users = new ExternalUsers(store);
  t.equal(externalUsername('entra', 'carla'), 'entra:carla');
  t.ok(isExternalUser(carla));
  t.notOk(isExternalUser({ source: 'file' }));
  await users.save(carla, 60_000);
  t.same(await users.get('entra:carla'), carla);
  t.equal(await users.get('entra:nobody'), null);
  t.equal(await users.get(''), null);
  await t.rejects(users.save({ ...carla, source: 'file' }, 60_000), TypeError, 'only provider users');
  await store.set('idp-user:h:garbage', 'not json', 0);
  clock.advance(60_001);
  t.equal(await users.get('entra:carla'), null, 'gone when its lifetime ends (each sign-in restarts it)');
  await users.save(carla, 60_000);
  await users.save({ ...carla, groups: ['viewers'] }, 60_000);
  t.same((await users.get('entra:carla'))?.groups, ['viewers'], 'the latest claims win');
});

void t.test('the directory with provider users beside it: owned names from the store, never a password; others from the directories', async (t) => {
  const store = new MemoryStore(new ManualClock());
  const external = new ExternalUsers(store);
  await external.save(carla, 60_000);
  const hash = await hashPassword('right-password', 'scrypt');
  const fileUsers: Record<string, UserRecord> = {
    alice: { username: 'alice', groups: ['operators'], disabled: false, source: 'file' },
    'entra:carla': { username: 'entra:carla', groups: ['file-group'], disabled: false, source: 'file' },
  };
  const verifier = new PasswordVerifier({ concurrency: 1, queue: 8 });
  const calls: string[] = [];
  const inner: UserDirectory = {
    name: 'file',
    async authenticate(username, password) {
      calls.push(`auth:${username}`);
      return fileUsers[username] && (await verifier.verify(hash, password)) ? fileUsers[username] : null;
    },
    lookup: (username) => Promise.resolve(fileUsers[username] ?? null),
    check: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const dir = new ExternalUserDirectory(inner, external, claimsNamespace(['entra']), verifier);
  t.same(await dir.lookup('entra:carla'), carla, 'a provider user from the store, not the file entry of the same name');
  t.equal(await dir.lookup('entra:nobody'), null);
  t.same(await dir.lookup('alice'), fileUsers.alice, 'everyone else from the directories');
  t.equal(await dir.lookup('other:alice'), null, 'a name of no claims provider goes to the directories');
  t.same(await dir.verify('entra:carla', 'right-password'), { status: 'unknown' }, 'no local password for a provider user');
  t.notOk(calls.includes('auth:entra:carla'), 'the directories are not asked');
  t.match(await dir.verify('alice', 'right-password'), { status: 'ok', user: { username: 'alice' } });
  t.match(await dir.verify('alice', 'wrong'), { status: 'rejected' });
  t.equal(await dir.authenticate('entra:carla', 'right-password'), null);
  const owns = claimsNamespace(['entra', 'kc']);
  t.ok(owns('kc:bob'));
  t.notOk(owns('bob'));
  t.notOk(owns(':bob'));
  t.notOk(owns('google:bob'));
});
