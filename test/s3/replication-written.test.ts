// CopyObject, CompleteMultipartUpload and delete markers write their version PENDING at its replication targets
// with the version itself (api/replication planReplication), as PutObject does: the targets are decided by the
// rules as they are at the write (tags of the copy or of the upload), queued without a second metadata write,
// and each target's status holds across a restart of the source: a version is COMPLETED only once every target
// its rules name has it. One source A, two targets: B takes everything (delete markers too), C only objects
// tagged ship=yes (a tag filter, so no delete markers).
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { expect, it, vi } from 'vitest';
import { POLL, body, fanOut, replicated, rule, useSites, versions } from '../helpers/replication.js';

const { site } = useSites();

it('copies, completed uploads and delete markers reach exactly the targets their rules name; COMPLETED once all have them, across a restart', async () => {
  const { a, b, c, toB, toC } = await fanOut(site, 'written');
  await a.client().send(
    new PutBucketReplicationCommand({
      Bucket: 'written',
      ReplicationConfiguration: {
        Role: '',
        Rules: [
          rule(toB, { ID: 'to-b', Priority: 1 }),
          rule(toC, {
            ID: 'to-c',
            Priority: 2,
            Filter: { Tag: { Key: 'ship', Value: 'yes' } },
            DeleteMarkerReplication: { Status: 'Disabled' },
          }),
        ],
      },
    }),
  );
  const s3 = a.client();
  await s3.send(new PutObjectCommand({ Bucket: 'written', Key: 'src', Body: 'source bytes' }));
  await a.server.replicationIdle();

  // Both targets down: every change waits, each version PENDING (or FAILED once an attempt failed).
  await b.stop();
  await c.stop();
  const copy = (Key: string, tags?: string) =>
    s3.send(
      new CopyObjectCommand({
        Bucket: 'written',
        Key,
        CopySource: 'written/src',
        ...(tags ? { TaggingDirective: 'REPLACE' as const, Tagging: tags } : {}),
      }),
    );
  const tagged = (await copy('copy-tagged', 'ship=yes')).VersionId!;
  const plain = (await copy('copy-plain')).VersionId!;
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'written', Key: 'mp', Tagging: 'ship=yes' }));
  const part = await s3.send(
    new UploadPartCommand({ Bucket: 'written', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'one part' }),
  );
  const mp = (
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'written',
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
  ).VersionId!;
  const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'written', Key: 'src' }))).VersionId!;
  const batch = await s3.send(
    new DeleteObjectsCommand({ Bucket: 'written', Delete: { Objects: [{ Key: 'never-put' }] } }),
  );
  expect(batch.Deleted?.[0]?.DeleteMarker).toBe(true);
  expect(marker).toBeTruthy();

  const status = async (Key: string, VersionId: string) =>
    (await s3.send(new HeadObjectCommand({ Bucket: 'written', Key, VersionId }))).ReplicationStatus;
  const written: [string, string][] = [
    ['copy-tagged', tagged],
    ['copy-plain', plain],
    ['mp', mp],
  ];
  for (const [Key, v] of written) expect(await status(Key, v)).toMatch(/^(PENDING|FAILED)$/);

  // The source restarted with both targets' changes queued; B back: B gets all five changes. The plain copy
  // (B's alone) is COMPLETED; the tagged copy and the upload wait for C.
  await a.stop();
  await b.start();
  await a.start();
  await vi.waitFor(() => expect(replicated(a, toB)).toBe(5), POLL);
  expect(await versions(b.client(), 'written-b')).toEqual(await versions(s3, 'written'));
  expect(await status('copy-plain', plain)).toBe('COMPLETED');
  expect(await status('copy-tagged', tagged)).toMatch(/^(PENDING|FAILED)$/);
  expect(await status('mp', mp)).toMatch(/^(PENDING|FAILED)$/);

  // C back: it gets the two tagged versions, nothing else; every version is COMPLETED.
  await c.start();
  await a.server.replicationIdle();
  expect(replicated(a, toC)).toBe(2);
  for (const [Key, v] of written) expect(await status(Key, v)).toBe('COMPLETED');
  const onC = await versions(c.client(), 'written-c');
  expect(onC.map((r) => [r.key, r.id])).toEqual(
    [
      ['copy-tagged', tagged],
      ['mp', mp],
    ].sort((x, y) => `${x[0]}\0${x[1]}`.localeCompare(`${y[0]}\0${y[1]}`)),
  );
  expect(await body(c.client(), 'written-c', 'copy-tagged')).toEqual(Buffer.from('source bytes'));
  expect(await body(c.client(), 'written-c', 'mp')).toEqual(Buffer.from('one part'));
  const mpHead = await c.client().send(new HeadObjectCommand({ Bucket: 'written-c', Key: 'mp' }));
  const mpSource = await s3.send(new HeadObjectCommand({ Bucket: 'written', Key: 'mp' }));
  expect(mpHead).toMatchObject({ ReplicationStatus: 'REPLICA', VersionId: mp, ETag: mpSource.ETag });
  const tags = await c.client().send(new GetObjectTaggingCommand({ Bucket: 'written-c', Key: 'mp' }));
  expect(tags.TagSet).toEqual([{ Key: 'ship', Value: 'yes' }]);
});
