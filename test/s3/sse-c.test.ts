// SSE-C with real clients: PUT/GET/HEAD with the customer key, ranges over package and block edges, S3's
// answers for a missing, wrong or mismatched key, checksums and Content-MD5 of the plaintext, S3 Select
// (CSV and ranged Parquet reads) over encrypted objects, no plaintext on any drive, swapped data refused,
// plain HTTP refused unless the loopback switch is on; multipart uploads (parts sealed under the upload's key)
// and copies (key rotation, UploadPartCopy between keys); what is not built yet refused with NotImplemented.
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  SelectObjectContentCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { signedFetch } from '../helpers/signed-request.js';

const BUCKET = 'ssec';
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const P = 64 * 1024;
const MiB = 1024 * 1024;
const rnd = seededRandom();
let setup: TestSetup;
let s3: S3Client;

const ssec = (key: Buffer) => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: key as unknown as string, // the SDK base64-encodes a Uint8Array key and adds its MD5
});
const keyHeaders = (key: Buffer, md5 = createHash('md5').update(key).digest('base64')) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': key.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': md5,
});

async function put(key: string, body: Buffer | string, k = KEY_A, extra = {}) {
  return s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...ssec(k), ...extra }));
}

async function get(key: string, k = KEY_A, range?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range, ...ssec(k) }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Every file under the drives (shard files and metadata files). */
async function driveFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await driveFiles(p)));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  setup = await startWithBucket(BUCKET, { sseCOverLoopbackHttp: true });
  s3 = setup.s3;
});

afterAll(async () => {
  await setup?.server.close();
});

describe('SSE-C PUT, GET, HEAD', () => {
  it('round-trips objects of every size around package and block edges, whole and ranged', async () => {
    for (const size of [0, 1, P - 1, P, P + 1, MiB, MiB + 1, 3 * MiB + 5]) {
      const body = rnd.bytes(size);
      const put1 = await put(`size-${size}`, body);
      expect(put1.SSECustomerAlgorithm).toBe('AES256');
      expect(put1.SSECustomerKeyMD5).toBe(createHash('md5').update(KEY_A).digest('base64'));
      // S3: an SSE-C object's ETag is not the MD5 of its data.
      expect(put1.ETag).not.toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      expect((await get(`size-${size}`)).equals(body), `size ${size}`).toBe(true);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `size-${size}`, ...ssec(KEY_A) }));
      expect(head.ContentLength).toBe(size);
      expect(head.SSECustomerAlgorithm).toBe('AES256');
      if (size < 2) continue;
      const ranges: [number, number][] = [
        [0, 0],
        [size - 1, size - 1],
        [Math.floor(size / 3), Math.floor((2 * size) / 3)],
        [Math.max(0, P - 3), Math.min(size - 1, P + 2)],
        [Math.min(size - 1, MiB - 1), Math.min(size - 1, MiB + P)],
      ];
      for (const [a, b] of ranges) {
        expect((await get(`size-${size}`, KEY_A, `bytes=${a}-${b}`)).equals(body.subarray(a, b + 1)), `${a}-${b}`).toBe(
          true,
        );
      }
      const suffix = await get(`size-${size}`, KEY_A, 'bytes=-7');
      expect(suffix.equals(body.subarray(size - 7))).toBe(true);
    }
  });

  it('lists plaintext sizes', async () => {
    await put('listed', rnd.bytes(P + 1));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'listed' }));
    expect(listed.Contents?.[0].Size).toBe(P + 1);
  });

  it('answers a missing key 400, a wrong key 403, a key for a plain object 400', async () => {
    await put('secret', 'secret data');
    const noKey = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret' })));
    expect(noKey).toEqual({ name: 'InvalidRequest', status: 400 });
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'secret' })))).status).toBe(400);
    const wrong = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret', ...ssec(KEY_B) })));
    expect(wrong).toEqual({ name: 'AccessDenied', status: 403 });
    const wrongHead = s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'secret', ...ssec(KEY_B) }));
    expect((await s3Error(wrongHead)).status).toBe(403);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: 'not encrypted' }));
    const onPlain = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', ...ssec(KEY_A) })));
    expect(onPlain).toEqual({ name: 'InvalidRequest', status: 400 });
    expect((await get('secret')).toString()).toBe('secret data');
    // GetObjectAttributes needs the key as HEAD does.
    const attributes = (extra: object) =>
      s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'secret', ObjectAttributes: ['ETag'], ...extra }));
    expect(await s3Error(attributes({}))).toEqual({ name: 'InvalidRequest', status: 400 });
    expect(await s3Error(attributes(ssec(KEY_B)))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await attributes(ssec(KEY_A))).ETag).toBeDefined();
  });

  it('refuses bad key headers with 400 and stores nothing', async () => {
    const url = setup.server.url;
    const send = (headers: Record<string, string>) =>
      signedFetch(url, { method: 'PUT', path: `/${BUCKET}/badkey`, headers, body: 'x' });
    const cases: [string, Record<string, string>, RegExp][] = [
      ['MD5 mismatch', keyHeaders(KEY_A, createHash('md5').update(KEY_B).digest('base64')), /did not match/],
      ['no MD5', { ...keyHeaders(KEY_A), 'x-amz-server-side-encryption-customer-key-md5': '' }, /MD5|md5/],
      ['short key', keyHeaders(Buffer.alloc(16, 1)), /secret key was invalid/],
      [
        'other algorithm',
        { ...keyHeaders(KEY_A), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' },
        /AES256/,
      ],
    ];
    for (const [what, headers, message] of cases) {
      const r = await send(headers);
      expect(r.status, what).toBe(400);
      expect(r.text, what).toMatch(message);
    }
    const keyOnly = keyHeaders(KEY_A) as Record<string, string>;
    delete keyOnly['x-amz-server-side-encryption-customer-algorithm'];
    expect((await send(keyOnly)).status).toBe(400);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'badkey' })))).status).toBe(404);
  });

  it('keeps checksums of the plaintext and checks Content-MD5 against it', async () => {
    const body = rnd.bytes(2 * MiB + 3);
    await put('ck', body, KEY_A, { ChecksumAlgorithm: 'CRC32' });
    const r = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'ck', ChecksumMode: 'ENABLED', ...ssec(KEY_A) }),
    );
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((await import('node:zlib')).crc32(body));
    expect(r.ChecksumCRC32).toBe(crc.toString('base64'));
    expect(Buffer.from(await r.Body!.transformToByteArray()).equals(body)).toBe(true);
    const md5 = createHash('md5').update(body).digest('base64');
    await put('md5-ok', body, KEY_A, { ContentMD5: md5 });
    const bad = await s3Error(
      put('md5-bad', body, KEY_A, { ContentMD5: createHash('md5').update('x').digest('base64') }),
    );
    expect(bad.name).toBe('BadDigest');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'md5-bad' })))).status).toBe(404);
  });
});

describe('SSE-C at rest', () => {
  it('leaves no plaintext on any drive (a marker grep over every file)', async () => {
    const marker = 'CAIRN-PLAINTEXT-MARKER-7f3a';
    const small = marker.repeat(10); // inline in the metadata files
    const large = Buffer.from(marker.repeat(Math.ceil((3 * MiB) / marker.length))); // shard files
    await put('marker-small', small);
    await put('marker-large', large);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'control', Body: marker.repeat(100) }));
    const found: string[] = [];
    for (const drive of setup.server.drives) {
      for (const file of await driveFiles(drive)) {
        if ((await readFile(file)).includes(marker)) found.push(file);
      }
    }
    // The grep finds the unencrypted control object (it works), and nothing of the encrypted ones.
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((f) => f.includes('control'))).toBe(true);
    expect((await get('marker-large')).equals(large)).toBe(true);
  });

  it('refuses data swapped between two objects on every drive, never returning wrong plaintext', async () => {
    const a = rnd.bytes(MiB);
    const b = rnd.bytes(MiB);
    await put('swap-a', a);
    await put('swap-b', b);
    // Same size, same key: the shard files fit each other's metadata; only the AEAD can tell.
    for (const drive of setup.server.drives) {
      const dirOf = async (key: string) => {
        const obj = join(drive, BUCKET, `${key}.o`);
        const dataDir = (await readdir(obj, { withFileTypes: true })).find((e) => e.isDirectory())!.name;
        return join(obj, dataDir);
      };
      const [da, db] = [await dirOf('swap-a'), await dirOf('swap-b')];
      expect((await stat(join(da, 'part.1'))).size).toBe((await stat(join(db, 'part.1'))).size);
      await rename(join(da, 'part.1'), join(da, 'tmp'));
      await rename(join(db, 'part.1'), join(da, 'part.1'));
      await rename(join(da, 'tmp'), join(db, 'part.1'));
    }
    for (const key of ['swap-a', 'swap-b']) {
      const err = await s3Error(get(key));
      expect(err.status).toBe(500);
    }
  });
});

describe('SSE-C with S3 Select', () => {
  async function select(key: string, q: string, input: object): Promise<string> {
    const res = await s3.send(
      new SelectObjectContentCommand({
        Bucket: BUCKET,
        Key: key,
        Expression: q,
        ExpressionType: 'SQL',
        InputSerialization: input,
        OutputSerialization: { CSV: {} },
        ...ssec(KEY_A),
      }),
    );
    let out = '';
    for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
    return out;
  }

  it('queries an encrypted CSV object and needs its key', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},name-${i}`).join('\n');
    await put('table.csv', `id,name\n${rows}\n`);
    const out = await select('table.csv', "SELECT s.name FROM S3Object s WHERE s.id = '19999'", {
      CSV: { FileHeaderInfo: 'USE' },
    });
    expect(out).toBe('name-19999\n');
    const noKey = s3.send(
      new SelectObjectContentCommand({
        Bucket: BUCKET,
        Key: 'table.csv',
        Expression: 'SELECT * FROM S3Object',
        ExpressionType: 'SQL',
        InputSerialization: { CSV: {} },
        OutputSerialization: { CSV: {} },
      }),
    );
    expect((await s3Error(noKey)).status).toBe(400);
  });

  it('reads an encrypted Parquet object by ranges (footer, column chunks)', async () => {
    const fixture = new URL('../../select-engine/test/formats/fixtures/rowgroups.parquet', import.meta.url);
    await put('rowgroups.parquet', await readFile(fixture));
    const out = await select('rowgroups.parquet', 'SELECT s.id, s.grp FROM S3Object s WHERE s.id >= 998', {
      Parquet: {},
    });
    expect(out).toBe('998,g9\n999,g9\n');
  });
});

describe('SSE-C refusals', () => {
  it('is refused over plain HTTP without the loopback switch', async () => {
    const strict = await startWithBucket('strict');
    try {
      const r = strict.s3.send(new PutObjectCommand({ Bucket: 'strict', Key: 'k', Body: 'x', ...ssec(KEY_A) }));
      expect(await s3Error(r)).toEqual({ name: 'InvalidRequest', status: 400 });
      expect((await s3Error(strict.s3.send(new HeadObjectCommand({ Bucket: 'strict', Key: 'k' })))).status).toBe(404);
    } finally {
      await strict.server.close();
    }
  });

  it('refuses what is not built yet: SSE-S3 and SSE-KMS', async () => {
    const r = s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 's3', Body: 'x', ServerSideEncryption: 'AES256' }));
    expect((await s3Error(r)).name).toBe('NotImplemented');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 's3' })))).status).toBe(404);
  });
});

describe('SSE-C multipart uploads and copies', () => {
  const md5 = (k: Buffer) => createHash('md5').update(k).digest('base64');

  it('uploads parts sealed under the upload key (one sent twice), reads whole, ranged and by part', async () => {
    const sizes = [5 * MiB, 5 * MiB + 7, MiB + 3];
    const data = sizes.map((n) => rnd.bytes(n));
    const whole = Buffer.concat(data);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', ...ssec(KEY_A) }));
    expect(up.SSECustomerKeyMD5).toBe(md5(KEY_A));
    const UploadId = up.UploadId!;
    const part = (n: number, body: Buffer, k?: Buffer) =>
      s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: 'mp',
          UploadId,
          PartNumber: n,
          Body: body,
          ...(k ? ssec(k) : {}),
        }),
      );
    expect((await s3Error(part(1, data[0]))).status).toBe(400); // the upload's key is needed
    // Another key on a write to the upload: 400 InvalidRequest as S3 answers (a read with it is 403).
    expect(await s3Error(part(1, data[0], KEY_B))).toEqual({ name: 'InvalidRequest', status: 400 });
    const none = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp', UploadId }));
    expect(none.Parts ?? []).toEqual([]);
    const etags: string[] = [];
    for (let i = 0; i < 3; i++) etags.push((await part(i + 1, data[i], KEY_A)).ETag!);
    etags[1] = (await part(2, data[1], KEY_A)).ETag!; // sent again: a new salt, a new stream key
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp', UploadId }));
    expect(listed.Parts?.map((p) => p.Size)).toEqual(sizes);
    // Complete may carry the key (boto3 sends it): it must be the upload's.
    const complete = (k: Buffer) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mp',
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          ...ssec(k),
        }),
      );
    expect(await s3Error(complete(KEY_B))).toEqual({ name: 'InvalidRequest', status: 400 });
    await complete(KEY_A);
    expect((await get('mp')).equals(whole)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp', ...ssec(KEY_A) }));
    expect(head.ContentLength).toBe(whole.length);
    for (const [a, b] of [
      [5 * MiB - 10, 5 * MiB + 10],
      [0, whole.length - 1],
      [10 * MiB + 5, 10 * MiB + 9],
      [3, 11 * MiB],
    ]) {
      expect((await get('mp', KEY_A, `bytes=${a}-${b}`)).equals(whole.subarray(a, b + 1)), `${a}-${b}`).toBe(true);
    }
    const p2 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp', PartNumber: 2, ...ssec(KEY_A) }));
    expect(Buffer.from(await p2.Body!.transformToByteArray()).equals(data[1])).toBe(true);
    const listedObject = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'mp' }));
    expect(listedObject.Contents?.[0].Size).toBe(whole.length);
    expect((await s3Error(get('mp', KEY_B))).status).toBe(403);
  });

  it('needs the key on Complete when the upload has a checksum algorithm (missing or wrong: 400, nothing made)', async () => {
    const body = rnd.bytes(MiB + 11);
    const up = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-sum', ChecksumAlgorithm: 'CRC32', ...ssec(KEY_A) }),
    );
    const UploadId = up.UploadId!;
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'mp-sum',
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumAlgorithm: 'CRC32',
        ...ssec(KEY_A),
      }),
    );
    const Parts = [{ ETag: part.ETag, PartNumber: 1, ChecksumCRC32: part.ChecksumCRC32 }];
    const complete = (k?: Buffer) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mp-sum',
          UploadId,
          MultipartUpload: { Parts },
          ...(k ? ssec(k) : {}),
        }),
      );
    for (const k of [undefined, KEY_B]) {
      expect(await s3Error(complete(k)), k ? 'wrong key' : 'no key').toEqual({ name: 'InvalidRequest', status: 400 });
      // Nothing completed: the upload and its part are still there, no object.
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp-sum', UploadId }));
      expect(listed.Parts?.map((p) => p.PartNumber)).toEqual([1]);
      const head = s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp-sum', ...ssec(KEY_A) }));
      expect((await s3Error(head)).status).toBe(404);
    }
    await complete(KEY_A);
    expect((await get('mp-sum')).equals(body)).toBe(true);
    // An upload without a checksum algorithm completes without the key (AWS needs it only with one).
    const plainUp = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-nosum', ...ssec(KEY_A) }),
    );
    const p1 = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'mp-nosum',
        UploadId: plainUp.UploadId,
        PartNumber: 1,
        Body: body,
        ...ssec(KEY_A),
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mp-nosum',
        UploadId: plainUp.UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }] },
      }),
    );
    expect((await get('mp-nosum')).equals(body)).toBe(true);
  });

  it('copies: encrypted to plain, plain to encrypted, key rotation in place, UploadPartCopy between keys', async () => {
    const body = rnd.bytes(2 * MiB + 9);
    await put('c-src', body, KEY_A);
    const copySourceKey = {
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: KEY_A as unknown as string,
    };
    // Without the source's key: 400, nothing written.
    const noKey = s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'c-plain', CopySource: `${BUCKET}/c-src` }));
    expect((await s3Error(noKey)).status).toBe(400);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'c-plain' })))).status).toBe(404);
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'c-plain', CopySource: `${BUCKET}/c-src`, ...copySourceKey }),
    );
    const plain = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'c-plain' }));
    expect(Buffer.from(await plain.Body!.transformToByteArray()).equals(body)).toBe(true);
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'c-enc', CopySource: `${BUCKET}/c-plain`, ...ssec(KEY_B) }),
    );
    expect((await get('c-enc', KEY_B)).equals(body)).toBe(true);
    // Rotation: the object copied onto itself under a new key; the old key no longer opens it.
    const same = s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'c-src',
        CopySource: `${BUCKET}/c-src`,
        ...copySourceKey,
        ...ssec(KEY_A),
      }),
    );
    expect((await s3Error(same)).name).toBe('InvalidRequest'); // nothing changes: S3's illegal copy
    await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'c-src',
        CopySource: `${BUCKET}/c-src`,
        ...copySourceKey,
        ...ssec(KEY_B),
      }),
    );
    expect((await get('c-src', KEY_B)).equals(body)).toBe(true);
    expect((await s3Error(get('c-src', KEY_A))).status).toBe(403);
    // UploadPartCopy: a range of an object under KEY_B into an upload under KEY_A.
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'c-mp', ...ssec(KEY_A) }),
    );
    const partCopy = (destination: Buffer) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'c-mp',
          UploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/c-src`,
          CopySourceRange: 'bytes=100-1048675',
          CopySourceSSECustomerAlgorithm: 'AES256',
          CopySourceSSECustomerKey: KEY_B as unknown as string,
          ...ssec(destination),
        }),
      );
    // The source's key given as the destination's too: not the upload's key, 400 and no part stored.
    expect(await s3Error(partCopy(KEY_B))).toEqual({ name: 'InvalidRequest', status: 400 });
    const none = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'c-mp', UploadId }));
    expect(none.Parts ?? []).toEqual([]);
    const copied = await partCopy(KEY_A);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'c-mp',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: copied.CopyPartResult!.ETag, PartNumber: 1 }] },
      }),
    );
    expect((await get('c-mp', KEY_A)).equals(body.subarray(100, 1048676))).toBe(true);
  });
});
