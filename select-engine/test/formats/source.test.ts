import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferSource, fileSource } from '../../src/formats/index.js';
import type { SelectRequest } from '../../src/request.js';
import { runToEnd } from '../helpers.js';

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

  it('reads the next chunks into the buffers given back, and reuses nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-formats-'));
    try {
      const bytes = Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7) % 251));
      const path = join(dir, 'f.bin');
      await writeFile(path, bytes);
      const src = await fileSource(path, 40_000);
      // Chunks of 40 KB have their own memory (below 32 KiB they share Node's pool). Every chunk given back as
      // soon as it is read: two buffers (this chunk, the read ahead) serve all ten.
      const memory = new Set<ArrayBufferLike>();
      const parts: Buffer[] = [];
      for await (const c of src.stream()) {
        parts.push(Buffer.from(c));
        memory.add(c.buffer);
        src.recycle!(c);
        src.recycle!(c); // twice: taken once
      }
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
      expect(memory.size).toBe(2);
      // Chunks kept (never given back) are never read into again, and a chunk the source did not lend is ignored.
      src.recycle!(Buffer.alloc(40_000));
      src.recycle!(bytes.subarray(0, 40_000));
      const kept: Uint8Array[] = [];
      for await (const c of src.stream(0, 160_000)) kept.push(c);
      expect(Buffer.concat(kept).equals(bytes.subarray(0, 160_000))).toBe(true);
      expect(new Set(kept.map((c) => c.buffer)).size).toBe(4);
      // The two pooled buffers served the first two of those reads; the last ones are fresh.
      expect(kept.filter((c) => memory.has(c.buffer))).toHaveLength(2);
      await src.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives a CSV query the same answer as a source that keeps every chunk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-formats-'));
    try {
      const lines = Array.from({ length: 3000 }, (_, i) => `${i},"n ${i}\n",${(i * 7919) % 1000}`);
      const text = `id,name,amount\n${lines.join('\n')}\n`;
      const path = join(dir, 'f.csv');
      await writeFile(path, text);
      const request: SelectRequest = {
        expression: 'SELECT s.id, s.name FROM S3Object s WHERE CAST(s.amount AS INT) < 10',
        input: { csv: { fileHeaderInfo: 'USE', allowQuotedRecordDelimiter: true } },
        output: { csv: {} },
      };
      for (const chunk of [7, 4096]) {
        const src = await fileSource(path, chunk);
        let given = 0;
        const recycle = src.recycle!.bind(src);
        src.recycle = (c) => {
          given++;
          recycle(c);
        };
        const pooled = await runToEnd(request, src);
        await src.close();
        const kept = await runToEnd(request, bufferSource(Buffer.from(text), chunk));
        expect(pooled.error).toBeUndefined();
        expect(pooled.records).toBe(kept.records);
        expect(pooled.records.split('\n').length).toBeGreaterThan(20);
        expect(given).toBeGreaterThan(text.length / chunk - 2);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
