/**
 * A tiny baseline JPEG encoder for the demo camera: greyscale, 8×8 blocks of one flat shade each
 * (DC coefficients only), standard DC Huffman table. Enough for a recognisable moving picture that
 * every browser decodes, with no image library.
 */

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** One AC symbol only: 0x00 (end of block), code `0`. */
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALS = [0];
/** Quantiser: the DC step 8 turns a block's DCT DC (8 × (mean − 128)) into mean − 128. */
const QUANT = 8;

function huffmanCodes(bits: number[], vals: number[]): Map<number, [code: number, length: number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < (bits[len - 1] as number); i++) out.set(vals[k++] as number, [code++, len]);
    code <<= 1;
  }
  return out;
}

const DC_CODES = huffmanCodes(DC_BITS, DC_VALS);

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }

  finish(): number[] {
    while (this.n !== 0) this.write(1, 1); // pad with ones
    return this.bytes;
  }
}

function segment(marker: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...payload];
}

/** Encodes a greyscale image given as one shade (0–255) per 8×8 block, `blocksX` × `blocksY` blocks. */
export function encodeBlockJpeg(blocksX: number, blocksY: number, shadeAt: (bx: number, by: number) => number): Buffer {
  const width = blocksX * 8;
  const height = blocksY * 8;
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  out.push(...segment(0xdb, [0x00, ...new Array<number>(64).fill(QUANT)]));
  out.push(...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]));
  out.push(...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALS]));
  out.push(...segment(0xc4, [0x10, ...AC_BITS, ...AC_VALS]));
  out.push(...segment(0xda, [1, 1, 0x00, 0, 63, 0]));
  const bw = new BitWriter();
  let prev = 0;
  for (let by = 0; by < blocksY; by++) {
    for (let bx = 0; bx < blocksX; bx++) {
      const dc = Math.max(0, Math.min(255, Math.round(shadeAt(bx, by)))) - 128;
      const diff = dc - prev;
      prev = dc;
      const magnitude = Math.abs(diff);
      const category = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
      const [code, length] = DC_CODES.get(category) as [number, number];
      bw.write(code, length);
      if (category > 0) bw.write(diff > 0 ? diff : diff + (1 << category) - 1, category);
      bw.write(0, 1); // AC: end of block
    }
  }
  out.push(...bw.finish(), 0xff, 0xd9);
  return Buffer.from(out);
}

/**
 * `count` frames of a 160×120 test picture, one of three scenes so each camera looks like its own: 0 a
 * grey gradient with a bright bar sweeping across, 1 a bar moving down over a reversed gradient, 2 a
 * bright block crossing a checkered "car park".
 */
export function cameraFrames(count: number, scene: 0 | 1 | 2 = 0): Buffer[] {
  const frames: Buffer[] = [];
  const bx = 20;
  const by = 15;
  for (let f = 0; f < count; f++) {
    const across = Math.floor((f * bx) / count);
    const down = Math.floor((f * by) / count);
    frames.push(
      encodeBlockJpeg(bx, by, (x, y) => {
        if (y >= 12 && y <= 13 && x >= 1 && x <= 4) return 40 + (f % 2) * 180; // blinking "recording" mark
        if (scene === 1) return y === down ? 235 : 210 - ((x + y) * 160) / (bx + by);
        if (scene === 2) {
          if (y >= 5 && y <= 8 && x >= across && x <= across + 3) return 240;
          return (x + y) % 2 === 0 ? 70 : 110;
        }
        if (x === across || x === across + 1) return 235;
        return 50 + ((x + y) * 160) / (bx + by);
      }),
    );
  }
  return frames;
}
