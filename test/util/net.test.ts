import t from 'tap';
import { isLoopbackHost } from '../../src/util/net.js';

void t.test('loopback host names: localhost, 127.0.0.0/8, ::1 (as URL.hostname writes them)', (t) => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]', '::1', '[0:0:0:0:0:0:0:1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['example.com', 'localhost.example.com', '127.0.0.1.nip.io', '10.0.0.1', '128.0.0.1', '[::2]', '::', '0.0.0.0', '', '[fe80::1]']) t.notOk(isLoopbackHost(h), h);
  t.ok(isLoopbackHost(new URL('http://[::1]:8080/').hostname));
  t.end();
});
