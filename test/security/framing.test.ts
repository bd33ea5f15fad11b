/**
 * Adversarial table: HTTP/1.1 framing over raw sockets (issue 12) — CL+TE, duplicate Content-Length,
 * odd Transfer-Encoding (`chunked, identity`, `xchunked`, tab, case, repeated), bare LF, chunk
 * extensions, oversized chunk sizes, obs-fold and other malformed header lines — at the built-in proxy,
 * the portal, the JSON API and forward-auth, and WebSocket upgrades (pipelined bytes, `h2c`). Each payload hides a second request (`GET /public/smuggled`)
 * where a wrong reading of the framing would find it.
 *
 * Asserted with a real upstream counting what it receives: a smuggled request never reaches it, and no
 * exchange makes it see more than the one request the client sent. Ambiguous framings (the RFC 9112
 * "MUST reject" cases) are answered 400 and the connection is closed, with no second answer.
 */
import t from 'tap';
import { startStack } from '../fixtures/gateway.js';
import { HOST, rawExchange } from './tables.js';

const SMUGGLED = `GET /public/smuggled HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`;

interface Row {
  name: string;
  /** The head's framing headers (CRLF-terminated lines, or as given) and the body that follows the head. */
  framing: string;
  body: string;
  /**
   * `head`: a malformed head (RFC 9112 "MUST reject"): 400, one answer, connection closed. `close`: the
   * body's framing breaks after the request began: the connection is closed (no answer, or one), nothing
   * more is read from it. false: well-formed.
   */
  reject: 'head' | 'close' | false;
  /** The line ending of the head (bare LF rows). */
  eol?: string;
}

const chunked = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;

const ROWS: Row[] = [
  { name: 'CL + TE (CL first): the CL body ends before the smuggled request', framing: `Content-Length: 5\r\nTransfer-Encoding: chunked\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE + CL (TE first)', framing: `Transfer-Encoding: chunked\r\nContent-Length: 200\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'CL + TE where the chunked body ends early', framing: `Content-Length: ${(`0\r\n\r\n${SMUGGLED}`).length}\r\nTransfer-Encoding: chunked\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'duplicate Content-Length, different values', framing: `Content-Length: 5\r\nContent-Length: ${5 + SMUGGLED.length}\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'duplicate Content-Length, same values', framing: `Content-Length: 5\r\nContent-Length: 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length list "5, 5"', framing: `Content-Length: 5, 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length "+5"', framing: `Content-Length: +5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length "-1"', framing: `Content-Length: -1\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length "0x5"', framing: `Content-Length: 0x5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length "5 5"', framing: `Content-Length: 5 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'Content-Length overflowing 64 bits', framing: `Content-Length: 99999999999999999999999\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'TE "chunked, identity" (chunked not last)', framing: `Transfer-Encoding: chunked, identity\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE "identity, chunked" with CL', framing: `Transfer-Encoding: identity, chunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE "xchunked"', framing: `Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE "chunkedx"', framing: `Transfer-Encoding: chunkedx\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'TE "chunked" twice in two headers', framing: `Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE "identity" then TE "chunked" with CL', framing: `Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE with a space before the colon', framing: `Transfer-Encoding : chunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE name with a tab before the colon', framing: `Transfer-Encoding\t: chunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE value "\\vchunked" (vertical tab)', framing: `Transfer-Encoding: \x0bchunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'TE with obs-fold: "identity" folded onto "chunked"', framing: `Transfer-Encoding: identity\r\n chunked\r\nContent-Length: 5\r\n`, body: `0\r\n\r\n${SMUGGLED}`, reject: 'head' },
  { name: 'obs-fold on an ordinary header', framing: `X-Note: a\r\n\tb\r\nContent-Length: 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'header line without a colon', framing: `Content-Length 5\r\nContent-Length: 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'NUL in a header value', framing: `X-Note: a\0b\r\nContent-Length: 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'bare CR inside a header line', framing: `X-Note: a\rContent-Length: 99\r\nContent-Length: 5\r\n`, body: `hello${SMUGGLED}`, reject: 'head' },
  { name: 'oversized chunk size (overflow)', framing: `Transfer-Encoding: chunked\r\n`, body: `ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk size "0x5"', framing: `Transfer-Encoding: chunked\r\n`, body: `0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk size with a leading space', framing: `Transfer-Encoding: chunked\r\n`, body: ` 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk size "-1"', framing: `Transfer-Encoding: chunked\r\n`, body: `-1\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk data longer than its size', framing: `Transfer-Encoding: chunked\r\n`, body: `3\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk without its CRLF', framing: `Transfer-Encoding: chunked\r\n`, body: `5\r\nhello0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'bare LF after a chunk size', framing: `Transfer-Encoding: chunked\r\n`, body: `5\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'chunk extension with a bare LF', framing: `Transfer-Encoding: chunked\r\n`, body: `5;ext=1\nhello\r\n0\r\n\r\n${SMUGGLED}`, reject: 'close' },
  { name: 'bare LF line endings in the head', framing: `Content-Length: 5\n`, body: `hello${SMUGGLED}`, reject: 'head', eol: '\n' },
  // Well-formed framings: accepted, with the would-be request inside the body, never parsed as one.
  { name: 'chunk extensions (valid): the smuggled text is body', framing: `Transfer-Encoding: chunked\r\n`, body: `${SMUGGLED.length.toString(16)};name=value;quoted="a;b"\r\n${SMUGGLED}\r\n0;last\r\n\r\n`, reject: false },
  { name: 'TE "CHUNKED" (case is not significant)', framing: `Transfer-Encoding: CHUNKED\r\n`, body: chunked(SMUGGLED), reject: false },
  { name: 'TE after a tab (OWS)', framing: `Transfer-Encoding:\tchunked\r\n`, body: chunked(SMUGGLED), reject: false },
  { name: 'CL covering the smuggled text', framing: `Content-Length: ${SMUGGLED.length}\r\n`, body: SMUGGLED, reject: false },
  { name: 'chunked with a trailer', framing: `Transfer-Encoding: chunked\r\n`, body: `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\nX-Trailer: 1\r\n\r\n`, reject: false },
];

type Entrance = 'proxy' | 'portal' | 'api' | 'authz';
const TARGETS: Record<Entrance, { line: string; extra: string }> = {
  proxy: { line: 'POST /public/form HTTP/1.1', extra: `Host: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n` },
  portal: { line: 'POST /_gateway/login HTTP/1.1', extra: `Host: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n` },
  api: { line: 'POST /_gateway/api/v1/login HTTP/1.1', extra: `Host: ${HOST}\r\nContent-Type: application/json\r\n` },
  authz: { line: 'POST /_gateway/authz HTTP/1.1', extra: `Host: 127.0.0.1\r\nX-Original-URL: http://${HOST}/public/x\r\nX-Original-Method: POST\r\n` },
};

void t.test('HTTP framing: a smuggled request never reaches the upstream', async (t) => {
  const stack = await startStack({
    config: {
      server: { listen: '127.0.0.1:0', trusted_proxies: ['127.0.0.1/32'] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/public', '/ws'], policy: 'bypass' }] },
    },
  });
  t.teardown(() => stack.close());
  const smuggledSeen = () => stack.upstream.seen.filter((r) => r.url.includes('smuggled')).length;

  for (const row of ROWS) {
    await t.test(row.name, async (t) => {
      const before = stack.upstream.seen.length;
      const answers = await Promise.all(
        (Object.keys(TARGETS) as Entrance[]).map(async (entrance) => {
          const { line, extra } = TARGETS[entrance];
          const eol = row.eol ?? '\r\n';
          const head = `${line}${eol}${extra.replace(/\r\n/g, eol)}${row.framing}${eol}`;
          return [entrance, await rawExchange(stack.url, Buffer.from(head + row.body, 'latin1'), { waitMs: 1500 })] as const;
        }),
      );
      for (const [entrance, a] of answers) {
        if (row.reject === 'head') {
          t.equal(a.status, 400, `${entrance}: 400`);
          t.equal(a.statuses.length, 1, `${entrance}: one answer only`);
          t.ok(a.closed, `${entrance}: the connection is closed`);
        } else if (row.reject === 'close') {
          t.ok(a.closed, `${entrance}: the connection is closed (${a.status || 'no answer'})`);
          // forward-auth answers without reading the body; the broken chunk after it then gets a 400.
          t.ok(a.statuses.slice(1).every((s) => s === 400), `${entrance}: nothing but a 400 after the first answer (${a.statuses.join(', ')})`);
        } else {
          t.not(a.status, 0, `${entrance}: answered (${a.status})`);
          t.equal(a.statuses.length, 1, `${entrance}: one answer only (the body was not read as a request)`);
        }
      }
      t.equal(smuggledSeen(), 0, 'no smuggled request reached the upstream');
      const reached = stack.upstream.seen.length - before;
      t.ok(reached <= (row.reject === 'head' ? 0 : 1), `the upstream saw ${reached} request(s): at most the proxy's one`);
      if (!row.reject) {
        const last = stack.upstream.seen.at(-1);
        t.equal(last?.url, '/public/form', 'the request the upstream saw is the one sent');
      }
    });
  }

  await t.test('WebSocket upgrades: bytes after the handshake are never read as a request', async (t) => {
    const upgrade = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://${HOST}\r\n${extra}`;
    const rows: Array<[string, string, (status: number) => boolean]> = [
      ['a request pipelined after an accepted upgrade', `${upgrade('/ws')}\r\n${SMUGGLED}`, (s) => s === 101],
      ['a request pipelined after an upgrade the upstream refuses', `${upgrade('/public/not-a-socket')}\r\n${SMUGGLED}`, (s) => s >= 400],
      ['an upgrade with a Content-Length covering a request', `${upgrade('/public/not-a-socket', `Content-Length: ${SMUGGLED.length}\r\n`)}\r\n${SMUGGLED}`, (s) => s >= 400],
      ['an upgrade with CL + TE', `${upgrade('/ws', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')}\r\n0\r\n\r\n${SMUGGLED}`, (s) => s === 400],
      ['h2c upgrade (a tunnel past the gateway)', `GET /public/x HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n${SMUGGLED}`, (s) => s !== 101],
      ['two upgrade tokens, websocket last', `GET /ws HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n${SMUGGLED}`, (s) => s !== 101],
    ];
    for (const [name, payload, expected] of rows) {
      const a = await rawExchange(stack.url, Buffer.from(payload, 'latin1'), { waitMs: 1500 });
      t.ok(expected(a.status), `${name}: ${a.status}`);
      t.equal(a.statuses.filter((s) => s === 200).length, 0, `${name}: no second answer from the smuggled request`);
    }
    t.equal(smuggledSeen(), 0, 'no smuggled request reached the upstream');
  });

  await t.test('control: a pipelined second request on a well-framed connection is answered (the check can see one)', async (t) => {
    const first = `POST /public/form HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\n\r\nhello`;
    const a = await rawExchange(stack.url, Buffer.from(first + SMUGGLED.replace('smuggled', 'second'), 'latin1'), { waitMs: 3000 });
    t.same(a.statuses, [200, 200]);
    t.ok(stack.upstream.seen.some((r) => r.url === '/public/second'), 'a real second request does reach the upstream');
  });
});
