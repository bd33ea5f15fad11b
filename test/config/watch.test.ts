import t from 'tap';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watchFile } from '../../src/config/watch.js';

/** Resolves on the next call of the returned callback. */
function nextCall() {
  let resolve: () => void = () => {};
  let calls = 0;
  const make = () => new Promise<void>((r) => (resolve = r));
  let pending = make();
  return {
    onChange: () => {
      calls++;
      resolve();
    },
    next: async () => {
      await pending;
      pending = make();
    },
    get calls() {
      return calls;
    },
  };
}

// The watcher does not hold the process open (the gateway's listeners do); this handle does, for the tests.
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

void t.test('calls back when the file is written in place', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': 'a: 1\n' });
  const file = join(dir, 'gateway.yaml');
  const seen = nextCall();
  const stop = watchFile(file, seen.onChange, { debounceMs: 20 });
  t.teardown(stop);
  writeFileSync(file, 'a: 2\n');
  await seen.next();
  t.ok(seen.calls >= 1);
});

void t.test('calls back when an editor replaces the file by renaming over it', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': 'a: 1\n' });
  const file = join(dir, 'gateway.yaml');
  const seen = nextCall();
  const stop = watchFile(file, seen.onChange, { debounceMs: 20 });
  t.teardown(stop);
  writeFileSync(join(dir, '.gateway.yaml.swp'), 'a: 3\n');
  renameSync(join(dir, '.gateway.yaml.swp'), file);
  await seen.next();
  t.ok(seen.calls >= 1);
});

void t.test('a burst of writes is debounced into few calls, and other files are ignored', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': 'a: 1\n', 'other.txt': '' });
  const file = join(dir, 'gateway.yaml');
  const seen = nextCall();
  const stop = watchFile(file, seen.onChange, { debounceMs: 200 });
  t.teardown(stop);
  for (let i = 0; i < 20; i++) writeFileSync(file, `a: ${i}\n`);
  await seen.next();
  t.ok(seen.calls < 20, `${seen.calls} calls for 20 writes`);
});

void t.test('stop() ends the calls; a throwing callback does not end the watch', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': 'a: 1\n' });
  const file = join(dir, 'gateway.yaml');
  let calls = 0;
  let release: () => void = () => {};
  const stop = watchFile(
    file,
    () => {
      calls++;
      release();
      throw new Error('callback failure');
    },
    { debounceMs: 10 },
  );
  await new Promise<void>((r) => {
    release = r;
    writeFileSync(file, 'a: 2\n');
  });
  await new Promise<void>((r) => {
    release = r;
    writeFileSync(file, 'a: 3\n');
  });
  t.ok(calls >= 2, 'still watching after the callback threw');
  stop();
  const before = calls;
  writeFileSync(file, 'a: 4\n');
  // Give a late event a chance to arrive (not a timing assertion: nothing may arrive at all).
  await new Promise((r) => setTimeout(r, 100));
  t.equal(calls, before);
});

void t.test('watching a file in a directory that does not exist is a no-op', (t) => {
  const stop = watchFile('/nonexistent-dir-portcullis/gateway.yaml', () => t.fail('no calls'));
  stop();
  t.pass();
  t.end();
});
