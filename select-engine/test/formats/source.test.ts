import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSource } from '../../src/formats/index.js';

describe('fileSource', () => {
  it('reads ranges and streams chunks (with read-ahead) of a real file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-formats-'));
    try {
      const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
      const path = join(dir, 'f.bin');
      await writeFile(path, bytes);
      const src = await fileSource(path, 1000);
      expect(src.size).toBe(10_000);
      expect(Buffer.from(await src.read(10, 20))).toEqual(bytes.subarray(10, 20));
      const parts: Buffer[] = [];
      for await (const c of src.stream(1500, 7777)) parts.push(Buffer.from(c));
      expect(Buffer.concat(parts)).toEqual(bytes.subarray(1500, 7777));
      expect(parts[0].length).toBe(1000);
      // Stopping early leaves no read running; the handle closes cleanly.
      for await (const c of src.stream()) {
        expect(c.length).toBe(1000);
        break;
      }
      await expect(src.read(9000, 20_000)).rejects.toMatchObject({ code: 'InvalidRequestParameter' });
      await src.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
