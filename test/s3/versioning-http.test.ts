// Versioning as clients meet it over HTTP: GET and HEAD of delete markers, CopyObject of an older version,
// DeleteObjects naming versions and delete markers, and ListObjectVersions paged with key and version-id
// markers. Expected answers follow AWS's pages for GetObject, CopyObject, DeleteObjects and
// ListObjectVersions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'versioning-http';
const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
});
afterAll(() => server?.close());

const put = async (Key: string, Body: string) =>
  (await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }))).VersionId!;
const remove = async (Key: string) => (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }))).VersionId!;
const text = async (Key: string, VersionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: bucket, Key, VersionId }))).Body!.transformToString();
const copy = (Key: string, CopySource: string) => s3.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource }));
const versions = (o: Omit<ListObjectVersionsCommandInput, 'Bucket'>) =>
  s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...o }));
/** Versions and delete markers of a listing, in one list (the SDK keeps them apart). */
const entries = (r: ListObjectVersionsCommandOutput) => [
  ...(r.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, marker: false, latest: v.IsLatest })),
  ...(r.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, marker: true, latest: m.IsLatest })),
];

describe('delete markers', () => {
  it('GET or HEAD of a delete marker by id: 405 with x-amz-delete-marker; as the latest: 404 NoSuchKey', async () => {
    const v1 = await put('dm', 'one');
    const marker = await remove('dm');
    expect(marker).not.toBe(v1);
    // AWS GetObject: "If the specified version is a delete marker, the response returns a 405 Method Not
    // Allowed error and the Last-Modified: timestamp response header", with x-amz-delete-marker: true.
    for (const method of ['GET', 'HEAD']) {
      const r = await signedFetch(server.url, { method, path: `/${bucket}/dm`, query: { versionId: marker } });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('x-amz-delete-marker')).toBe('true');
      expect(r.headers.get('x-amz-version-id')).toBe(marker);
      expect(Number.isNaN(Date.parse(r.headers.get('last-modified') ?? ''))).toBe(false);
      if (method === 'GET') expect(code(r.text)).toBe('MethodNotAllowed');
    }
    // The latest version is the marker: the object is gone (404 NoSuchKey), and the answer says why.
    const latest = await signedFetch(server.url, { method: 'GET', path: `/${bucket}/dm` });
    expect([latest.status, code(latest.text)]).toEqual([404, 'NoSuchKey']);
    expect(latest.headers.get('x-amz-delete-marker')).toBe('true');
    // A key that never existed is not a delete marker.
    const never = await signedFetch(server.url, { method: 'GET', path: `/${bucket}/never-written` });
    expect([never.status, code(never.text)]).toEqual([404, 'NoSuchKey']);
    expect(never.headers.get('x-amz-delete-marker')).not.toBe('true');
    // The older version is still there, by id.
    expect(await text('dm', v1)).toBe('one');
  });
});

describe('CopyObject from a version', () => {
  it('copies the version named, says which, and refuses a delete marker as the source', async () => {
    const v1 = await put('src', 'first');
    const v2 = await put('src', 'second');
    const c = await copy('copy', `${bucket}/src?versionId=${v1}`);
    expect(c.CopySourceVersionId).toBe(v1);
    expect(c.VersionId).toBeTruthy();
    expect([c.VersionId === v1, c.VersionId === v2]).toEqual([false, false]);
    expect(await text('copy')).toBe('first');
    expect(await text('copy', c.VersionId)).toBe('first');
    expect(await text('src')).toBe('second');
    // Without a version id the latest is copied.
    const latest = await copy('copy-latest', `${bucket}/src`);
    expect(latest.CopySourceVersionId).toBe(v2);
    expect(await text('copy-latest')).toBe('second');
    // AWS: a version id naming a delete marker is 400 InvalidRequest; a latest delete marker is NoSuchKey.
    const marker = await remove('src');
    const ofMarker = await s3Error(copy('copy-marker', `${bucket}/src?versionId=${marker}`));
    expect(ofMarker).toEqual({ name: 'InvalidRequest', status: 400 });
    expect(await s3Error(copy('copy-marker', `${bucket}/src`))).toEqual({ name: 'NoSuchKey', status: 404 });
    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-marker' })));
    expect(head).toMatchObject({ status: 404 });
    expect((await versions({ Prefix: 'copy-marker' })).Versions).toBeUndefined();
  });
});

describe('DeleteObjects with version ids', () => {
  it('removes the versions named, removes delete markers by id, and adds a marker where none is named', async () => {
    const a1 = await put('batch/a', 'a1');
    const a2 = await put('batch/a', 'a2');
    const b1 = await put('batch/b', 'b1');
    const bMarker = await remove('batch/b');
    await put('batch/c', 'c1');
    const Objects = [{ Key: 'batch/a', VersionId: a2 }, { Key: 'batch/b', VersionId: bMarker }, { Key: 'batch/c' }];
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
    expect(r.Errors ?? []).toEqual([]);
    const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [d.Key, d]));
    // AWS DeleteObjects: a version named is deleted for good; naming a delete marker deletes it and says
    // DeleteMarker true with its id; no version id in a versioned bucket adds a new delete marker.
    expect(byKey['batch/a']).toEqual({ Key: 'batch/a', VersionId: a2 });
    const bGone = { Key: 'batch/b', VersionId: bMarker, DeleteMarker: true, DeleteMarkerVersionId: bMarker };
    expect(byKey['batch/b']).toEqual(bGone);
    expect(byKey['batch/c'].DeleteMarker).toBe(true);
    const cMarker = byKey['batch/c'].DeleteMarkerVersionId;
    expect(cMarker).toBeTruthy();
    // What is left: a1 is latest again, b1 is back (its marker gone), c is hidden by a new marker.
    expect(await text('batch/a')).toBe('a1');
    expect(await text('batch/b')).toBe('b1');
    const c = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'batch/c' })));
    expect(c).toMatchObject({ name: 'NoSuchKey' });
    const left = entries(await versions({ Prefix: 'batch/' }));
    expect(left.map((e) => [e.key, e.marker ? 'marker' : e.id, e.latest])).toEqual([
      ['batch/a', a1, true],
      ['batch/b', b1, true],
      ['batch/c', expect.any(String), false],
      ['batch/c', 'marker', true],
    ]);
    expect(entries(await versions({ Prefix: 'batch/c' })).find((e) => e.marker)?.id).toBe(cMarker);
  });
});

describe('ListObjectVersions paging', () => {
  it('pages by KeyMarker and VersionIdMarker: each version or marker once, keys ascending, newest first', async () => {
    // Written in this order; the listing is by key, then newest first.
    const written: { key: string; id: string; marker: boolean }[] = [];
    const write = async (key: string, body?: string) => {
      const id = body === undefined ? await remove(key) : await put(key, body);
      written.push({ key, id, marker: body === undefined });
    };
    const steps = [
      ['pg/a', '1'],
      ['pg/b', '1'],
      ['pg/a', '2'],
      ['pg/a'],
      ['pg/c', '1'],
      ['pg/a', '3'],
      ['pg/b'],
      ['pg/c', '2'],
    ];
    for (const [key, body] of steps) await write(key, body);
    const byKey = (x: { key: string }, y: { key: string }) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
    const expected = [...written]
      .reverse()
      .sort(byKey)
      .map((w) => `${w.key} ${w.id} ${w.marker}`);
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await versions({ Prefix: 'pg/', MaxKeys: 3, KeyMarker: keyMarker, VersionIdMarker: idMarker });
      pages++;
      // The SDK separates versions from markers: compare the page as a set with the next slice expected.
      const slice = expected.slice(seen.length, seen.length + 3);
      expect(
        entries(r)
          .map((e) => `${e.key} ${e.id} ${e.marker}`)
          .sort(),
      ).toEqual([...slice].sort());
      seen.push(...slice);
      if (!r.IsTruncated) break;
      // The markers name the last entry of the page.
      const [lastKey, lastId] = slice.at(-1)!.split(' ');
      expect([r.NextKeyMarker, r.NextVersionIdMarker]).toEqual([lastKey, lastId]);
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
    // IsLatest: the newest entry of each key only.
    const latest = entries(await versions({ Prefix: 'pg/' }))
      .filter((e) => e.latest)
      .map((e) => e.id)
      .sort();
    const newest = ['pg/a', 'pg/b', 'pg/c'].map((k) => written.filter((w) => w.key === k).at(-1)!.id);
    expect(latest).toEqual(newest.sort());
    // A key marker alone starts after every version of that key.
    const afterA = entries(await versions({ Prefix: 'pg/', KeyMarker: 'pg/a' }))
      .map((e) => e.key)
      .sort();
    expect(afterA).toEqual(['pg/b', 'pg/b', 'pg/c', 'pg/c']);
  });
});
