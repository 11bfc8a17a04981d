// Encrypted GETs open their sealed packages where storage read them (issue 16): the bytes a client gets for
// SSE-S3, SSE-KMS and SSE-C objects of every size around a package (64 KiB + 16), a shard piece (512 KiB of
// sealed bytes on 2 + 2 drives) and a block, whole and ranged (ranges across piece edges), multipart objects
// (one sealed stream per part), and GETs of one object at once (batches shared through the read-ahead cache,
// which must stay read-only) and one after another (batches taken out of it).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const BUCKET = 'sseinplace';
const KiB = 1024;
const MiB = 1024 * KiB;
const P = 64 * KiB;
const rnd = seededRandom();
const CUSTOMER_KEY = Buffer.alloc(32, 0x6d);
let setup: TestSetup;
let s3: S3Client;

beforeAll(async () => {
  setup = await startWithBucket(BUCKET, {
    kms: { secretKey: `in-place-key:${randomBytes(32).toString('base64')}` },
    sseCOverLoopbackHttp: true,
  });
  s3 = setup.s3;
});

afterAll(async () => {
  await setup?.server.close();
});

type Kind = 'SSE-S3' | 'SSE-KMS' | 'SSE-C';
const KINDS: Kind[] = ['SSE-S3', 'SSE-KMS', 'SSE-C'];

function putEncryption(kind: Kind) {
  if (kind === 'SSE-S3') return { ServerSideEncryption: 'AES256' as const };
  if (kind === 'SSE-KMS') return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: 'in-place-key' };
  return getEncryption(kind);
}

function getEncryption(kind: Kind) {
  return kind === 'SSE-C'
    ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: CUSTOMER_KEY as unknown as string } // the SDK adds the MD5
    : {};
}

async function get(kind: Kind, key: string, range?: [number, number]): Promise<Buffer> {
  const Range = range ? `bytes=${range[0]}-${range[1]}` : undefined;
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range, ...getEncryption(kind) }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Plaintext sizes whose sealed length is `sealed` bytes (whole packages of 64 KiB + 16 before the last). */
const sealedToPlain = (sealed: number) => sealed - 16 * Math.ceil(sealed / (P + 16));

// Around a package, a shard piece (512 KiB of sealed bytes), a block (1 MiB of sealed bytes), a batch.
const SIZES = [
  P - 1,
  P,
  P + 1,
  sealedToPlain(512 * KiB) - 1,
  sealedToPlain(512 * KiB),
  sealedToPlain(512 * KiB) + 1,
  MiB - 1,
  sealedToPlain(MiB),
  MiB + 1,
  16 * P + 1,
  3 * MiB + 4321,
];

/** Ranges of an object of `n` bytes: its edges, across piece edges, inside one package, a random one. */
function ranges(n: number): [number, number][] {
  const piece = sealedToPlain(512 * KiB);
  const out: [number, number][] = [
    [0, 0],
    [n - 1, n - 1],
    [1, n - 2],
    [Math.max(0, piece - 100), Math.min(n - 1, piece + 100)],
    [Math.max(0, P - 3), Math.min(n - 1, 3 * P + 7)],
  ];
  const a = rnd.int(0, n);
  out.push([a, rnd.int(a, n)]);
  return out.filter(([a, z]) => a <= z && z < n);
}

describe('encrypted GETs opened in place', () => {
  it.each(KINDS)(
    '%s: every size around package, piece and block edges, whole and ranged',
    async (kind) => {
      for (const size of SIZES) {
        const data = rnd.bytes(size);
        const key = `sizes-${kind}-${size}`;
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ...putEncryption(kind) }));
        expect(sha(await get(kind, key)), `${size} bytes`).toBe(sha(data));
        for (const [a, z] of ranges(size))
          expect((await get(kind, key, [a, z])).equals(data.subarray(a, z + 1)), `${size} bytes ${a}-${z}`).toBe(true);
        // Again at once: the batches the first GET took out of the cache are read again, the right bytes.
        expect(sha(await get(kind, key)), `${size} bytes again`).toBe(sha(data));
      }
    },
    300_000,
  );

  it.each(KINDS)(
    '%s multipart: parts of uneven sizes, whole and across part edges',
    async (kind) => {
      const key = `mp-${kind}`;
      const parts = [rnd.bytes(5 * MiB + 17), rnd.bytes(5 * MiB), rnd.bytes(700 * KiB + 3)];
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ...putEncryption(kind) }));
      const etags: string[] = [];
      for (const [i, part] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: up.UploadId,
            PartNumber: i + 1,
            Body: part,
            ...getEncryption(kind),
          }),
        );
        etags.push(r.ETag!);
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: up.UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          ...getEncryption(kind),
        }),
      );
      const whole = Buffer.concat(parts);
      expect(sha(await get(kind, key))).toBe(sha(whole));
      const edge = parts[0].length;
      for (const [a, z] of [
        [edge - 5, edge + 5],
        [edge - 600 * KiB, 2 * edge],
        [whole.length - P - 9, whole.length - 1],
      ] as [number, number][])
        expect((await get(kind, key, [a, z])).equals(whole.subarray(a, z + 1)), `${a}-${z}`).toBe(true);
    },
    300_000,
  );

  it.each(KINDS)(
    '%s: GETs of one object at once, whole and ranged, each the right bytes',
    async (kind) => {
      const key = `together-${kind}`;
      const data = rnd.bytes(6 * MiB + 99);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ...putEncryption(kind) }));
      for (let round = 0; round < 3; round++) {
        const asks: ([number, number] | undefined)[] = [
          undefined,
          undefined,
          [MiB - 7, 4 * MiB],
          undefined,
          [5, 2 * MiB],
        ];
        const got = await Promise.all(asks.map((r) => get(kind, key, r)));
        got.forEach((g, i) => {
          const r = asks[i];
          expect(sha(g), `round ${round} GET ${i}`).toBe(sha(r ? data.subarray(r[0], r[1] + 1) : data));
        });
      }
    },
    300_000,
  );
});
