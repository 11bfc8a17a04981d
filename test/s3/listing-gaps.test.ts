// Listing corners over HTTP with @aws-sdk/client-s3 (which hands url-encoded values through undecoded):
// max-keys=0, ListObjectsV2 with encoding-type=url, and paging that crosses CommonPrefixes. Expected
// values from AWS's ListObjects/ListObjectsV2 pages and ceph/s3-tests (run against AWS):
// test_bucket_list(v2)_maxkeys_zero, test_bucket_listv2_encoding_basic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ListObjectsV2CommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket());
});
afterAll(() => server?.close());

const listV2 = (o: ListObjectsV2CommandInput) => s3.send(new ListObjectsV2Command(o));

async function bucketWith(name: string, keys: string[]): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: name, Key, Body: Key }));
  return name;
}

describe('max-keys=0', () => {
  it('lists nothing and is not truncated, v1 and v2', async () => {
    const b = await bucketWith('maxkeys-zero', ['bar', 'baz', 'foo', 'quxx']);
    const v2 = await listV2({ Bucket: b, MaxKeys: 0 });
    expect([v2.IsTruncated, v2.KeyCount, v2.MaxKeys, v2.Contents]).toEqual([false, 0, 0, undefined]);
    expect(v2.NextContinuationToken).toBeUndefined();
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 0 }));
    expect([v1.IsTruncated, v1.MaxKeys, v1.Contents]).toEqual([false, 0, undefined]);
    // The elements are there (strict parsers such as the AWS CRT's need IsTruncated).
    const query = { 'list-type': '2', 'max-keys': '0' };
    const raw = await signedFetch(server.url, { method: 'GET', path: `/${b}`, query });
    expect(raw.text).toContain('<IsTruncated>false</IsTruncated>');
    expect(raw.text).toContain('<KeyCount>0</KeyCount>');
  });
});

describe('ListObjectsV2 encoding-type=url', () => {
  it('percent-encodes keys, prefixes, the delimiter and StartAfter (space as %20, + as %2B)', async () => {
    const b = await bucketWith('v2-encoding', ['foo+1/bar', 'foo/bar/xyzzy', 'quux ab/thud', 'asdf+b']);
    const r = await listV2({ Bucket: b, Delimiter: '/', EncodingType: 'url' });
    expect(r.EncodingType).toBe('url');
    expect(r.Delimiter).toBe('/');
    expect(r.Contents?.map((o) => o.Key)).toEqual(['asdf%2Bb']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['foo%2B1/', 'foo/', 'quux%20ab/']);
    expect(r.KeyCount).toBe(4);
    const sa = await listV2({ Bucket: b, EncodingType: 'url', Prefix: 'quux ab/', StartAfter: 'quux ab/' });
    expect([sa.Prefix, sa.StartAfter]).toEqual(['quux%20ab/', 'quux%20ab/']);
    expect(sa.Contents?.map((o) => o.Key)).toEqual(['quux%20ab/thud']);
  });

  it('carries keys XML 1.0 cannot: control characters come back encoded', async () => {
    const b = await bucketWith('v2-encoding-ctl', ['ctl\u0001key', 'tab\tkey', 'é/ü']);
    const r = await listV2({ Bucket: b, EncodingType: 'url' });
    expect(r.Contents?.map((o) => o.Key)).toEqual(['ctl%01key', 'tab%09key', '%C3%A9/%C3%BC']);
    expect(r.Contents?.map((o) => decodeURIComponent(o.Key!))).toEqual(['ctl\u0001key', 'tab\tkey', 'é/ü']);
  });
});

describe('paging across CommonPrefixes', () => {
  const keys = ['a/1', 'a/2', 'a/3', 'b', 'c/1', 'd', 'e/x/1', 'e/y', 'f', 'g/1'];
  // With delimiter '/': keys b, d, f and prefixes a/, c/, e/, g/, in this order.
  const rolled = ['a/', 'b', 'c/', 'd', 'e/', 'f', 'g/'];
  const b = 'paging-prefixes';
  /** The keys and common prefixes of a page, sorted. */
  const names = (r: { Contents?: { Key?: string }[]; CommonPrefixes?: { Prefix?: string }[] }) =>
    [...(r.Contents ?? []).map((o) => o.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!)].sort();
  beforeAll(async () => {
    await bucketWith(b, keys);
  });

  it('ListObjectsV2: every page continues after the prefix it ended on; each key or prefix once', async () => {
    for (const max of [1, 2, 3]) {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await listV2({ Bucket: b, Delimiter: '/', MaxKeys: max, ContinuationToken: token });
        const page = names(r);
        expect(r.KeyCount, `max ${max}`).toBe(page.length);
        expect(page.length).toBeLessThanOrEqual(max);
        seen.push(...page);
        token = r.NextContinuationToken;
        expect(Boolean(token), `max ${max}`).toBe(r.IsTruncated);
        pages++;
      } while (token);
      expect(seen, `max ${max}`).toEqual(rolled);
      expect(pages).toBe(Math.ceil(rolled.length / max));
    }
  });

  it('ListObjects v1: NextMarker names the last key or prefix of the page', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: '/', MaxKeys: 2, Marker: marker }));
      const page = names(r);
      seen.push(...page);
      if (!r.IsTruncated) break;
      expect(r.NextMarker).toBe(page.at(-1));
      marker = r.NextMarker;
    }
    expect(seen).toEqual(rolled);
    // With a prefix: the paging stays inside it.
    const inE = { Bucket: b, Prefix: 'e/', Delimiter: '/', MaxKeys: 1 };
    const e = await listV2(inE);
    expect([e.CommonPrefixes?.map((p) => p.Prefix), e.IsTruncated]).toEqual([['e/x/'], true]);
    const e2 = await listV2({ ...inE, ContinuationToken: e.NextContinuationToken });
    expect([e2.Contents?.map((o) => o.Key), e2.IsTruncated]).toEqual([['e/y'], false]);
  });
});
