// Versioning (many versions, delete markers, the null version, suspended state), conditional writes,
// metadata updates and multipart uploads (ETag, parts, partNumber reads, composite checksums).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as native from '@cairn/native';
import { body, data, drives, get, open, put, read } from './helpers.js';
import { S3Error } from '../../src/errors.js';
import type { ErasureObjects } from '../../src/storage/index.js';

const MiB = 1024 * 1024;

describe('versions and multipart on 2+2', () => {
  let s: ErasureObjects;
  let d: Awaited<ReturnType<typeof drives>>;
  beforeAll(async () => {
    d = await drives(4);
    s = await open(d.paths);
    await s.makeBucket('ver');
    await s.makeBucket('plain');
    await s.updateBucketConfig('ver', { versioning: 'Enabled' });
  });
  afterAll(async () => {
    await s.close();
    await d.cleanup();
  });

  it('keeps every version and stacks delete markers', async () => {
    const v1 = data(100);
    const v2 = data(300 * 1024);
    const i1 = await put(s, 'ver', 'k', v1);
    const i2 = await put(s, 'ver', 'k', v2);
    expect(i1.versionId).not.toBe(i2.versionId);
    expect((await get(s, 'ver', 'k')).equals(v2)).toBe(true);
    expect((await get(s, 'ver', 'k', { versionId: i1.versionId })).equals(v1)).toBe(true);
    const del = await s.deleteObject('ver', 'k');
    expect(del.deleteMarker).toBe(true);
    // Storage reports the marker like any version, with no bytes; the API turns it into 404/405 with
    // x-amz-delete-marker (api/object-read.ts).
    expect((await s.openObject('ver', 'k')).info).toMatchObject({ deleteMarker: true, versionId: del.versionId });
    expect((await get(s, 'ver', 'k', { versionId: del.versionId })).length).toBe(0);
    expect(await s.headObject('ver', 'k')).toMatchObject({
      deleteMarker: true,
      versionId: del.versionId,
      isLatest: true,
    });
    expect(await s.headObject('ver', 'k', { versionId: del.versionId })).toMatchObject({ deleteMarker: true });
    expect((await s.listObjects('ver', { maxKeys: 10 })).objects).toEqual([]);
    const lv = await s.listObjectVersions('ver', { maxKeys: 10 });
    expect(lv.versions.map((v) => [v.versionId, v.deleteMarker, v.isLatest])).toEqual([
      [del.versionId, true, true],
      [i2.versionId, false, false],
      [i1.versionId, false, false],
    ]);
    // paging by key/version markers
    const p1 = await s.listObjectVersions('ver', { maxKeys: 1 });
    const p2 = await s.listObjectVersions('ver', {
      maxKeys: 5,
      keyMarker: p1.nextKeyMarker,
      versionIdMarker: p1.nextVersionIdMarker,
    });
    expect(p2.versions.map((v) => v.versionId)).toEqual([i2.versionId, i1.versionId]);
    // removing the marker brings the object back
    await s.deleteObject('ver', 'k', { versionId: del.versionId });
    expect((await get(s, 'ver', 'k')).equals(v2)).toBe(true);
    await s.deleteObject('ver', 'k', { versionId: i2.versionId });
    expect((await get(s, 'ver', 'k')).equals(v1)).toBe(true);
    await expect(s.openObject('ver', 'k', { versionId: i2.versionId })).rejects.toMatchObject({
      code: 'NoSuchVersion',
    });
  });

  it('hides a directory whose keys are all deleted from listings, not from version listings', async () => {
    await put(s, 'ver', 'gone/a', data(3));
    await put(s, 'ver', 'gone/b', data(3));
    await put(s, 'ver', 'kept/a', data(3));
    await s.deleteObject('ver', 'gone/a');
    await s.deleteObject('ver', 'gone/b');
    expect((await s.listObjects('ver', { delimiter: '/', maxKeys: 10 })).commonPrefixes).toEqual(['kept/']);
    expect((await s.listObjectVersions('ver', { delimiter: '/', maxKeys: 10 })).commonPrefixes).toEqual([
      'gone/',
      'kept/',
    ]);
    const lv = await s.listObjectVersions('ver', { prefix: 'gone/', maxKeys: 10 });
    expect(lv.versions.map((v) => [v.key, v.deleteMarker])).toEqual([
      ['gone/a', true],
      ['gone/a', false],
      ['gone/b', true],
      ['gone/b', false],
    ]);
  });

  it('uses the null version when suspended', async () => {
    await s.makeBucket('sus');
    await s.updateBucketConfig('sus', { versioning: 'Enabled' });
    const a = await put(s, 'sus', 'k', data(10));
    await s.updateBucketConfig('sus', { versioning: 'Suspended' });
    const b = await put(s, 'sus', 'k', data(20));
    const c = await put(s, 'sus', 'k', data(30));
    expect(b.versionId).toBe('null');
    expect(c.versionId).toBe('null');
    const lv = await s.listObjectVersions('sus', { maxKeys: 10 });
    expect(lv.versions.map((v) => v.versionId)).toEqual(['null', a.versionId]);
    expect(lv.versions[0].size).toBe(30);
    const del = await s.deleteObject('sus', 'k');
    expect(del).toEqual({ versionId: 'null', deleteMarker: true });
    const lv2 = await s.listObjectVersions('sus', { maxKeys: 10 });
    expect(lv2.versions.map((v) => [v.versionId, v.deleteMarker])).toEqual([
      ['null', true],
      [a.versionId, false],
    ]);
  });

  it('checks preconditions atomically at commit', async () => {
    const ifNoneMatch = (cur: unknown) => {
      if (cur) throw new S3Error('PreconditionFailed');
    };
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        s.putObject('plain', 'once', body(data(1000)), { size: 1000, precondition: ifNoneMatch }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason.code === 'PreconditionFailed'),
    ).toBe(true);
  });

  it('updates metadata and tags in place', async () => {
    const buf = data(5000);
    await s.putObject('plain', 'm', body(buf), {
      size: buf.length,
      userMetadata: { a: '1' },
      contentHeaders: { 'content-type': 'text/plain' },
    });
    const info = await s.updateObjectMetadata('plain', 'm', { userMetadata: { b: '2' }, tagging: 'x=1' });
    expect(info.userMetadata).toEqual({ b: '2' });
    const h = await s.headObject('plain', 'm');
    expect(h).toMatchObject({
      userMetadata: { b: '2' },
      tagging: 'x=1',
      contentHeaders: { 'content-type': 'text/plain' },
    });
    expect((await get(s, 'plain', 'm')).equals(buf)).toBe(true);
  });

  it('assembles multipart uploads without copying, with part reads and checksums', async () => {
    const up = await s.newMultipartUpload('plain', 'mp/obj', { checksumAlgorithm: 'CRC32C', userMetadata: { z: '9' } });
    const parts = [data(5 * MiB), data(5 * MiB + 3), data(1234)];
    // upload out of order, and part 2 twice (the second one wins)
    const infos = [];
    infos[2] = await s.putObjectPart('plain', 'mp/obj', up.uploadId, 3, body(parts[2]), { size: parts[2].length });
    await s.putObjectPart('plain', 'mp/obj', up.uploadId, 2, body(data(5 * MiB)), { size: 5 * MiB });
    infos[1] = await s.putObjectPart('plain', 'mp/obj', up.uploadId, 2, body(parts[1]), { size: parts[1].length });
    infos[0] = await s.putObjectPart('plain', 'mp/obj', up.uploadId, 1, body(parts[0]), { size: parts[0].length });
    const lp = await s.listParts('plain', 'mp/obj', up.uploadId, { maxParts: 2 });
    expect(lp.parts.map((p) => p.number)).toEqual([1, 2]);
    expect(lp.isTruncated).toBe(true);
    expect((await s.listMultipartUploads('plain', { maxUploads: 10 })).uploads.map((u) => u.uploadId)).toEqual([
      up.uploadId,
    ]);
    await expect(
      s.completeMultipartUpload('plain', 'mp/obj', up.uploadId, [
        { number: 2, etag: infos[1].etag },
        { number: 1, etag: infos[0].etag },
      ]),
    ).rejects.toMatchObject({ code: 'InvalidPartOrder' });
    await expect(
      s.completeMultipartUpload('plain', 'mp/obj', up.uploadId, [{ number: 1, etag: 'ff'.repeat(16) }]),
    ).rejects.toMatchObject({ code: 'InvalidPart' });
    await expect(
      s.completeMultipartUpload('plain', 'mp/obj', up.uploadId, [
        { number: 3, etag: infos[2].etag },
        { number: 4, etag: infos[2].etag },
      ]),
    ).rejects.toMatchObject({ code: 'InvalidPart' });
    const info = await s.completeMultipartUpload(
      'plain',
      'mp/obj',
      up.uploadId,
      infos.map((p, i) => ({ number: i + 1, etag: `"${p.etag}"` })),
    );
    const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
    expect(info.etag).toBe(`${createHash('md5').update(md5s).digest('hex')}-3`);
    const whole = Buffer.concat(parts);
    expect((await get(s, 'plain', 'mp/obj')).equals(whole)).toBe(true);
    // Part 2's bytes (partNumber reads are the API's: api/object-read.ts partRange).
    const part2 = { start: parts[0].length, end: parts[0].length + parts[1].length - 1 };
    expect((await get(s, 'plain', 'mp/obj', { range: part2 })).equals(parts[1])).toBe(true);
    const r = { body: await read(s, 'plain', 'mp/obj', { range: { start: 5 * MiB - 10, end: 5 * MiB + 10 } }) };
    expect(Buffer.concat(await r.body.toArray()).equals(whole.subarray(5 * MiB - 10, 5 * MiB + 11))).toBe(true);
    const h = await s.headObject('plain', 'mp/obj');
    expect(h.parts?.map((p) => p.size)).toEqual(parts.map((p) => p.length));
    expect(h.userMetadata).toEqual({ z: '9' });
    const partSums = parts.map((p) => native.checksum('CRC32C', p));
    expect(h.checksum).toEqual({
      algorithm: 'CRC32C',
      type: 'COMPOSITE',
      value: `${native.checksum('CRC32C', Buffer.concat(partSums)).toString('base64')}-3`,
    });
    await expect(s.listParts('plain', 'mp/obj', up.uploadId, { maxParts: 10 })).rejects.toMatchObject({
      code: 'NoSuchUpload',
    });
    expect((await s.listMultipartUploads('plain', { maxUploads: 10 })).uploads).toEqual([]);
  });

  it('aborts uploads and refuses to delete non-empty buckets', async () => {
    await s.makeBucket('tmpb');
    const up = await s.newMultipartUpload('tmpb', 'x', {});
    await s.putObjectPart('tmpb', 'x', up.uploadId, 1, body(data(10)), { size: 10 });
    await s.abortMultipartUpload('tmpb', 'x', up.uploadId);
    await expect(s.abortMultipartUpload('tmpb', 'x', up.uploadId)).rejects.toMatchObject({ code: 'NoSuchUpload' });
    await put(s, 'tmpb', 'y', data(3));
    await expect(s.deleteBucket('tmpb')).rejects.toMatchObject({ code: 'BucketNotEmpty' });
    await s.deleteObject('tmpb', 'y');
    await s.deleteBucket('tmpb');
    await expect(s.headBucket('tmpb')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    expect((await s.listBuckets()).map((b) => b.name)).not.toContain('tmpb');
  });

  it('deletes a bucket whose only content is an upload in progress, dropping the upload (as AWS does)', async () => {
    await s.makeBucket('mpub');
    const up = await s.newMultipartUpload('mpub', 'x', {});
    await s.putObjectPart('mpub', 'x', up.uploadId, 1, body(data(10)), { size: 10 });
    await s.deleteBucket('mpub');
    await expect(s.headBucket('mpub')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    // A bucket made again under the same name starts without the old upload.
    await s.makeBucket('mpub');
    expect((await s.listMultipartUploads('mpub', { maxUploads: 10 })).uploads).toEqual([]);
    await s.deleteBucket('mpub');
  });
});

describe('checksums and storage classes', () => {
  it('gives FULL_OBJECT CRCs of multipart objects and REDUCED_REDUNDANCY layouts', async () => {
    const d = await drives(4);
    const s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      const up = await s.newMultipartUpload('bkt', 'full', {
        checksumAlgorithm: 'CRC64NVME',
        checksumType: 'FULL_OBJECT',
      });
      const parts = [data(5 * MiB), data(777)];
      const infos = [];
      for (let i = 0; i < parts.length; i++)
        infos.push(await s.putObjectPart('bkt', 'full', up.uploadId, i + 1, body(parts[i]), { size: parts[i].length }));
      const info = await s.completeMultipartUpload(
        'bkt',
        'full',
        up.uploadId,
        infos.map((p, i) => ({ number: i + 1, etag: p.etag })),
      );
      expect(info.checksum).toEqual({
        algorithm: 'CRC64NVME',
        type: 'FULL_OBJECT',
        value: native.checksum('CRC64NVME', Buffer.concat(parts)).toString('base64'),
      });
      await expect(
        s.newMultipartUpload('bkt', 'x', { checksumAlgorithm: 'SHA256', checksumType: 'FULL_OBJECT' }),
      ).rejects.toMatchObject({ code: 'InvalidRequest' });

      const buf = data(MiB + 5);
      const put1 = await s.putObject('bkt', 'ck', body(buf), { size: buf.length, checksumAlgorithm: 'SHA256' });
      expect(put1.checksum?.value).toBe(createHash('sha256').update(buf).digest('base64'));

      expect(s.layout.rrsParity).toBe(1);
      const rrs = await s.putObject('bkt', 'rrs', body(buf), { size: buf.length, storageClass: 'REDUCED_REDUNDANCY' });
      expect(rrs.storageClass).toBe('REDUCED_REDUNDANCY');
      const { rm } = await import('node:fs/promises');
      await rm(`${d.paths[3]}/bkt`, { recursive: true });
      expect((await get(s, 'bkt', 'rrs')).equals(buf)).toBe(true);
      expect((await s.listObjects('bkt', { prefix: 'rrs', maxKeys: 5 })).objects[0].storageClass).toBe(
        'REDUCED_REDUNDANCY',
      );
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});
