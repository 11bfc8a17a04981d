// `cairn gateway s3`: S3 Select runs in the gateway over the backend's objects (whole reads for CSV and JSON,
// ranged reads of the footer and the needed column chunks for Parquet), and answers exactly what the backend
// Cairn answers for the same query: a handful of the golden cases' inputs and queries, each asked of both.
import { readFile } from 'node:fs/promises';
import {
  CreateBucketCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/cairn.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

const GOLDEN = new URL('../../select-engine/test/golden/data/', import.meta.url);
const FIXTURES = new URL('../../select-engine/test/formats/fixtures/', import.meta.url);
const FILES: Record<string, URL> = {
  'people.csv': new URL('people.csv', GOLDEN),
  'people.jsonl': new URL('people.jsonl', GOLDEN),
  'people.parquet': new URL('people.parquet', GOLDEN),
  'types-snappy.parquet': new URL('types-snappy.parquet', FIXTURES),
  'dictionary.parquet': new URL('dictionary.parquet', FIXTURES),
};

let backend: TestServer;
let gw: S3Gateway;
let be: S3Client;
let s3: S3Client;

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  await be.send(new CreateBucketCommand({ Bucket: 'sel' }));
  for (const [Key, url] of Object.entries(FILES))
    await be.send(new PutObjectCommand({ Bucket: 'sel', Key, Body: await readFile(url) }));
  gw = await startS3Gateway(backend.url);
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

/** The records a query returns (the event stream's Records payloads joined), or its error's name. */
async function select(client: S3Client, input: Omit<SelectObjectContentCommandInput, 'Bucket' | 'ExpressionType'>) {
  try {
    const res = await client.send(new SelectObjectContentCommand({ Bucket: 'sel', ExpressionType: 'SQL', ...input }));
    let out = '';
    for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
    return out;
  } catch (e) {
    return `error: ${(e as Error).name}`;
  }
}

const csvIn = { CSV: { FileHeaderInfo: 'USE' as const } };
const jsonOut = { JSON: {} };
const CASES: [string, Omit<SelectObjectContentCommandInput, 'Bucket' | 'ExpressionType'>][] = [
  [
    'CSV filter and projection',
    {
      Key: 'people.csv',
      Expression: 'SELECT s.name, s.age FROM S3Object s WHERE CAST(s.age AS INT) > 30',
      InputSerialization: csvIn,
      OutputSerialization: { CSV: {} },
    },
  ],
  [
    'CSV aggregates',
    {
      Key: 'people.csv',
      Expression: 'SELECT COUNT(*), MAX(CAST(s.score AS FLOAT)) FROM S3Object s',
      InputSerialization: csvIn,
      OutputSerialization: jsonOut,
    },
  ],
  [
    'JSON lines filter',
    {
      Key: 'people.jsonl',
      Expression: "SELECT s.name, s.city FROM S3Object s WHERE s.city = 'Paris' OR s.age < 30",
      InputSerialization: { JSON: { Type: 'LINES' } },
      OutputSerialization: jsonOut,
    },
  ],
  [
    'Parquet filter and projection',
    {
      Key: 'people.parquet',
      Expression: 'SELECT s.name, s.city FROM S3Object s WHERE s.age > 30',
      InputSerialization: { Parquet: {} },
      OutputSerialization: jsonOut,
    },
  ],
  [
    'Parquet with nested types, LIMIT',
    {
      Key: 'types-snappy.parquet',
      Expression: 'SELECT * FROM S3Object s LIMIT 3',
      InputSerialization: { Parquet: {} },
      OutputSerialization: jsonOut,
    },
  ],
  [
    'Parquet dictionary pages, aggregate',
    {
      Key: 'dictionary.parquet',
      Expression: 'SELECT COUNT(*) FROM S3Object s',
      InputSerialization: { Parquet: {} },
      OutputSerialization: { CSV: {} },
    },
  ],
  [
    'an SQL error',
    {
      Key: 'people.csv',
      Expression: 'SELECT nope( FROM S3Object',
      InputSerialization: csvIn,
      OutputSerialization: jsonOut,
    },
  ],
];

describe('Select through the gateway equals Select on the backend', () => {
  for (const [name, input] of CASES)
    it(name, async () => {
      const direct = await select(be, input);
      expect(direct.length).toBeGreaterThan(0);
      expect(await select(s3, input)).toBe(direct);
      // Again: Parquet's footer now comes from the gateway's cache, the answer is the same.
      expect(await select(s3, input)).toBe(direct);
    });

  it('an object rewritten on the backend is queried anew (the footer cache is keyed by ETag)', async () => {
    const q = {
      Key: 'swap.parquet',
      Expression: 'SELECT COUNT(*) FROM S3Object s',
      InputSerialization: { Parquet: {} },
      OutputSerialization: { CSV: {} },
    };
    await be.send(
      new PutObjectCommand({ Bucket: 'sel', Key: 'swap.parquet', Body: await readFile(FILES['people.parquet']) }),
    );
    const first = await select(s3, q);
    expect(first).toBe(await select(be, q));
    const other = await readFile(FILES['dictionary.parquet']);
    await be.send(new PutObjectCommand({ Bucket: 'sel', Key: 'swap.parquet', Body: other }));
    const second = await select(s3, q);
    expect(second).toBe(await select(be, q));
    expect(second).not.toBe(first);
  });
});
