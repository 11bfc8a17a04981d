// A streaming bzip2 decoder. Typed arrays throughout: Huffman decoding with limit/base/perm tables,
// move-to-front, the inverse Burrows-Wheeler transform over one Int32Array, then the final run-length
// stage with the block CRC checked, so corrupt data is an error and never wrong bytes. Memory per stream:
// one block (at most 900 000 symbols, 3.6 MB of tables) plus the compressed bytes of one block.
// Format: https://sourceware.org/bzip2/ (the reference decoder's decompress.c), and
// Joe Tsai's "bzip2 format specification".

import { Pacer } from '../pace.js';
import { scanError } from './errors.js';

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const EOS_MAGIC_HI = 0x177245;
const EOS_MAGIC_LO = 0x385090;
const MAX_GROUPS = 6;
const GROUP_SIZE = 50;
const MAX_ALPHA = 258;
const MAX_CODE_LEN = 20;
const MAX_SELECTORS = 32768;

/** Thrown by the bit reader when the buffered input ends inside a block; the block is retried later. */
const NEED_MORE = Symbol('need more input');

function corrupt(message: string) {
  return scanError('TruncatedInput', `Invalid BZIP2 data: ${message}.`);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c;
  }
  return t;
})();

class BitReader {
  data = new Uint8Array(0);
  end = 0;
  pos = 0; // next byte
  bitBuf = 0;
  bitCount = 0;

  /** Up to 24 bits, most significant first. */
  bits(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.end) throw NEED_MORE;
      this.bitBuf = (this.bitBuf << 8) | this.data[this.pos++];
      this.bitCount += 8;
    }
    this.bitCount -= n;
    return (this.bitBuf >>> this.bitCount) & ((1 << n) - 1);
  }

  bit(): number {
    if (this.bitCount === 0) {
      if (this.pos >= this.end) throw NEED_MORE;
      this.bitBuf = this.data[this.pos++];
      this.bitCount = 8;
    }
    this.bitCount--;
    return (this.bitBuf >>> this.bitCount) & 1;
  }

  save(): [number, number, number] {
    return [this.pos, this.bitBuf, this.bitCount];
  }

  restore(s: [number, number, number]): void {
    [this.pos, this.bitBuf, this.bitCount] = s;
  }

  alignToByte(): void {
    this.bitCount = 0;
  }

  /** Appends input, dropping the bytes before `keepFrom` (<= pos; positions shift accordingly). */
  append(chunk: Uint8Array, keepFrom: number): void {
    const rest = this.end - keepFrom;
    const next = new Uint8Array(rest + chunk.length);
    next.set(this.data.subarray(keepFrom, this.end), 0);
    next.set(chunk, rest);
    this.data = next;
    this.end = next.length;
    this.pos -= keepFrom;
  }
}

/** Per-stream working memory, reused block after block. */
class BlockDecoder {
  private readonly tt: Int32Array;
  private readonly selectors = new Uint8Array(MAX_SELECTORS);
  private readonly limit = new Int32Array(MAX_GROUPS * 24);
  private readonly base = new Int32Array(MAX_GROUPS * 24);
  private readonly perm = new Int32Array(MAX_GROUPS * MAX_ALPHA);
  private readonly minLens = new Int32Array(MAX_GROUPS);
  private readonly lens = new Uint8Array(MAX_ALPHA);
  private readonly seqToUnseq = new Uint8Array(256);
  private readonly mtf = new Uint8Array(256);
  private readonly counts = new Int32Array(256);

  constructor(readonly maxBlock: number) {
    this.tt = new Int32Array(maxBlock);
  }

  /** Builds the decode tables of group g from this.lens (the reference decoder's hbCreateDecodeTables). */
  private tables(g: number, alphaSize: number): void {
    let minLen = 32;
    let maxLen = 0;
    for (let i = 0; i < alphaSize; i++) {
      if (this.lens[i] > maxLen) maxLen = this.lens[i];
      if (this.lens[i] < minLen) minLen = this.lens[i];
    }
    const o = g * 24;
    const p = g * MAX_ALPHA;
    let pp = 0;
    for (let len = minLen; len <= maxLen; len++)
      for (let s = 0; s < alphaSize; s++) if (this.lens[s] === len) this.perm[p + pp++] = s;
    const base = this.base;
    const limit = this.limit;
    base.fill(0, o, o + 24);
    limit.fill(0, o, o + 24);
    for (let s = 0; s < alphaSize; s++) base[o + this.lens[s] + 1]++;
    for (let i = 1; i < 24; i++) base[o + i] += base[o + i - 1];
    let vec = 0;
    for (let len = minLen; len <= maxLen; len++) {
      vec += base[o + len + 1] - base[o + len];
      limit[o + len] = vec - 1;
      vec <<= 1;
    }
    for (let len = minLen + 1; len <= maxLen; len++) base[o + len] = ((limit[o + len - 1] + 1) << 1) - base[o + len];
    for (let len = maxLen + 1; len < 24; len++) limit[o + len] = 0x7fffffff; // unused lengths never match
    this.minLens[g] = minLen;
  }

  /**
   * Decodes one block (after its magic) and returns its bytes after the final run-length stage.
   * Throws NEED_MORE when the input ends inside the block.
   */
  decode(br: BitReader): Uint8Array[] {
    if (br.bit()) throw corrupt('randomised blocks are not supported');
    const origPtr = br.bits(24);
    // Symbol map: which byte values occur.
    const used16 = br.bits(16);
    let nInUse = 0;
    for (let i = 0; i < 16; i++) {
      if (used16 & (0x8000 >> i)) {
        const v = br.bits(16);
        for (let j = 0; j < 16; j++) if (v & (0x8000 >> j)) this.seqToUnseq[nInUse++] = i * 16 + j;
      }
    }
    if (nInUse === 0) throw corrupt('a block uses no symbols');
    const alphaSize = nInUse + 2;
    const nGroups = br.bits(3);
    if (nGroups < 2 || nGroups > MAX_GROUPS) throw corrupt('bad number of Huffman groups');
    const nSelectors = br.bits(15);
    if (nSelectors < 1) throw corrupt('no selectors');
    // Selectors, move-to-front coded in unary.
    const pos = [0, 1, 2, 3, 4, 5];
    for (let i = 0; i < nSelectors; i++) {
      let j = 0;
      while (br.bit()) if (++j >= nGroups) throw corrupt('bad selector');
      const v = pos[j];
      for (; j > 0; j--) pos[j] = pos[j - 1];
      pos[0] = v;
      this.selectors[i] = v;
    }
    // Code lengths, delta coded.
    for (let g = 0; g < nGroups; g++) {
      let len = br.bits(5);
      for (let s = 0; s < alphaSize; s++) {
        for (;;) {
          if (len < 1 || len > MAX_CODE_LEN) throw corrupt('bad code length');
          if (!br.bit()) break;
          len += br.bit() ? -1 : 1;
        }
        this.lens[s] = len;
      }
      this.tables(g, alphaSize);
    }

    // Huffman + RUNA/RUNB + move-to-front into tt (low byte = symbol).
    const { tt, mtf, counts, seqToUnseq, limit, base, perm, minLens, maxBlock } = this;
    for (let i = 0; i < 256; i++) mtf[i] = i;
    counts.fill(0);
    const EOB = nInUse + 1;
    let nblock = 0;
    let groupNo = -1;
    let groupPos = 0;
    let o = 0;
    let p = 0;
    let minLen = 0;
    let runLength = 0;
    let runWeight = 1;
    for (;;) {
      if (groupPos === 0) {
        if (++groupNo >= nSelectors) throw corrupt('ran out of selectors');
        groupPos = GROUP_SIZE;
        const g = this.selectors[groupNo];
        if (g >= nGroups) throw corrupt('bad selector');
        o = g * 24;
        p = g * MAX_ALPHA;
        minLen = minLens[g];
      }
      groupPos--;
      let zn = minLen;
      let zvec = br.bits(zn);
      while (zvec > limit[o + zn]) {
        if (++zn > MAX_CODE_LEN) throw corrupt('bad Huffman code');
        zvec = (zvec << 1) | br.bit();
      }
      const idx = zvec - base[o + zn];
      if (idx < 0 || idx >= alphaSize) throw corrupt('bad Huffman code');
      const sym = perm[p + idx];
      if (sym <= 1) {
        // RUNA / RUNB: a bijective base-2 run length of the front symbol.
        runLength += (sym + 1) * runWeight;
        runWeight <<= 1;
        if (runLength > maxBlock) throw corrupt('run longer than the block');
        continue;
      }
      if (runLength > 0) {
        const uc = seqToUnseq[mtf[0]];
        if (nblock + runLength > maxBlock) throw corrupt('block longer than declared');
        counts[uc] += runLength;
        tt.fill(uc, nblock, nblock + runLength);
        nblock += runLength;
        runLength = 0;
        runWeight = 1;
      }
      if (sym === EOB) break;
      const nn = sym - 1;
      const v = mtf[nn];
      if (nn < 16) for (let j = nn; j > 0; j--) mtf[j] = mtf[j - 1];
      else mtf.copyWithin(1, 0, nn);
      mtf[0] = v;
      const uc = seqToUnseq[v];
      if (nblock >= maxBlock) throw corrupt('block longer than declared');
      counts[uc]++;
      tt[nblock++] = uc;
    }
    if (origPtr >= nblock) throw corrupt('bad BWT origin');

    // Inverse BWT: tt[i] high bits = index of the next byte.
    let sum = 0;
    const cftab = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      cftab[i] = sum;
      sum += counts[i];
    }
    for (let i = 0; i < nblock; i++) {
      const uc = tt[i] & 0xff;
      tt[cftab[uc]++] |= i << 8;
    }
    return this.unrle(nblock, tt[origPtr] >>> 8);
  }

  /**
   * Walks the BWT chain, undoing the initial run-length stage (4 equal bytes + a count), into pieces of at
   * most a block's size: runs grow the output up to 46 MB, written piece by piece rather than copied over
   * into ever larger buffers. The CRC is checked by the caller (checkBlockCrc).
   */
  private unrle(nblock: number, start: number): Uint8Array[] {
    const tt = this.tt;
    const pieces: Uint8Array[] = [];
    const size = Math.max(nblock, 1);
    let out = new Uint8Array(size);
    let n = 0;
    let tPos = start;
    let last = -1;
    let run = 0;
    const full = () => {
      pieces.push(out);
      out = new Uint8Array(size);
      n = 0;
    };
    for (let k = 0; k < nblock; k++) {
      const e = tt[tPos];
      const ch = e & 0xff;
      tPos = e >>> 8;
      if (run === 4) {
        // ch is a repeat count for `last`.
        for (let left = ch; left > 0; ) {
          if (n === size) full();
          const m = Math.min(left, size - n);
          out.fill(last, n, n + m);
          n += m;
          left -= m;
        }
        run = 0;
        continue;
      }
      if (ch === last) run++;
      else {
        last = ch;
        run = 1;
      }
      if (n === size) full();
      out[n++] = ch;
    }
    pieces.push(out.subarray(0, n));
    return pieces;
  }
}

/**
 * Checks a block's CRC before any of its bytes go out. A block of runs decodes to up to 46 MB (900,000
 * symbols, a run of 4 + 255 bytes per 5), whose CRC alone took 250 to 850 ms at once: it is computed a MiB at
 * a time, and the event loop gets a turn between slices once the pacer's slice is used up.
 */
async function checkBlockCrc(pieces: Uint8Array[], blockCrc: number, pacer: Pacer): Promise<void> {
  let crc = -1;
  for (const out of pieces) {
    for (let from = 0; from < out.length; from += CRC_SLICE) {
      if (pacer.due()) await pacer.pause();
      const to = Math.min(out.length, from + CRC_SLICE);
      for (let i = from; i < to; i++) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ out[i]) & 0xff];
    }
  }
  if (~crc >>> 0 !== blockCrc >>> 0) throw corrupt('block CRC mismatch');
}

const CRC_SLICE = 1 << 20;

/** Decompresses a bzip2 byte stream (one or more concatenated streams). */
export async function* bunzip2(input: AsyncIterable<Uint8Array>, pacer = new Pacer()): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const br = new BitReader();
  let ended = false;
  const more = async (keepFrom: number): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    br.append(r.value, keepFrom);
    return true;
  };
  try {
    let decoder: BlockDecoder | undefined;
    let streams = 0;
    for (;;) {
      // Stream header "BZh1".."BZh9", byte aligned.
      while (br.end - br.pos < 4 && (await more(br.pos)));
      if (br.end - br.pos === 0 && streams > 0) return;
      if (br.end - br.pos < 4) throw corrupt('truncated stream header');
      const d = br.data;
      const q = br.pos;
      if (d[q] !== 0x42 || d[q + 1] !== 0x5a || d[q + 2] !== 0x68 || d[q + 3] < 0x31 || d[q + 3] > 0x39) {
        throw streams === 0
          ? scanError('InvalidCompressionFormat', 'The object is not BZIP2 compressed.')
          : corrupt('garbage after the end of a stream');
      }
      const level = d[q + 3] - 0x30;
      br.pos += 4;
      br.bitCount = 0;
      if (!decoder || decoder.maxBlock !== level * 100000) decoder = new BlockDecoder(level * 100000);
      let combined = 0;
      for (;;) {
        // One block (or the end-of-stream marker); retried from its start when the input runs out.
        const saved = br.save();
        let pieces: Uint8Array[] | 'eos';
        let blockCrc = 0;
        try {
          const hi = br.bits(24);
          const lo = br.bits(24);
          const crc = ((br.bits(16) << 16) | br.bits(16)) >>> 0;
          if (hi === EOS_MAGIC_HI && lo === EOS_MAGIC_LO) {
            if (crc !== combined >>> 0) throw corrupt('stream CRC mismatch');
            pieces = 'eos';
          } else if (hi === BLOCK_MAGIC_HI && lo === BLOCK_MAGIC_LO) {
            pieces = decoder.decode(br);
            blockCrc = crc;
            combined = ((combined << 1) | (combined >>> 31)) ^ crc;
          } else {
            throw corrupt('bad block magic');
          }
        } catch (e) {
          if (e !== NEED_MORE) throw e;
          br.restore(saved);
          // Buffer at least twice what this attempt had before retrying, so a block is retried O(log n) times.
          const want = Math.max(64 * 1024, 2 * (br.end - br.pos));
          let got = false;
          while (br.end - br.pos < want && (await more(br.pos))) got = true;
          if (!got) throw corrupt('the data ends inside a block');
          continue;
        }
        if (pieces === 'eos') break;
        await checkBlockCrc(pieces, blockCrc, pacer);
        for (const piece of pieces) if (piece.length) yield piece;
      }
      br.alignToByte();
      streams++;
    }
  } finally {
    await it.return?.();
  }
}
