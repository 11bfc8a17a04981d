// HighwayHash against the test vectors published by github.com/minio/highwayhash (highwayhash_test.go):
// key 00 01 .. 1f, vector i is the hash of the i bytes 00 01 .. (i-1). 64-bit sums as little-endian bytes.
import { describe, expect, it } from 'vitest';
import { highwayHash, highwayHashAsync, type HighwayBits } from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const INPUT = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

// A selection of minio/highwayhash's testVectors64/128/256: [input length, expected hex].
const V64: [number, string][] = [
  [0, '536ec222de567a90'],
  [1, '78ddcdc7aa43ab7e'],
  [2, '623db5b09a56d0b8'],
  [7, '8294f53817ae024d'],
  [8, '71315fe5085120e1'],
  [15, '3bf349a4863f7940'],
  [16, '32b87ef98934abcf'],
  [31, '685a03cf7c00c79f'],
  [32, 'fc80d5ecd964c9a0'],
  [33, 'fc8131a03cf7902c'],
  [63, 'a03921bfe9eb8eab'],
  [64, 'ffa6d24c5d2c5475'],
];
const V128: [number, string][] = [
  [0, 'c7fe8f9d8f26ed0f6f3e097f765e5633'],
  [1, 'a8e7813689a8b0d6b4dc9cebf91d29dc'],
  [3, 'eb0b5f291b62070679ddced90f9ae6bf'],
  [16, 'ad01a4d5ff604441c8189f01d5a39e02'],
  [31, '297ca5e865b4e70646d4f5073a5e4152'],
  [32, 'aa4a43c166df8419b9e4b3f95819fc16'],
  [33, '6cc3c6e0af7816119d84a2e59db558f9'],
  [64, 'f2c4d498711fbb98c88f91de7105bce0'],
];
const V256: [number, string][] = [
  [0, 'f574c8c22a4844dd1f35c713730146d9ff1487b9ccbeaeb3f41d75453123da41'],
  [1, '54825fe4bc41b9ed0fc6ca3def440de2474a32cb9b1b657284e475b24c627320'],
  [2, '54e4af24dff9df3f73e80a1b1abfc4117a592269cc6951112cb4330d59f60812'],
  [15, '2e604278700519c146b1018501dbc362c10634fa17adf58547c3fed47bf884c8'],
  [16, '1fcdb6a189d91af5d97b622ad675f0f7068af279f5d5017e9f4d176ac115d41a'],
  [31, '4d641a6076e28068dab70fb1208b72b36ed110060612bdd0f22e4533ef14ef8a'],
  [32, 'fec3a139908ce3bc8912c1a32663d542a9aefc64f79555e3995a47c96b3cb0c9'],
  [33, 'e5a634f0cb1501f6d046cebf75ea366c90597282d3c8173b357a0011eda2da7e'],
  [62, '2ac987b2b11ce18e6d263df6efaac28f039febe6873464667368d5e81da98a57'],
  [63, '67eb3a6a26f8b1f5dd1aec4dbe40b083aefb265b63c8e17f9fd7fede47a4a3f4'],
  [64, '7524c16affe6d890f2c1da6e192a421a02b08e1ffe65379ebecf51c3c4d7bdc1'],
];
const VECTORS: [HighwayBits, number, string][] = [
  ...V64.map(([n, h]): [HighwayBits, number, string] => [64, n, h]),
  ...V128.map(([n, h]): [HighwayBits, number, string] => [128, n, h]),
  ...V256.map(([n, h]): [HighwayBits, number, string] => [256, n, h]),
];

describe('HighwayHash known answers (minio/highwayhash)', () => {
  it.each(VECTORS)('HighwayHash-%i of %i bytes', (bits, n, want) => {
    expect(highwayHash(INPUT.subarray(0, n), KEY, bits).toString('hex')).toBe(want);
  });

  it('defaults to 256 bits', () => {
    expect(highwayHash(INPUT, KEY).toString('hex')).toBe(V256[V256.length - 1][1]);
  });
});

describe('HighwayHash forms agree', () => {
  it('async equals sync', async () => {
    const key = random.bytes(32);
    for (const n of [0, 1, 4096, (1 << 20) + 5]) {
      const data = random.bytes(n);
      for (const bits of [64, 128, 256] as const) {
        expect((await highwayHashAsync(data, key, bits)).equals(highwayHash(data, key, bits))).toBe(true);
      }
    }
  });

  it('the key matters', () => {
    const data = random.bytes(100);
    expect(highwayHash(data, Buffer.alloc(32, 1)).equals(highwayHash(data, Buffer.alloc(32, 2)))).toBe(false);
  });

  it('rejects keys that are not 32 bytes and sizes other than 64/128/256', () => {
    expect(() => highwayHash(Buffer.alloc(1), Buffer.alloc(31))).toThrow(/32 bytes/);
    expect(() => highwayHash(Buffer.alloc(1), Buffer.alloc(33))).toThrow(/32 bytes/);
    expect(() => highwayHash(Buffer.alloc(1), KEY, 512 as HighwayBits)).toThrow(/64, 128 or 256/);
    expect(() => highwayHashAsync(Buffer.alloc(1), Buffer.alloc(0))).toThrow(/32 bytes/);
  });
});
