// The CSV and JSON LINES line filters in storage's read task (ReadOptions.pass, native read_pass.rs): S3 Select's
// handler over real storage with small blocks (many batches, lines across shards, blocks and batches). The batches
// storage read with the armed pass come as chunks through it, and the query answers the same records and Stats as
// the reader alone (the same WHERE without the line filter), also for the rows the kernels keep whole (quoted
// fields, nulls where a number is tested).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectObjectContent } from '../../server/src/api/select.js';
import type { ApiContext, S3Request } from '../../server/src/api/types.js';
import { openStorage } from '../../server/src/storage/index.js';
import type { ByteRange, ObjectLayer, PassedChunks, ReadOptions } from '../../server/src/storage/object-layer.js';

let base: string;
let storage: ObjectLayer & { close(): Promise<void> };
let data: Buffer;
let lines: Buffer;
/** Chunks storage gave as bytes through the pass, and the object bytes they stood for. */
const through = { chunks: 0, bytes: 0 };

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-select-pass-'));
  // 32 KiB blocks: 4-block batches of 128 KiB, 16 KiB pieces (2 data shards).
  storage = await openStorage({
    drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)),
    background: false,
    blockSize: 32 * 1024,
  });
  await storage.makeBucket('bkt');
  const rows = ['id,score,note'];
  for (let i = 0; i < 60_000; i++) {
    const note = i % 50 === 0 ? `"q ${i % 7}"` : 'x'.repeat(i % 23);
    rows.push(`${i},${(i * 7919) % 10007},${note}`);
  }
  data = Buffer.from(`${rows.join('\n')}\n`);
  await storage.putObject('bkt', 'k.csv', Readable.from([data]), { size: data.length });
  const docs: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const score = (i * 7919) % 10007;
    docs.push(
      i % 50 === 0 ? `{"id":${i},"score":null}` : `{"id":${i},"note":"${'x'.repeat(i % 23)}","score":${score}}`,
    );
  }
  lines = Buffer.from(`${docs.join('\n')}\n`);
  await storage.putObject('bkt', 'k.jsonl', Readable.from([lines]), { size: lines.length });
});
afterAll(async () => {
  await storage?.close();
  await rm(base, { recursive: true, force: true });
});

/** The handler over `storage`, every body it reads watched for chunks through the pass. */
function context(): ApiContext {
  const watched: ObjectLayer = Object.create(storage, {
    openObject: {
      value: async (...a: Parameters<ObjectLayer['openObject']>) => {
        const opened = await storage.openObject(...a);
        return {
          info: opened.info,
          read: async (range?: ByteRange, opts?: ReadOptions) => {
            const body = (await opened.read(range, opts)) as Readable & Partial<PassedChunks>;
            const passed = body.passed;
            if (passed)
              body.passed = (chunk) => {
                const n = passed.call(body, chunk);
                if (n !== undefined) {
                  through.chunks++;
                  through.bytes += n;
                }
                return n;
              };
            return body;
          },
        };
      },
    },
  });
  return { storage: watched, region: 'us-east-1', owner: { id: 'o', displayName: 'o' }, now: () => Date.now() };
}

const CSV_INPUT = '<CSV><FileHeaderInfo>USE</FileHeaderInfo></CSV>';

/** Records and Stats of a query over the object: CSV (header USE) by default. */
async function select(sql: string, key = 'k.csv', input = CSV_INPUT): Promise<{ records: string; stats: string }> {
  const xml =
    `<SelectObjectContentRequest><Expression>${sql.replace(/</g, '&lt;')}</Expression><ExpressionType>SQL</ExpressionType>` +
    `<InputSerialization>${input}</InputSerialization>` +
    '<OutputSerialization><CSV/></OutputSerialization></SelectObjectContentRequest>';
  const req = {
    op: { name: 'SelectObjectContent', action: 's3:GetObject', bucket: 'bkt', key },
    requestId: 'r',
    method: 'POST',
    headers: {},
    query: new URLSearchParams('select&select-type=2'),
    body: Readable.from([Buffer.from(xml)]),
    size: xml.length,
    trailers: new Map(),
    log: { info: () => {}, warn: () => {}, error: () => {} },
  } as unknown as S3Request;
  const res = await selectObjectContent(context(), req, 'bkt', key);
  expect(res.status).toBe(200);
  const parts: Buffer[] = [];
  for await (const b of res.body as Readable) parts.push(Buffer.from(b));
  let all = Buffer.concat(parts);
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  let records = '';
  let stats = '';
  while (all.length > 0) {
    const len = all.readUInt32BE(0);
    const m = codec.decode(all.subarray(0, len));
    const type = m.headers[':event-type']?.value;
    if (m.headers[':message-type']?.value === 'error') throw new Error(String(m.headers[':error-message']?.value));
    if (type === 'Records') records += toUtf8(m.body);
    if (type === 'Stats') stats = toUtf8(m.body);
    all = all.subarray(len);
  }
  return { records, stats };
}

describe("the CSV line filter in storage's read task", () => {
  it('answers what the reader alone answers, most batches coming through the pass', async () => {
    const want: string[] = [];
    for (let i = 0; i < 60_000; i++) if ((i * 7919) % 10007 < 30) want.push(`${i}\n`);
    expect(want.length).toBeGreaterThan(100);
    through.chunks = 0;
    through.bytes = 0;
    const fast = await select('SELECT s.id FROM S3Object s WHERE CAST(s.score AS INT) < 30');
    expect(fast.records).toBe(want.join(''));
    expect(fast.stats).toContain(`<BytesScanned>${data.length}</BytesScanned>`);
    expect(fast.stats).toContain(`<BytesProcessed>${data.length}</BytesProcessed>`);
    // All batches but the first two (read before the header armed the pass) come through it.
    const batches = Math.ceil(data.length / (128 * 1024));
    expect(batches).toBeGreaterThan(8);
    expect(through.chunks).toBeGreaterThanOrEqual(batches - 3);
    expect(through.bytes).toBeGreaterThan(data.length / 2);

    // The same WHERE behind `1 = 1 AND`: no line filter, so no pass; the same answer.
    through.chunks = 0;
    const alone = await select('SELECT s.id FROM S3Object s WHERE 1 = 1 AND CAST(s.score AS INT) < 30');
    expect(through.chunks).toBe(0);
    expect(alone).toEqual(fast);
  });

  it('rows the kernels keep whole (quoted fields) and a text test answer as the reader alone does', async () => {
    const quoted = await select(`SELECT s.id, s.note FROM S3Object s WHERE s.note = 'q 3'`);
    const want: string[] = [];
    for (let i = 0; i < 60_000; i += 50) if (i % 7 === 3) want.push(`${i},q 3\n`);
    expect(quoted.records).toBe(want.join(''));
    const prefix = await select(`SELECT COUNT(*) FROM S3Object s WHERE s.note LIKE 'xxxxxxxxxxxxxxxxxxxxx%'`);
    const alone = await select(`SELECT COUNT(*) FROM S3Object s WHERE 1 = 1 AND s.note LIKE 'xxxxxxxxxxxxxxxxxxxxx%'`);
    expect(prefix.records).toBe(alone.records);
    expect(Number(prefix.records)).toBeGreaterThan(100);
  });
});

describe("the JSON LINES line filter in storage's read task", () => {
  it('answers what the reader alone answers, the batches coming through the pass', async () => {
    const json = (sql: string) => select(sql, 'k.jsonl', '<JSON><Type>LINES</Type></JSON>');
    const want: string[] = [];
    for (let i = 0; i < 40_000; i++) if (i % 50 !== 0 && (i * 7919) % 10007 < 30) want.push(`${i}\n`);
    expect(want.length).toBeGreaterThan(50);
    through.chunks = 0;
    through.bytes = 0;
    const fast = await json('SELECT s.id FROM S3Object s WHERE s.score < 30');
    expect(fast.records).toBe(want.join(''));
    expect(fast.stats).toContain(`<BytesScanned>${lines.length}</BytesScanned>`);
    // Armed before the first read: every batch but the last, short one comes through it.
    const batches = Math.ceil(lines.length / (128 * 1024));
    expect(batches).toBeGreaterThan(8);
    expect(through.chunks).toBeGreaterThanOrEqual(batches - 1);
    expect(through.bytes).toBeGreaterThan(lines.length * 0.8);
    through.chunks = 0;
    const alone = await json('SELECT s.id FROM S3Object s WHERE 1 = 1 AND s.score < 30');
    expect(through.chunks).toBe(0);
    expect(alone).toEqual(fast);
    // A text test (LIKE a prefix), the rows without the field kept for the evaluator: the same answer.
    const prefix = await json(`SELECT COUNT(*) FROM S3Object s WHERE s.note LIKE 'xxxxxxxxxxxxxxxxxxxxx%'`);
    const counted = await json(`SELECT COUNT(*) FROM S3Object s WHERE 1 = 1 AND s.note LIKE 'xxxxxxxxxxxxxxxxxxxxx%'`);
    expect(prefix.records).toBe(counted.records);
    expect(Number(prefix.records)).toBeGreaterThan(100);
  });
});
