// Parquet scans over real storage (objectSource): the scan reads its ranges as storage's own pooled read
// chunks, hands them to the native side in pieces and gives them back (`recycle`) once copied, and storage
// reuses those buffers for the next reads. With 4 KiB blocks read one block per batch, every row group spans
// many chunks and batches; queries run two at a time (shared batches, buffers coming back while the other
// reads) must answer exactly what the engine answers over the file's bytes in memory.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectSource } from '../../server/src/api/select.js';
import type { ApiContext } from '../../server/src/api/types.js';
import { openStorage } from '../../server/src/storage/index.js';
import { bufferSource } from '../../select-engine/src/formats/index.js';
import type { SelectRequest } from '../../select-engine/src/index.js';
import { runToEnd, statsOf } from '../../select-engine/test/helpers.js';

const FIXTURES = new URL('../../select-engine/test/formats/fixtures/', import.meta.url);
const request = (expression: string): SelectRequest => ({ expression, input: { parquet: {} }, output: { csv: {} } });
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

let base: string;
let storage: Awaited<ReturnType<typeof openStorage>>;
let ctx: ApiContext;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-select-parquet-'));
  storage = await openStorage({
    drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)),
    background: false,
    blockSize: 4096,
    inlineLimit: 0,
    readBatchBlocks: 1,
  });
  await storage.makeBucket('bkt');
  ctx = { storage, region: 'us-east-1', owner: { id: 'o', displayName: 'o' }, now: () => Date.now() };
});

afterAll(async () => {
  await storage?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

const cases: Array<[string, string]> = [
  ['rowgroups.parquet', 'SELECT * FROM S3Object'],
  ['rowgroups.parquet', 'SELECT COUNT(*), SUM(s.id), MIN(s.grp), MAX(s.grp), MAX(s.val) FROM S3Object s'],
  ['rowgroups.parquet', "SELECT s.id, s.ts FROM S3Object s WHERE s.grp = 'g3' OR s.id < 5"],
  ['types-snappy.parquet', 'SELECT * FROM S3Object'],
  ['pruning.parquet', 'SELECT s.id FROM S3Object s WHERE s.id >= 250 AND s.id < 260'],
];

describe('Parquet over storage, read in pooled chunks', () => {
  it('answers as the engine over the bytes in memory, two queries at a time', async () => {
    for (const [file, sql] of cases) {
      const bytes = await readFile(new URL(file, FIXTURES));
      await storage.putObject('bkt', file, Readable.from([bytes]), { size: bytes.length });
      const info = await storage.headObject('bkt', file);
      const want = await runToEnd(request(sql), bufferSource(bytes));
      expect(want.error, `${file}: ${sql}`).toBeUndefined();
      const got = await Promise.all([0, 1].map(() => runToEnd(request(sql), objectSource(ctx, info))));
      for (const g of got) {
        expect(g.error, `${file}: ${sql}`).toBeUndefined();
        expect(digest(g.records), `${file}: ${sql}`).toBe(digest(want.records));
        expect(statsOf(g), `${file}: ${sql}`).toEqual(statsOf(want));
      }
    }
  });
});
