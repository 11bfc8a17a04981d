// Bucket lifecycle configuration over HTTP: Put/Get/DeleteBucketLifecycleConfiguration with the AWS SDK (every
// filter form and action read back as put), the digest AWS requires, x-amz-expiration on PUT/HEAD/GET/copy/
// multipart answers (AWS's days: due at the next midnight UTC), and bad documents that each get the S3 error
// and store nothing (GET still answers the previous configuration, byte for byte).
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
let alt: S3Client;
const DAY = 86_400_000;

beforeAll(async () => {
  ({ server, s3, alt } = await startWithBucket());
});
afterAll(() => server?.close());

let n = 0;
async function newBucket(): Promise<string> {
  const Bucket = `life-${++n}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

const put = (Bucket: string, Rules: LifecycleRule[]) =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
const rulesOf = async (Bucket: string) => (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules;

/** PUT ?lifecycle with a raw body (and its Content-MD5 unless `digest` is false). */
function rawPut(Bucket: string, body: string, digest = true) {
  const headers: Record<string, string> = digest
    ? { 'content-md5': createHash('md5').update(body).digest('base64') }
    : {};
  return signedFetch(server.url, { method: 'PUT', path: `/${Bucket}`, query: { lifecycle: '' }, body, headers });
}
const rawGet = (Bucket: string) =>
  signedFetch(server.url, { method: 'GET', path: `/${Bucket}`, query: { lifecycle: '' } });

describe('Put/Get/DeleteBucketLifecycleConfiguration', () => {
  it('keeps every filter form and action as put, and generates an ID when none is given', async () => {
    const Bucket = await newBucket();
    const rules: LifecycleRule[] = [
      { ID: 'legacy', Prefix: 'logs/', Status: 'Enabled', Expiration: { Days: 30 } },
      { ID: 'empty', Filter: {}, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'prefix', Filter: { Prefix: 'tmp/' }, Status: 'Disabled', Expiration: { Date: new Date('2030-01-01') } },
      { ID: 'tag', Filter: { Tag: { Key: 'k', Value: 'v' } }, Status: 'Enabled', Expiration: { Days: 2 } },
      { ID: 'gt', Filter: { ObjectSizeGreaterThan: 1000 }, Status: 'Enabled', Expiration: { Days: 3 } },
      { ID: 'lt', Filter: { ObjectSizeLessThan: 10 }, Status: 'Enabled', Expiration: { Days: 4 } },
      {
        ID: 'and',
        Filter: {
          And: {
            Prefix: 'a/',
            Tags: [
              { Key: 'x', Value: '1' },
              { Key: 'y', Value: '' },
            ],
            ObjectSizeGreaterThan: 5,
            ObjectSizeLessThan: 500,
          },
        },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 3 },
      },
      {
        ID: 'mpu',
        Filter: { Prefix: 'up/' },
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ];
    await put(Bucket, rules);
    expect(await rulesOf(Bucket)).toEqual(rules);

    await put(Bucket, [{ Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 1 } }]);
    const [generated] = (await rulesOf(Bucket))!;
    expect(generated.ID).toMatch(/^[A-Za-z0-9+/=]{48}$/);
  });

  it('GET of a bucket without one is NoSuchLifecycleConfiguration; DELETE removes it and is 204 either way', async () => {
    const Bucket = await newBucket();
    const none = { name: 'NoSuchLifecycleConfiguration', status: 404 };
    expect(await s3Error(rulesOf(Bucket))).toMatchObject(none);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    await put(Bucket, [{ ID: 'r', Prefix: '', Status: 'Enabled', Expiration: { Days: 1 } }]);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    expect(await s3Error(rulesOf(Bucket))).toMatchObject(none);
    expect(await s3Error(rulesOf('no-such-bucket'))).toMatchObject({ name: 'NoSuchBucket' });
  });

  it('only the owner (or a policy) may set it', async () => {
    const Bucket = await newBucket();
    const denied = alt.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: [{ ID: 'r', Prefix: '', Status: 'Enabled', Expiration: { Days: 1 } }] },
      }),
    );
    expect(await s3Error(denied)).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(rulesOf(Bucket))).toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
  });
});

const rule = (inner: string) => `<Rule>${inner}</Rule>`;
const doc = (...rules: string[]) => `<LifecycleConfiguration>${rules.join('')}</LifecycleConfiguration>`;
const ok = (id = 'r', action = '<Expiration><Days>1</Days></Expiration>') =>
  rule(`<ID>${id}</ID><Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status>${action}`);

describe('bad lifecycle documents get the S3 error and store nothing', () => {
  const cases: [what: string, body: string, code: string][] = [
    ['not XML', '<LifecycleConfiguration><Rule>', 'MalformedXML'],
    ['another root', `<Lifecycle>${ok()}</Lifecycle>`, 'MalformedXML'],
    ['no rule', doc(), 'MalformedXML'],
    ['an unknown element', doc(ok().replace('<Status>', '<Colour>red</Colour><Status>')), 'MalformedXML'],
    ['an ID of 256 characters', doc(ok('a'.repeat(256))), 'InvalidArgument'],
    ['two rules with one ID', doc(ok('same'), ok('same')), 'InvalidArgument'],
    ['Status in lower case', doc(ok().replace('Enabled', 'enabled')), 'MalformedXML'],
    ['no Status', doc(ok().replace('<Status>Enabled</Status>', '')), 'MalformedXML'],
    ['both Prefix and Filter', doc(ok().replace('<Status>', '<Prefix>x</Prefix><Status>')), 'MalformedXML'],
    [
      'neither Prefix nor Filter',
      doc(rule('<ID>r</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')),
      'MalformedXML',
    ],
    [
      'a Filter with two predicates',
      doc(ok().replace('</Prefix>', '</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan>')),
      'MalformedXML',
    ],
    [
      'And with one predicate',
      doc(ok().replace('<Prefix>p/</Prefix>', '<And><Prefix>p/</Prefix></And>')),
      'MalformedXML',
    ],
    [
      'And with a tag key twice',
      doc(
        ok().replace(
          '<Prefix>p/</Prefix>',
          '<And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And>',
        ),
      ),
      'InvalidRequest',
    ],
    [
      'And with sizes that name nothing',
      doc(
        ok().replace(
          '<Prefix>p/</Prefix>',
          '<And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And>',
        ),
      ),
      'InvalidArgument',
    ],
    [
      'a negative size',
      doc(ok().replace('<Prefix>p/</Prefix>', '<ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan>')),
      'InvalidArgument',
    ],
    ['a tag without key', doc(ok().replace('<Prefix>p/</Prefix>', '<Tag><Value>v</Value></Tag>')), 'MalformedXML'],
    ['no action', doc(rule('<ID>r</ID><Prefix>p/</Prefix><Status>Enabled</Status>')), 'InvalidRequest'],
    ['Days 0', doc(ok('r', '<Expiration><Days>0</Days></Expiration>')), 'InvalidArgument'],
    ['Days -1', doc(ok('r', '<Expiration><Days>-1</Days></Expiration>')), 'InvalidArgument'],
    ['Days not a number', doc(ok('r', '<Expiration><Days>one</Days></Expiration>')), 'MalformedXML'],
    [
      'Days and Date',
      doc(ok('r', '<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>')),
      'MalformedXML',
    ],
    [
      'Days and ExpiredObjectDeleteMarker',
      doc(
        ok('r', '<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>'),
      ),
      'MalformedXML',
    ],
    ['an empty Expiration', doc(ok('r', '<Expiration></Expiration>')), 'MalformedXML'],
    [
      'a Date not at midnight',
      doc(ok('r', '<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>')),
      'InvalidArgument',
    ],
    ['a Date that is no date', doc(ok('r', '<Expiration><Date>soon</Date></Expiration>')), 'InvalidArgument'],
    [
      'ExpiredObjectDeleteMarker neither true nor false',
      doc(ok('r', '<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>')),
      'MalformedXML',
    ],
    [
      'ExpiredObjectDeleteMarker with a tag filter',
      doc(
        rule(
          '<ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>' +
            '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
        ),
      ),
      'InvalidRequest',
    ],
    [
      'NoncurrentDays 0',
      doc(ok('r', '<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>')),
      'InvalidArgument',
    ],
    [
      'NewerNoncurrentVersions 101',
      doc(
        ok(
          'r',
          '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
        ),
      ),
      'InvalidArgument',
    ],
    [
      'NoncurrentVersionExpiration without days',
      doc(ok('r', '<NoncurrentVersionExpiration></NoncurrentVersionExpiration>')),
      'MalformedXML',
    ],
    [
      'DaysAfterInitiation 0',
      doc(
        ok(
          'r',
          '<AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
        ),
      ),
      'InvalidArgument',
    ],
    [
      'AbortIncompleteMultipartUpload with a tag filter',
      doc(
        rule(
          '<ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>' +
            '<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
        ),
      ),
      'InvalidRequest',
    ],
    [
      'a Transition to a storage class no remote tier has (MinIO: tiers are the transition classes)',
      doc(ok('r', '<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>')),
      'InvalidStorageClass',
    ],
    [
      'a Transition to a date not at midnight',
      doc(ok('r', '<Transition><Date>2030-01-01T10:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>')),
      'InvalidArgument',
    ],
    ['a Transition without a storage class', doc(ok('r', '<Transition><Days>30</Days></Transition>')), 'MalformedXML'],
    [
      'a Transition with both Days and Date',
      doc(
        ok(
          'r',
          '<Transition><Days>1</Days><Date>2030-01-01T00:00:00Z</Date><StorageClass>WARM</StorageClass></Transition>',
        ),
      ),
      'MalformedXML',
    ],
    [
      'a NoncurrentVersionTransition',
      doc(
        ok(
          'r',
          '<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>',
        ),
      ),
      'InvalidStorageClass',
    ],
    [
      "MinIO's DelMarkerExpiration",
      doc(ok('r', '<DelMarkerExpiration><Days>1</Days></DelMarkerExpiration>')),
      'NotImplemented',
    ],
    ['1001 rules', doc(...Array.from({ length: 1001 }, (_, i) => ok(`r${i}`))), 'InvalidRequest'],
  ];

  it.each(cases)('%s: %s', async (_what, body, code) => {
    const Bucket = await newBucket();
    await rawPut(Bucket, doc(ok('kept')));
    const before = await rawGet(Bucket);
    expect(before.status).toBe(200);
    const r = await rawPut(Bucket, body);
    expect(r.text).toContain(`<Code>${code}</Code>`);
    expect(r.status).toBe(code === 'NotImplemented' ? 501 : 400);
    const after = await rawGet(Bucket);
    expect(after.text).toBe(before.text);
  });

  it('a PUT without Content-MD5 or a checksum is InvalidRequest and stores nothing', async () => {
    const Bucket = await newBucket();
    const r = await rawPut(Bucket, doc(ok()), false);
    expect(r.status).toBe(400);
    expect(r.text).toContain('<Code>InvalidRequest</Code>');
    expect((await rawGet(Bucket)).text).toContain('<Code>NoSuchLifecycleConfiguration</Code>');
  });

  it('a wrong Content-MD5 is BadDigest', async () => {
    const Bucket = await newBucket();
    const r = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${Bucket}`,
      query: { lifecycle: '' },
      body: doc(ok()),
      headers: { 'content-md5': createHash('md5').update('other').digest('base64') },
    });
    expect(r.text).toContain('<Code>BadDigest</Code>');
    expect((await rawGet(Bucket)).text).toContain('<Code>NoSuchLifecycleConfiguration</Code>');
  });
});

describe('x-amz-expiration', () => {
  const header = /^expiry-date="([^"]+)", rule-id="([^"]+)"$/;
  /** AWS's due time: Days after the write, rounded up to the next midnight UTC. */
  const midnightAfter = (t: Date, days: number) => Math.floor((t.getTime() + (days + 1) * DAY) / DAY) * DAY;

  it('answers PUT, HEAD, GET, CopyObject and CompleteMultipartUpload of objects an Expiration rule names', async () => {
    const Bucket = await newBucket();
    await put(Bucket, [
      { ID: 'ten', Filter: { Prefix: 'e/' }, Status: 'Enabled', Expiration: { Days: 10 } },
      { ID: 'three', Filter: { Tag: { Key: 'short', Value: 'yes' } }, Status: 'Enabled', Expiration: { Days: 3 } },
      { ID: 'off', Filter: { Prefix: '' }, Status: 'Disabled', Expiration: { Days: 1 } },
      {
        ID: 'old',
        Filter: { Prefix: 'noncurrent/' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    const put1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'e/a', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'e/a' }));
    const m = header.exec(put1.Expiration ?? '');
    expect(m?.[2]).toBe('ten');
    expect(new Date(m![1]).getTime()).toBe(midnightAfter(head.LastModified!, 10));
    expect(head.Expiration).toBe(put1.Expiration);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'e/a' }));
    await got.Body?.transformToString();
    expect(got.Expiration).toBe(put1.Expiration);

    // Two rules name it: the earlier expiry is the answer.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'e/b', Body: 'x', Tagging: 'short=yes' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'e/b' }))).Expiration).toMatch(/rule-id="three"$/);

    const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'e/c', CopySource: `${Bucket}/e/a` }));
    expect(copy.Expiration).toMatch(/rule-id="ten"$/);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'e/m' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'e/m', UploadId: up.UploadId, PartNumber: 1, Body: 'p' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'e/m',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.Expiration).toMatch(/rule-id="ten"$/);

    // Nothing for objects no enabled Expiration rule names.
    const other = await s3.send(new PutObjectCommand({ Bucket, Key: 'noncurrent/x', Body: 'x' }));
    expect(other.Expiration).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'noncurrent/x' }))).Expiration).toBeUndefined();
  });

  it('a Date rule answers its date; noncurrent versions get none from it', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await put(Bucket, [{ ID: 'date', Filter: {}, Status: 'Enabled', Expiration: { Date: new Date('2031-06-01') } }]);
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: '1' }));
    expect(first.Expiration).toBe('expiry-date="Sun, 01 Jun 2031 00:00:00 GMT", rule-id="date"');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: '2' }));
    const old = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: first.VersionId }));
    expect(old.Expiration).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).Expiration).toBe(first.Expiration);
  });

  it('a noncurrent version a NoncurrentVersionExpiration rule names: its days count from its successor', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await put(Bucket, [
      { ID: 'nc5', Filter: { Prefix: 'n/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 5 } },
      {
        ID: 'keep2',
        Filter: { Prefix: 'k/' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 },
      },
    ]);
    const head = (Key: string, VersionId?: string) => s3.send(new HeadObjectCommand({ Bucket, Key, VersionId }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'n/a', Body: '1' }));
    expect(v1.Expiration).toBeUndefined(); // current: no Expiration rule names it
    // A longer key sharing the prefix is listed after n/a's versions: never taken for one of them.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'n/ab', Body: 'x' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'n/a', Body: '2' }));
    const v3 = await s3.send(new PutObjectCommand({ Bucket, Key: 'n/a', Body: '3' }));
    const successorOf = async (v: { VersionId?: string }) => (await head('n/a', v.VersionId)).LastModified!;
    const h1 = await head('n/a', v1.VersionId);
    const h2 = await head('n/a', v2.VersionId);
    expect(h1.Expiration).toBe(
      `expiry-date="${new Date(midnightAfter(await successorOf(v2), 5)).toUTCString()}", rule-id="nc5"`,
    );
    expect(h2.Expiration).toBe(
      `expiry-date="${new Date(midnightAfter(await successorOf(v3), 5)).toUTCString()}", rule-id="nc5"`,
    );
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'n/a', VersionId: v1.VersionId }));
    await got.Body?.transformToString();
    expect(got.Expiration).toBe(h1.Expiration);
    expect((await head('n/a')).Expiration).toBeUndefined(); // the current version
    expect((await head('n/a', v3.VersionId)).Expiration).toBeUndefined();

    // NewerNoncurrentVersions=2: the two newest noncurrent versions are kept (no date), the third is named.
    const k: { VersionId?: string }[] = [];
    for (const Body of ['1', '2', '3', '4']) k.push(await s3.send(new PutObjectCommand({ Bucket, Key: 'k/x', Body })));
    expect((await head('k/x', k[2].VersionId)).Expiration).toBeUndefined();
    expect((await head('k/x', k[1].VersionId)).Expiration).toBeUndefined();
    const oldest = await head('k/x', k[0].VersionId);
    const due = midnightAfter((await head('k/x', k[1].VersionId)).LastModified!, 1);
    expect(oldest.Expiration).toBe(`expiry-date="${new Date(due).toUTCString()}", rule-id="keep2"`);
  });
});
