import t from 'tap';
import { FrameBoundary, closeFrame } from '../../src/proxy/ws-frames.js';

/** A server-to-client frame (unmasked) with `len` payload bytes, using the 7-, 16- or 64-bit length form. */
function frame(len: number, opcode = 0x2): Buffer {
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLen(len)]);
  return Buffer.concat([head, Buffer.alloc(len, 0x61)]);
}
function bigLen(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
function masked(len: number): Buffer {
  return Buffer.concat([Buffer.from([0x81, 0x80 | len, 1, 2, 3, 4]), Buffer.alloc(len, 0x62)]);
}

void t.test('follows frame boundaries across every length form and any chunking', (t) => {
  const stream = Buffer.concat([frame(0), frame(5), frame(300), frame(70_000), masked(10), frame(0, 0x9)]);
  for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
    const b = new FrameBoundary();
    const boundaries: number[] = [];
    for (let at = 0; at < stream.length; at += size) {
      const chunk = stream.subarray(at, at + size);
      let off = 0;
      while (off < chunk.length) {
        const n = b.advanceToBoundary(chunk.subarray(off));
        if (n === undefined) break;
        off += n;
        boundaries.push(at + off);
      }
    }
    t.same(boundaries, [2, 9, 313, 70_323, 70_339, 70_341], `chunks of ${size}: a boundary after each frame and nowhere else`);
    t.ok(b.atBoundary);
  }
  t.end();
});

void t.test('mid-frame is not a boundary; feed() consumes everything', (t) => {
  const b = new FrameBoundary();
  t.ok(b.atBoundary, 'nothing seen: a boundary');
  const f = frame(300);
  b.feed(f.subarray(0, 1));
  t.notOk(b.atBoundary, 'half a header');
  b.feed(f.subarray(1, 100));
  t.notOk(b.atBoundary, 'inside the payload');
  t.equal(b.advanceToBoundary(f.subarray(100, 200)), undefined, 'not finished in this chunk');
  t.equal(b.advanceToBoundary(Buffer.concat([f.subarray(200), frame(1)])), 104, 'finishes 104 bytes in');
  t.ok(b.atBoundary);
  t.end();
});

void t.test('the close frame: FIN + close opcode, unmasked, the code, a reason of at most 123 bytes', (t) => {
  const f = closeFrame(1008, 'session ended');
  t.equal(f[0], 0x88);
  t.equal(f[1], 2 + 'session ended'.length);
  t.equal(f.readUInt16BE(2), 1008);
  t.equal(f.subarray(4).toString(), 'session ended');
  t.equal(closeFrame(1008, 'x'.repeat(500)).length, 4 + 123, 'a control frame payload stays within 125 bytes');
  t.end();
});
