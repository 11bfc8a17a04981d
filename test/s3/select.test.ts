// SelectObjectContent end to end: @aws-sdk/client-s3's SelectObjectContentCommand against a running Cairn
// (CSV, JSON, Parquet, GZIP and BZIP2 input, ScanRange, Progress, Stats, errors before and after streaming,
// a 20 MB object), and the handler over real storage to show a closed response stops the storage reads.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { tableFromIPC } from 'apache-arrow';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  SelectObjectContentCommand,
  type S3Client,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ALT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';
import { selectObjectContent } from '../../server/src/api/select.js';
import type { ApiContext, S3Request } from '../../server/src/api/types.js';
import { openStorage } from '../../server/src/storage/index.js';
import type { ByteRange, ObjectLayer } from '../../server/src/storage/object-layer.js';

const FIXTURES = new URL('../../select-engine/test/formats/fixtures/', import.meta.url);
const bucket = 'select';
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
});
afterAll(() => server?.close());

interface Details {
  BytesScanned?: number;
  BytesProcessed?: number;
  BytesReturned?: number;
}
interface SelectOutput {
  records: string;
  /** Sum of the Records payload sizes as received. */
  recordBytes: number;
  stats?: Details;
  progress: Details[];
  ended: boolean;
  /** An error message received inside the event stream (after the 200). */
  streamError?: { name: string; message: string };
}

type Query = Partial<SelectObjectContentCommandInput> & { Key: string; Expression: string };

async function put(key: string, body: string | Buffer | Uint8Array): Promise<number> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return typeof body === 'string' ? Buffer.byteLength(body) : body.length;
}

/**
 * Runs a query and collects its event stream. An HTTP error (before the stream) is thrown as the SDK throws
 * it. Unless `expectError`, the stream must end as AWS ends a successful one: Stats then End, nothing
 * after End, Stats.BytesReturned equal to the Records payload bytes, and no error event; any departure
 * throws. With `expectError`, an error event must arrive (kept in streamError) and no End before it.
 */
async function select(q: Query, client = s3, o: { expectError?: boolean } = {}): Promise<SelectOutput> {
  const out: SelectOutput = { records: '', recordBytes: 0, progress: [], ended: false };
  const chunks: Buffer[] = [];
  const order: string[] = [];
  try {
    const res = await client.send(
      new SelectObjectContentCommand({
        Bucket: bucket,
        ExpressionType: 'SQL',
        InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
        OutputSerialization: { CSV: {} },
        ...q,
      }),
    );
    for await (const ev of res.Payload!) {
      if (out.ended) throw new Error('event after End');
      if (ev.Records?.Payload) {
        chunks.push(Buffer.from(ev.Records.Payload));
        out.recordBytes += ev.Records.Payload.length;
        order.push('Records');
      } else if (ev.Stats) {
        out.stats = ev.Stats.Details;
        order.push('Stats');
      } else if (ev.Progress) {
        out.progress.push(ev.Progress.Details ?? {});
        order.push('Progress');
      } else if (ev.End) {
        out.ended = true;
        order.push('End');
      } else if (ev.Cont) order.push('Cont');
      else throw new Error(`unknown event ${JSON.stringify(ev)}`);
    }
  } catch (e) {
    // The SDK reads the first event before send() resolves, so a stream error may surface from either.
    const err = e as Error & { $response?: { statusCode?: number }; $metadata?: { httpStatusCode?: number } };
    const status = err.$response?.statusCode ?? err.$metadata?.httpStatusCode;
    if ((status !== undefined && status !== 200) || !o.expectError) throw e;
    out.streamError = { name: err.name, message: err.message };
  }
  out.records = Buffer.concat(chunks).toString('utf8');
  if (o.expectError) {
    if (!out.streamError) throw new Error(`expected an error event, got ${order.join(',')}`);
    return out;
  }
  // AWS: a successful stream ends with Stats, then End (Progress may come before Stats).
  const events = order.join(',');
  if (order.slice(-2).join(',') !== 'Stats,End') throw new Error(`stream did not end with Stats, End: ${events}`);
  if (order.filter((t) => t === 'Stats').length !== 1) throw new Error(`expected one Stats event: ${events}`);
  const returned = out.stats?.BytesReturned;
  if (returned !== out.recordBytes) throw new Error(`Stats.BytesReturned ${returned}, the Records ${out.recordBytes}`);
  return out;
}

const eventCodec = new EventStreamCodec(toUtf8, fromUtf8);

/** Splits a raw event-stream body into its messages (each prefixed by its total length). */
function decodeEventStream(body: Buffer): { type: string; body: Buffer }[] {
  const out: { type: string; body: Buffer }[] = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at);
    const m = eventCodec.decode(body.subarray(at, at + length));
    const type = String(m.headers[':event-type']?.value ?? m.headers[':message-type']?.value);
    out.push({ type, body: Buffer.from(m.body) });
    at += length;
  }
  return out;
}

const PEOPLE = 'name,age,city\nann,31,Paris\nbob,25,Oslo\ncid,47,Paris\ndee,19,Rome\n';

describe('CSV', () => {
  beforeAll(async () => {
    await put('people.csv', PEOPLE);
  });

  it('filters, projects, aggregates and limits with header names', async () => {
    expect(
      (await select({ Key: 'people.csv', Expression: "SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Paris'" }))
        .records,
    ).toBe('ann,31\ncid,47\n');
    expect(
      (
        await select({
          Key: 'people.csv',
          Expression: 'SELECT name FROM S3Object WHERE CAST(age AS INT) BETWEEN 20 AND 40',
        })
      ).records,
    ).toBe('ann\nbob\n');
    expect(
      (
        await select({
          Key: 'people.csv',
          Expression: 'SELECT COUNT(*), SUM(CAST(age AS INT)), MIN(name), MAX(CAST(age AS INT)) FROM S3Object',
        })
      ).records,
    ).toBe('4,122,ann,47\n');
    expect(
      (await select({ Key: 'people.csv', Expression: 'SELECT UPPER(name) AS n FROM S3Object LIMIT 2' })).records,
    ).toBe('ANN\nBOB\n');
    const json = await select({
      Key: 'people.csv',
      Expression: "SELECT name, city FROM S3Object WHERE name LIKE '%e%'",
      OutputSerialization: { JSON: {} },
    });
    expect(json.records).toBe('{"name":"dee","city":"Rome"}\n');
  });

  it('positional columns with header IGNORE and NONE', async () => {
    const ignore = await select({
      Key: 'people.csv',
      Expression: 'SELECT _3, _1 FROM S3Object WHERE CAST(_2 AS INT) > 40',
      InputSerialization: { CSV: { FileHeaderInfo: 'IGNORE' } },
    });
    expect(ignore.records).toBe('Paris,cid\n');
    const none = await select({
      Key: 'people.csv',
      Expression: 'SELECT _1 FROM S3Object LIMIT 1',
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } },
    });
    expect(none.records).toBe('name\n');
  });

  it('Stats: BytesScanned is the object size, BytesReturned the Records payload bytes', async () => {
    const r = await select({ Key: 'people.csv', Expression: "SELECT * FROM S3Object s WHERE s.city <> 'Oslo'" });
    expect(r.ended).toBe(true);
    expect(r.records).toBe('ann,31,Paris\ncid,47,Paris\ndee,19,Rome\n');
    expect(r.stats).toEqual({
      BytesScanned: Buffer.byteLength(PEOPLE),
      BytesProcessed: Buffer.byteLength(PEOPLE),
      BytesReturned: r.recordBytes,
    });
  });

  it('an empty object: no records, zero counters, End', async () => {
    await put('empty.csv', '');
    const r = await select({ Key: 'empty.csv', Expression: 'SELECT * FROM S3Object', InputSerialization: { CSV: {} } });
    expect(r).toMatchObject({
      records: '',
      ended: true,
      stats: { BytesScanned: 0, BytesProcessed: 0, BytesReturned: 0 },
    });
    const count = await select({
      Key: 'empty.csv',
      Expression: 'SELECT COUNT(*) FROM S3Object',
      InputSerialization: { CSV: {} },
    });
    expect(count.records).toBe('0\n');
  });

  it('RequestProgress sends Progress events with the counters', async () => {
    const r = await select({
      Key: 'people.csv',
      Expression: 'SELECT name FROM S3Object',
      RequestProgress: { Enabled: true },
    });
    expect(r.progress.length).toBeGreaterThan(0);
    expect(r.progress.at(-1)).toEqual({
      BytesScanned: Buffer.byteLength(PEOPLE),
      BytesProcessed: Buffer.byteLength(PEOPLE),
      BytesReturned: r.recordBytes,
    });
    const quiet = await select({ Key: 'people.csv', Expression: 'SELECT name FROM S3Object' });
    expect(quiet.progress).toEqual([]);
  });

  it('ScanRange: a record belongs to the range its first byte falls in', async () => {
    await put('range.csv', 'A,B\nC,D\nE,F\nG,H\n');
    const q = {
      Key: 'range.csv',
      Expression: 'SELECT * FROM S3Object',
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } },
    } as const;
    expect((await select({ ...q, ScanRange: { Start: 1, End: 4 } })).records).toBe('C,D\n');
    expect((await select({ ...q, ScanRange: { Start: 5 } })).records).toBe('E,F\nG,H\n');
    expect((await select({ ...q, ScanRange: { End: 4 } })).records).toBe('G,H\n');
    const r = await select({ ...q, ScanRange: { Start: 8, End: 11 } });
    expect(r.records).toBe('E,F\n');
    expect(r.stats!.BytesScanned).toBeLessThan(16);
  });

  it('GZIP and BZIP2 input: BytesScanned counts compressed bytes, BytesProcessed the text', async () => {
    const text = `${Array.from({ length: 2000 }, (_, i) => `${i},item-${i},${(i * 13) % 100}`).join('\n')}\n`;
    const gz = gzipSync(text);
    await put('rows.csv.gz', gz);
    const r = await select({
      Key: 'rows.csv.gz',
      Expression: "SELECT _1 FROM S3Object WHERE _3 = '42'",
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' }, CompressionType: 'GZIP' },
    });
    const want = Array.from({ length: 2000 }, (_, i) => i).filter((i) => (i * 13) % 100 === 42);
    expect(r.records).toBe(want.map((i) => `${i}\n`).join(''));
    expect(r.stats).toEqual({
      BytesScanned: gz.length,
      BytesProcessed: Buffer.byteLength(text),
      BytesReturned: r.recordBytes,
    });

    // rows.csv.bz2 holds `i,name-i,(i*7)%1000` for i < 20000.
    await put('rows.csv.bz2', await readFile(new URL('rows.csv.bz2', FIXTURES)));
    const b = await select({
      Key: 'rows.csv.bz2',
      Expression: "SELECT COUNT(*) FROM S3Object WHERE _3 = '7'",
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' }, CompressionType: 'BZIP2' },
    });
    expect(b.records).toBe(
      `${Array.from({ length: 20000 }, (_, i) => (i * 7) % 1000).filter((v) => v === 7).length}\n`,
    );
  });
});

describe('JSON', () => {
  it('LINES and DOCUMENT, nested paths', async () => {
    const lines =
      '{"id":1,"user":{"name":"ann","tags":["a","b"]}}\n{"id":2,"user":{"name":"bob","tags":[]}}\n{"id":3,"user":{"name":"cid"}}\n';
    await put('events.jsonl', lines);
    const r = await select({
      Key: 'events.jsonl',
      Expression: 'SELECT s.id, s."user".name AS name FROM S3Object s WHERE s.id >= 2',
      InputSerialization: { JSON: { Type: 'LINES' } },
      OutputSerialization: { JSON: {} },
    });
    expect(r.records).toBe('{"id":2,"name":"bob"}\n{"id":3,"name":"cid"}\n');
    expect(r.stats?.BytesScanned).toBe(Buffer.byteLength(lines));
    const tags = await select({
      Key: 'events.jsonl',
      Expression: 'SELECT s."user".tags[1] AS t FROM S3Object s WHERE s.id = 1',
      InputSerialization: { JSON: { Type: 'LINES' } },
      OutputSerialization: { CSV: {} },
    });
    expect(tags.records).toBe('b\n');

    await put(
      'doc.json',
      JSON.stringify({
        items: [
          { k: 'x', v: 1 },
          { k: 'y', v: 2 },
          { k: 'z', v: 3 },
        ],
      }),
    );
    const doc = await select({
      Key: 'doc.json',
      Expression: 'SELECT i.k FROM S3Object[*].items[*] i WHERE i.v > 1',
      InputSerialization: { JSON: { Type: 'DOCUMENT' } },
      OutputSerialization: { JSON: {} },
    });
    expect(doc.records).toBe('{"k":"y"}\n{"k":"z"}\n');
    await put('array.json', JSON.stringify([{ a: 1 }, { a: 2 }]));
    const arr = await select({
      Key: 'array.json',
      Expression: 'SELECT SUM(s.a) AS total FROM S3Object[*][*] s',
      InputSerialization: { JSON: { Type: 'DOCUMENT' } },
      OutputSerialization: { JSON: {} },
    });
    expect(arr.records).toBe('{"total":3}\n');
  });
});

describe('Parquet', () => {
  it('reads only what the query needs through ranged reads', async () => {
    // rowgroups.parquet: ids 0..999 in ten row groups of 100, grp = g<id/100>, val = id / 2.
    const size = await put('rowgroups.parquet', await readFile(new URL('rowgroups.parquet', FIXTURES)));
    const p = { InputSerialization: { Parquet: {} }, OutputSerialization: { CSV: {} } } as const;
    const r = await select({
      ...p,
      Key: 'rowgroups.parquet',
      Expression: 'SELECT s.id, s.grp FROM S3Object s WHERE s.id >= 995',
    });
    expect(r.records).toBe([995, 996, 997, 998, 999].map((i) => `${i},g9\n`).join(''));
    expect(r.stats!.BytesScanned).toBeGreaterThan(0);
    expect(r.stats!.BytesScanned).toBeLessThan(size / 3);
    expect(r.stats!.BytesReturned).toBe(r.recordBytes);
    const agg = await select({
      ...p,
      Key: 'rowgroups.parquet',
      Expression: 'SELECT COUNT(*), SUM(s.id), MAX(s.val) FROM S3Object s',
    });
    expect(agg.records).toBe('1000,499500,499.5\n');

    await put('types.parquet', await readFile(new URL('types-snappy.parquet', FIXTURES)));
    const t = await select({
      ...p,
      Key: 'types.parquet',
      Expression: 'SELECT s.name, s.i32 FROM S3Object s WHERE s.i16 = 1500',
      OutputSerialization: { JSON: {} },
    });
    expect(t.records).toBe('{"name":"name-5","i32":350000}\n');
  });
});

describe('errors', () => {
  beforeAll(async () => {
    await put('e.csv', PEOPLE);
  });

  it('before streaming: S3 XML errors with the Select codes', async () => {
    expect(await s3Error(select({ Key: 'e.csv', Expression: 'SELECT FROM S3Object' }))).toMatchObject({
      name: expect.stringMatching(/^Parse/),
      status: 400,
    });
    expect(await s3Error(select({ Key: 'e.csv', Expression: 'SELECT a b c d FROM S3Object' }))).toMatchObject({
      name: expect.stringMatching(/^Parse/),
      status: 400,
    });
    // AWS's SelectObjectContent error codes: a header name not in the file, a function S3 Select lacks.
    const missingHeader = await s3Error(select({ Key: 'e.csv', Expression: 'SELECT nosuch FROM S3Object' }));
    expect(missingHeader).toEqual({ name: 'MissingHeaders', status: 400 });
    const noFunction = await s3Error(select({ Key: 'e.csv', Expression: 'SELECT NOFUNC(name) FROM S3Object' }));
    expect(noFunction).toEqual({ name: 'UnsupportedFunction', status: 400 });
    expect(await s3Error(select({ Key: 'missing.csv', Expression: 'SELECT * FROM S3Object' }))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    await put('gone.csv', PEOPLE);
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone.csv' }));
    expect(await s3Error(select({ Key: 'gone.csv', Expression: 'SELECT * FROM S3Object' }))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(
      await s3Error(select({ Bucket: 'no-such-bucket', Key: 'k', Expression: 'SELECT * FROM S3Object' })),
    ).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    const long = `SELECT * FROM S3Object WHERE name = '${'x'.repeat(300 * 1024)}'`;
    expect(await s3Error(select({ Key: 'e.csv', Expression: long }))).toMatchObject({
      name: 'ExpressionTooLong',
      status: 400,
    });
    expect(
      await s3Error(select({ Key: 'e.csv', Expression: 'SELECT * FROM S3Object', ScanRange: { Start: 10, End: 2 } })),
    ).toMatchObject({ name: 'InvalidScanRange', status: 400 });
    // SSE-C needs TLS (test/s3/sse-c.test.ts queries encrypted objects): over plain HTTP, 400.
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(
      await s3Error(
        select({
          Key: 'e.csv',
          Expression: 'SELECT * FROM S3Object',
          SSECustomerAlgorithm: 'AES256',
          SSECustomerKey: key,
        }),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    // The same permission as GetObject (s3:GetObject): another user gets what a bucket policy grants.
    await put('secret.csv', PEOPLE);
    const alt = server.client({ credentials: ALT });
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [ALT.accessKey] },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${bucket}/e.csv`,
        },
        {
          Effect: 'Deny',
          Principal: { AWS: [ALT.accessKey] },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${bucket}/secret.csv`,
        },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    try {
      expect((await select({ Key: 'e.csv', Expression: 'SELECT COUNT(*) FROM S3Object' }, alt)).records).toBe('4\n');
      expect(await s3Error(select({ Key: 'secret.csv', Expression: 'SELECT * FROM S3Object' }, alt))).toMatchObject({
        name: 'AccessDenied',
        status: 403,
      });
    } finally {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    }
  });

  it('refuses oversized and malformed request documents', async () => {
    const query = { select: '', 'select-type': '2' };
    const big = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}/e.csv`,
      query,
      body: Buffer.alloc(2 * 1024 * 1024, 'a'),
    });
    expect(big.status).toBe(400);
    expect(big.text).toContain('<Code>ExpressionTooLong</Code>');
    expect(big.headers.get('connection')).toBe('close');
    const bad = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}/e.csv`,
      query,
      body: '<SelectObjectContentRequest><Expression>',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<Code>MalformedXML</Code>'); // not well-formed: the document ends inside <Expression>
    const xml =
      '<SelectObjectContentRequest><Expression>SELECT * FROM S3Object</Expression><ExpressionType>SQL</ExpressionType>' +
      '<InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization></SelectObjectContentRequest>';
    const ranged = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}/e.csv`,
      query,
      body: xml,
      headers: { range: 'bytes=0-3' },
    });
    expect(ranged.status).toBe(400);
    expect(ranged.text).toContain('<Code>UnsupportedRangeHeader</Code>');
    const ok = await signedFetch(server.url, { method: 'POST', path: `/${bucket}/e.csv`, query, body: xml });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/octet-stream');
    // The body is the event stream, decoded here with the SDK's own codec: the rows, then Stats, then End.
    const events = decodeEventStream(ok.body);
    expect(events.map((e) => e.type)).toEqual(['Records', 'Stats', 'End']);
    expect(events[0].body.toString()).toBe(PEOPLE); // FileHeaderInfo defaults to NONE: the header is a record
  });

  it('wrong CompressionType on plain data is an error, not junk', async () => {
    const gzip = {
      Key: 'e.csv',
      Expression: 'SELECT * FROM S3Object',
      InputSerialization: { CSV: {}, CompressionType: 'GZIP' },
    } as const;
    const r = await select(gzip, s3, { expectError: true });
    expect(r.records).toBe('');
    expect(r.ended).toBe(false);
    expect(r.streamError?.name).toBe('InvalidCompressionFormat');
  });

  it('an error after streaming started arrives as an event-stream error, after the records before it', async () => {
    const good = Array.from({ length: 30000 }, (_, i) => `${i}`).join('\n');
    await put('late-error.csv', `${good}\nnot-a-number\n1\n`);
    const q = {
      Key: 'late-error.csv',
      Expression: 'SELECT CAST(_1 AS INT) + 1 FROM S3Object',
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } },
    } as const;
    const r = await select(q, s3, { expectError: true });
    expect(r.streamError?.name).toBe('CastFailed');
    expect(r.ended).toBe(false);
    expect(r.stats).toBeUndefined();
    // Everything before the bad row that was produced is a correct prefix of the answer.
    const lines = r.records.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
  });
});

describe('beyond AWS: request switches in the query string', () => {
  const query = { select: '', 'select-type': '2' };
  const request = (sql: string, output = '<JSON/>') =>
    '<SelectObjectContentRequest><Expression>' +
    sql +
    '</Expression><ExpressionType>SQL</ExpressionType><InputSerialization><CSV><FileHeaderInfo>USE</FileHeaderInfo>' +
    `</CSV></InputSerialization><OutputSerialization>${output}</OutputSerialization></SelectObjectContentRequest>`;
  const sql =
    'SELECT s.city, COUNT(*) AS n, MAX(CAST(s.age AS INT)) AS oldest FROM S3Object s GROUP BY s.city ORDER BY n DESC';

  it('x-cairn-dialect=cairn: GROUP BY and ORDER BY; without it the AWS error', async () => {
    await put('people.csv', PEOPLE);
    const send = (q: Record<string, string>, body = request(sql)) =>
      signedFetch(server.url, { method: 'POST', path: `/${bucket}/people.csv`, query: { ...query, ...q }, body });
    const aws = await send({});
    expect(aws.status).toBe(400);
    expect(aws.text).toContain('<Code>ParseExpectedIdentForGroupName</Code>');
    const cairn = await send({ 'x-cairn-dialect': 'cairn' });
    expect(cairn.status).toBe(200);
    const events = decodeEventStream(cairn.body);
    expect(events.map((e) => e.type)).toEqual(['Records', 'Stats', 'End']);
    expect(events[0].body.toString()).toBe(
      '{"city":"Paris","n":2,"oldest":47}\n{"city":"Oslo","n":1,"oldest":25}\n{"city":"Rome","n":1,"oldest":19}\n',
    );
    const badSwitches: Record<string, string>[] = [{ 'x-cairn-dialect': 'ceph2' }, { 'x-cairn-output': 'parquet' }];
    for (const q of badSwitches) {
      const bad = await send(q);
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('<Code>InvalidArgument</Code>');
    }
    const csvArrow = await send({ 'x-cairn-output': 'arrow' }, request('SELECT * FROM S3Object', '<CSV/>'));
    expect(csvArrow.status).toBe(400);
    expect(csvArrow.text).toContain('<Code>InvalidRequestParameter</Code>');
  });

  it('x-cairn-dialect=ceph, or CAIRN_SELECT_DIALECT=ceph at start for requests without it: Ceph s3select SQL', async () => {
    await put('ceph.csv', 'a,1,\nb,2,x\n');
    const cephSql = 'select _1, int(_2) as n, _3 from stdin where n == 2 or _1 like "[a]";';
    const body = (output: string) =>
      '<SelectObjectContentRequest><Expression>' +
      cephSql.replaceAll('"', '&quot;') +
      '</Expression><ExpressionType>SQL</ExpressionType><InputSerialization><CSV><FileHeaderInfo>NONE</FileHeaderInfo>' +
      `</CSV></InputSerialization><OutputSerialization>${output}</OutputSerialization></SelectObjectContentRequest>`;
    const send = (q: Record<string, string>) =>
      signedFetch(server.url, {
        method: 'POST',
        path: `/${bucket}/ceph.csv`,
        query: { ...query, ...q },
        body: body('<CSV/>'),
      });
    const aws = await send({});
    expect(aws.status).toBe(400);
    expect(aws.text).toContain('<Code>ParseUnexpectedTerm</Code>'); // AWS has no `==`
    const records = (res: { body: Buffer }) =>
      decodeEventStream(res.body)
        .filter((e) => e.type === 'Records')
        .map((e) => e.body.toString())
        .join('');
    const ceph = await send({ 'x-cairn-dialect': 'ceph' });
    expect(ceph.status).toBe(200);
    expect(records(ceph)).toBe('a,1,null\nb,2,x\n');
    // The server-wide default is read once, when the server starts: setting it later changes nothing here.
    process.env.CAIRN_SELECT_DIALECT = 'ceph';
    try {
      const later = await send({});
      expect(later.status).toBe(400);
      expect(later.text).toContain('<Code>ParseUnexpectedTerm</Code>');
    } finally {
      delete process.env.CAIRN_SELECT_DIALECT;
    }
    // A server started with it answers requests without the switch in that dialect; the switch still wins.
    const { server: cephServer, s3: cephS3 } = await startWithBucket(bucket, { env: { CAIRN_SELECT_DIALECT: 'ceph' } });
    try {
      await cephS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ceph.csv', Body: 'a,1,\nb,2,x\n' }));
      const sendTo = (q: Record<string, string>) =>
        signedFetch(cephServer.url, {
          method: 'POST',
          path: `/${bucket}/ceph.csv`,
          query: { ...query, ...q },
          body: body('<CSV/>'),
        });
      const byDefault = await sendTo({});
      expect(byDefault.status).toBe(200);
      expect(records(byDefault)).toBe('a,1,null\nb,2,x\n');
      const aws2 = await sendTo({ 'x-cairn-dialect': 'aws' });
      expect(aws2.status).toBe(400);
      expect(aws2.text).toContain('<Code>ParseUnexpectedTerm</Code>');
    } finally {
      await cephServer.close();
    }
  });

  it('x-cairn-output=arrow: the Records payloads are one Arrow IPC stream', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `n${i},${i % 90},${['Paris', 'Oslo', 'Rome'][i % 3]}`);
    await put('many.csv', `name,age,city\n${rows.join('\n')}\n`);
    const body = request('SELECT s.name, CAST(s.age AS INT) AS age FROM S3Object s WHERE s.city = &apos;Oslo&apos;');
    const res = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}/many.csv`,
      query: { ...query, 'x-cairn-output': 'arrow' },
      body,
    });
    expect(res.status).toBe(200);
    const events = decodeEventStream(res.body);
    expect(events.at(-1)?.type).toBe('End');
    const ipc = Buffer.concat(events.filter((e) => e.type === 'Records').map((e) => e.body));
    const table = tableFromIPC(ipc);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['name:Utf8', 'age:Int64']);
    const want = rows.filter((_, i) => i % 3 === 1).map((r) => r.split(','));
    expect(table.numRows).toBe(want.length);
    const names = [...table.getChild('name')!];
    const ages = [...table.getChild('age')!].map(Number);
    expect(names).toEqual(want.map((w) => w[0]));
    expect(ages).toEqual(want.map((w) => Number(w[1])));
  });
});

describe('a 20 MB object', () => {
  it('selective filter returns exactly the matching rows; LIMIT stops the reads', async () => {
    const rows: string[] = ['id,name,score,region'];
    for (let i = 0; i < 400_000; i++)
      rows.push(`${i},user-${i},${(i * 7919) % 10007},r${i % 13},"note ${i % 997}, padded to a wider row"`);
    const body = Buffer.from(`${rows.join('\n')}\n`);
    expect(body.length).toBeGreaterThan(20e6);
    // Uploaded in 6 MiB parts: the reads cross part boundaries.
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'big.csv', Body: body },
      partSize: 6 * 1024 * 1024,
      queueSize: 2,
    }).done();
    const r = await select({
      Key: 'big.csv',
      Expression: "SELECT s.id, s.name FROM S3Object s WHERE CAST(s.score AS INT) < 40 AND s.region = 'r3'",
    });
    const want: string[] = [];
    for (let i = 0; i < 400_000; i++) if ((i * 7919) % 10007 < 40 && i % 13 === 3) want.push(`${i},user-${i}\n`);
    expect(want.length).toBeGreaterThan(50);
    expect(r.records).toBe(want.join(''));
    expect(r.stats).toEqual({ BytesScanned: body.length, BytesProcessed: body.length, BytesReturned: r.recordBytes });

    const limited = await select({ Key: 'big.csv', Expression: 'SELECT s.id FROM S3Object s LIMIT 3' });
    expect(limited.records).toBe('0\n1\n2\n');
    expect(limited.stats!.BytesScanned).toBeLessThan(body.length / 4);

    // ScanRange across a part boundary: exactly the records whose first byte lies in [start, end].
    const start = 6 * 1024 * 1024 - 100;
    const end = 6 * 1024 * 1024 + 200;
    const starts: string[] = [];
    for (let at = body.lastIndexOf(10, start - 1) + 1; at <= end; at = body.indexOf(10, at) + 1) {
      if (at >= start) starts.push(body.subarray(at, body.indexOf(10, at)).toString().split(',')[0]);
    }
    expect(starts.length).toBeGreaterThan(2);
    const ranged = await select({
      Key: 'big.csv',
      Expression: 'SELECT _1 FROM S3Object',
      InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } },
      ScanRange: { Start: start, End: end },
    });
    expect(ranged.records).toBe(starts.map((id) => `${id}\n`).join(''));
    expect(ranged.stats!.BytesScanned).toBeLessThan(2 * 1024 * 1024); // of 20 MB
  });
});

describe('the handler over storage', () => {
  it('a response closed mid-stream stops the storage reads', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-select-'));
    const storage = await openStorage({ drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)), background: false });
    try {
      await storage.makeBucket('bkt');
      const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `${i},${'v'.repeat(20)}`).join('\n'));
      await storage.putObject('bkt', 'k', Readable.from([data]), { size: data.length });
      // Real storage; every GET body it hands out is watched.
      const bodies: Readable[] = [];
      const watched: ObjectLayer = Object.create(storage, {
        openObject: {
          value: async (...a: Parameters<ObjectLayer['openObject']>) => {
            const opened = await storage.openObject(...a);
            return {
              info: opened.info,
              read: async (range?: ByteRange) => {
                const body = await opened.read(range);
                bodies.push(body);
                return body;
              },
            };
          },
        },
      });
      const ctx: ApiContext = {
        storage: watched,
        region: 'us-east-1',
        owner: { id: 'o', displayName: 'o' },
        now: () => Date.now(),
      };
      const xml =
        '<SelectObjectContentRequest><Expression>SELECT * FROM S3Object</Expression><ExpressionType>SQL</ExpressionType>' +
        '<InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization></SelectObjectContentRequest>';
      const logged: object[] = [];
      const req = {
        op: { name: 'SelectObjectContent', action: 's3:GetObject', bucket: 'bkt', key: 'k' },
        requestId: 'r',
        method: 'POST',
        headers: {},
        query: new URLSearchParams('select&select-type=2'),
        body: Readable.from([Buffer.from(xml)]),
        size: xml.length,
        trailers: new Map(),
        log: { info: (o: object) => logged.push(o), warn: () => {}, error: () => {} },
      } as unknown as S3Request;
      const res = await selectObjectContent(ctx, req, 'bkt', 'k');
      expect(res.status).toBe(200);
      // The log names the operation and its SQL (test/analytics/test_presto.py reads what Presto pushed down).
      expect(logged).toEqual([
        {
          operation: 'SelectObjectContent',
          bucket: 'bkt',
          key: 'k',
          expression: 'SELECT * FROM S3Object',
          input: 'CSV',
          compression: 'NONE',
          scanRange: undefined,
        },
      ]);
      const out = res.body as Readable;
      const first = await new Promise<Buffer>((resolve) => out.once('data', resolve));
      expect(first.length).toBeGreaterThan(0);
      expect(bodies.length).toBe(1);
      expect(bodies[0].destroyed).toBe(false);
      out.destroy(); // what fastify does when the client goes away
      await new Promise((resolve) => out.once('close', resolve));
      await vi.waitFor(() => expect(bodies[0].destroyed).toBe(true), { timeout: 30_000, interval: 20 });
      expect(bodies[0].readableEnded).toBe(false); // released early, not read to the end
    } finally {
      await storage.close();
      await rm(base, { recursive: true, force: true });
    }
  });
});
