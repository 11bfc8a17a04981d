import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bunzip2 } from '../../src/formats/bzip2.js';
import { bufferSource } from '../../src/formats/index.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));

/** The bytes make_fixtures.py compressed into runs.bin.bz2. */
function runsBytes(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 3000; i++) parts.push(Buffer.alloc(i % 300, (i * 7) % 256));
  const rnd = Buffer.alloc(20000);
  let x = 12345;
  for (let k = 0; k < rnd.length; k++) {
    x = Number((BigInt(x) * 1103515245n + 12345n) & 0x7fffffffn);
    rnd[k] = (x >> 16) & 0xff;
  }
  parts.push(rnd);
  return Buffer.concat(parts);
}

async function inflate(bytes: Buffer, chunk: number): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of bunzip2(bufferSource(bytes, chunk).stream())) out.push(piece);
  return Buffer.concat(out);
}

describe('bunzip2', () => {
  it('decodes runs and incompressible data exactly, whatever the input chunking', async () => {
    const bz = await fixture('runs.bin.bz2');
    const expected = runsBytes();
    for (const chunk of [1, 7, 4096, 1 << 20]) expect((await inflate(bz, chunk)).equals(expected)).toBe(true);
  });

  it('decodes several blocks and concatenated streams', async () => {
    const rows = Array.from({ length: 20000 }, (_, i) => `${i},name-${i},${(i * 7) % 1000}\n`).join('');
    expect((await inflate(await fixture('rows.csv.bz2'), 65536)).toString()).toBe(rows);
    expect((await inflate(await fixture('two-streams.csv.bz2'), 3)).toString()).toBe('a,b\nc,d\n');
  });

  it('a flipped bit is an error (CRC or structure), never wrong bytes', async () => {
    const bz = await fixture('runs.bin.bz2');
    for (const at of [20, 500, 5000, 20000, bz.length - 3]) {
      const bad = Buffer.from(bz);
      bad[at] ^= 0x10;
      await expect(inflate(bad, 4096), `bit at ${at}`).rejects.toMatchObject({ code: 'TruncatedInput' });
    }
    await expect(inflate(bz.subarray(0, bz.length - 1), 4096)).rejects.toMatchObject({ code: 'TruncatedInput' });
    await expect(inflate(Buffer.from('BZh9 not really'), 4096)).rejects.toMatchObject({ code: 'TruncatedInput' });
  });
});
