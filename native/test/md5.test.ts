// MD5 of many uploads at once against node:crypto: states updated in one call (one to twenty of them, so
// more than the eight AVX2 lanes), inputs of random lengths (around the 64-byte block) cut in pieces at
// random places, several calls in a row carrying the states; and Md5Lanes gathering concurrent uploads'
// updates into shared calls.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5Lanes, md5State, md5StateDigest, md5Update, md5UpdateAsync } from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('md5Update', () => {
  const rnd = seededRandom();
  const lengths = [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 65_537];
  const randomLength = () => (rnd.next() < 0.8 ? lengths[rnd.int(0, lengths.length)] : rnd.int(0, 300_000));

  /** `data` cut into 1-4 pieces (some empty). */
  function cut(data: Buffer): Buffer[] {
    const at = Array.from({ length: rnd.int(0, 4) }, () => rnd.int(0, data.length + 1)).sort((a, b) => a - b);
    const bounds = [0, ...at, data.length];
    return bounds.slice(1).map((end, i) => data.subarray(bounds[i], end));
  }

  it('equals node:crypto for any number of states, lengths and cuts, over several calls', async () => {
    for (let round = 0; round < 25; round++) {
      const n = rnd.int(1, 21);
      const states = Array.from({ length: n }, () => md5State());
      const seen = states.map(() => [] as Buffer[]);
      for (let call = 0; call < 4; call++) {
        const inputs = states.map(() => rnd.bytes(randomLength()));
        const cuts = inputs.map(cut);
        inputs.forEach((b, i) => seen[i].push(b));
        const args = [states, cuts.flat(), cuts.map((c) => c.length)] as const;
        if (call % 2) await md5UpdateAsync(...args);
        else md5Update(...args);
      }
      states.forEach((s, i) => expect(md5StateDigest(s).toString('hex')).toBe(md5(Buffer.concat(seen[i]))));
    }
  });

  it('equals node:crypto for two to four uploads at every block edge, lanes ending apart', () => {
    // Two and three live lanes run as interleaved scalar streams, four or more in AVX2 lanes, one alone the
    // scalar code: lengths at the block edges (with 0-63 bytes carried from an earlier call) make the lanes
    // drop out at different blocks, so each count of live lanes meets every other on the way down.
    const edges = [0, 1, 63, 64, 65, 128, 191, 256, 1000];
    const carried = [0, 1, 63];
    for (const n of [2, 3, 4]) {
      for (let k = 0; k < edges.length ** 2; k++) {
        // Every pair of edges for the first two lanes; the others walk the edges at other strides.
        const e = edges.length;
        const lens = [edges[k % e], edges[Math.floor(k / e)], edges[(7 * k) % e], edges[(5 * k + 3) % e]].slice(0, n);
        const states = lens.map(() => md5State());
        const first = lens.map((_, j) => rnd.bytes(carried[(k + j) % carried.length]));
        md5Update(
          states,
          first,
          first.map(() => 1),
        );
        const second = lens.map((len) => rnd.bytes(len));
        md5Update(
          states,
          second,
          second.map(() => 1),
        );
        states.forEach((s, j) =>
          expect(md5StateDigest(s).toString('hex'), `lanes ${n}, lengths ${lens}`).toBe(
            md5(Buffer.concat([first[j], second[j]])),
          ),
        );
      }
    }
  });

  it('equals node:crypto for lanes whose pieces end at different blocks (runs of whole blocks read in place)', () => {
    // Each lane's input as many pieces of random lengths, from under a block to many blocks, at odd offsets:
    // the whole blocks all live lanes still have in their current pieces are hashed as one run, so the runs
    // end wherever the shortest lane's piece ends, and blocks across piece edges are gathered in between.
    const pieceLength = () => (rnd.next() < 0.3 ? rnd.int(0, 130) : rnd.int(130, 20_000));
    for (const n of [1, 2, 3, 4, 5, 8, 9]) {
      for (let round = 0; round < 6; round++) {
        const inputs = Array.from({ length: n }, () => {
          const pieces: Buffer[] = [];
          for (let total = rnd.int(0, 120_000), at = 0; at < total; ) {
            const p = rnd.bytes(Math.min(total - at, pieceLength()) + 1).subarray(1); // odd byte offsets
            pieces.push(p);
            at += Math.max(p.length, 1);
          }
          return pieces;
        });
        const states = inputs.map(() => md5State());
        md5Update(
          states,
          inputs.flat(),
          inputs.map((p) => p.length),
        );
        states.forEach((s, j) =>
          expect(md5StateDigest(s).toString('hex'), `lanes ${n}, lane ${j}`).toBe(md5(Buffer.concat(inputs[j]))),
        );
      }
    }
  });

  it('a digest leaves the state going on', () => {
    const s = md5State();
    const [a, b] = [rnd.bytes(100), rnd.bytes(1000)];
    md5Update([s], [a], [1]);
    expect(md5StateDigest(s).toString('hex')).toBe(md5(a));
    md5Update([s], [b], [1]);
    expect(md5StateDigest(s).toString('hex')).toBe(md5(Buffer.concat([a, b])));
  });

  it('refuses what is not a state, and counts that do not match the pieces', () => {
    const s = md5State();
    expect(() => md5Update([Buffer.alloc(10)], [Buffer.alloc(1)], [1])).toThrow(/not an MD5 state/);
    expect(() => md5Update([s], [Buffer.alloc(1)], [2])).toThrow(/piece count/);
    expect(() => md5StateDigest(Buffer.alloc(92, 0xff))).toThrow(/not an MD5 state/);
  });
});

describe('Md5Lanes', () => {
  it('hashes concurrent uploads in shared calls, each upload its blocks in order', async () => {
    const rnd = seededRandom();
    const lanes = new Md5Lanes(8, 1);
    const uploads = Array.from({ length: 12 }, () => ({ state: md5State(), blocks: [] as Buffer[] }));
    await Promise.all(
      uploads.map(async (u) => {
        for (let k = 0; k < 5; k++) {
          const block = rnd.bytes(rnd.int(0, 200_000));
          u.blocks.push(block);
          await lanes.update(u.state, [block.subarray(0, 7), block.subarray(7)]);
        }
      }),
    );
    for (const u of uploads) expect(md5StateDigest(u.state).toString('hex')).toBe(md5(Buffer.concat(u.blocks)));
    expect(lanes.updates).toBe(60);
    expect(lanes.calls).toBeLessThan(30); // twelve uploads at a time share calls of up to eight
  });
});
