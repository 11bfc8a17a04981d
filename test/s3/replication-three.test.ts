// Three Cairn servers: one source replicating a bucket to two targets (A -> B and A -> C, one rule each), with C
// down for a while: B gets every change at once, C gets every one once it is back, counts exact; the source's
// queue listing shows C's queue and its lag meanwhile, and both queues empty at the end; a version is COMPLETED
// only once both have it, across a restart of the source too. Then active-active
// between A and B with C a third copy of A: writes on both sides converge on all three.
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import type { QueueInfo } from '../../server/src/api/admin/queues.js';
import { adminCall } from '../../server/src/cli/admin-client.js';
import {
  POLL,
  TARGET_CREDS,
  addTarget,
  allowReplicator,
  body,
  fanOut,
  replicateAll,
  replicated,
  rule,
  useSites,
  versionedBucket,
  versions,
} from '../helpers/replication.js';

const { site } = useSites();

describe('one source, two targets', () => {
  it('each target gets every change; one down meanwhile gets them once back; counts exact', async () => {
    const { a, b, c, toB, toC } = await fanOut(site, 'fan');
    await a.client().send(
      new PutBucketReplicationCommand({
        Bucket: 'fan',
        ReplicationConfiguration: {
          Role: '',
          Rules: [rule(toB, { ID: 'to-b', Priority: 1 }), rule(toC, { ID: 'to-c', Priority: 2 })],
        },
      }),
    );
    const s3 = a.client();
    const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const Key of keys.slice(0, 4)) await s3.send(new PutObjectCommand({ Bucket: 'fan', Key, Body: `1-${Key}` }));
    await a.server.replicationIdle();
    expect(await versions(b.client(), 'fan-b')).toEqual(await versions(s3, 'fan'));
    expect(await versions(c.client(), 'fan-c')).toEqual(await versions(s3, 'fan'));

    // C down: B keeps up, C's changes wait in their own queue.
    await c.stop();
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'fan', Key, Body: `2-${Key}` }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'fan', Key: keys[0] }));
    await vi.waitFor(() => expect(replicated(a, toB)).toBe(4 + 12 + 1), POLL);
    expect(await versions(b.client(), 'fan-b')).toEqual(await versions(s3, 'fan'));
    const listing = (
      (await adminCall(a.admin(), { method: 'GET', path: 'queues', query: { kind: 'replication' } })) as {
        queues: QueueInfo[];
      }
    ).queues;
    const rowC = listing.find((q) => q.target === toC)!;
    expect(rowC).toMatchObject({ bucket: 'fan', pending: 13 });
    expect(rowC.oldestAgeSeconds).toBeGreaterThan(0);
    expect(listing.find((q) => q.target === toB)).toMatchObject({ pending: 0, oldestAgeSeconds: 0, delivered: 17 });
    // The version is not COMPLETED while one of its targets lacks it.
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'fan', Key: keys[1] }))).ReplicationStatus).not.toBe(
      'COMPLETED',
    );

    await c.start();
    await a.server.replicationIdle();
    const all = await versions(s3, 'fan');
    expect(all).toHaveLength(4 + 12 + 1);
    expect(await versions(b.client(), 'fan-b')).toEqual(all);
    expect(await versions(c.client(), 'fan-c')).toEqual(all);
    for (const Key of keys.slice(1)) {
      expect(await body(c.client(), 'fan-c', Key)).toEqual(Buffer.from(`2-${Key}`));
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'fan', Key }))).ReplicationStatus).toBe('COMPLETED');
      expect((await c.client().send(new HeadObjectCommand({ Bucket: 'fan-c', Key }))).ReplicationStatus).toBe(
        'REPLICA',
      );
    }
    expect(replicated(a, toB)).toBe(17);
    expect(replicated(a, toC)).toBe(17);

    // Both targets down, then the source restarted with both targets' changes still queued: each target's status
    // is on disk, so B's copies alone do not make the versions COMPLETED (before, an in-memory count was lost
    // with the restart and the first target done marked them COMPLETED). FAILED, as MinIO shows while a target
    // fails; COMPLETED once C has them too.
    await b.stop();
    await c.stop();
    const again = keys.slice(0, 3);
    for (const Key of again) await s3.send(new PutObjectCommand({ Bucket: 'fan', Key, Body: `3-${Key}` }));
    const status = async (Key: string) =>
      (await a.client().send(new HeadObjectCommand({ Bucket: 'fan', Key }))).ReplicationStatus;
    for (const Key of again) expect(await status(Key)).toMatch(/^(PENDING|FAILED)$/);
    await a.stop();
    await b.start();
    await a.start();
    await vi.waitFor(() => expect(replicated(a, toB)).toBe(again.length), POLL);
    for (const Key of again) {
      expect(await body(b.client(), 'fan-b', Key)).toEqual(Buffer.from(`3-${Key}`));
      expect(await status(Key)).toMatch(/^(PENDING|FAILED)$/);
    }
    await c.start();
    await a.server.replicationIdle();
    for (const Key of again) {
      expect(await body(c.client(), 'fan-c', Key)).toEqual(Buffer.from(`3-${Key}`));
      expect(await status(Key)).toBe('COMPLETED');
    }
    expect(replicated(a, toC)).toBe(again.length);
  });
});

describe('active-active A <-> B, and C a copy of A', () => {
  it('writes on A and B converge on all three; replicas go nowhere further', async () => {
    const [a, b, c] = [await site('mix-a'), await site('mix-b'), await site('mix-c')];
    for (const s of [a, b, c]) await versionedBucket(s.client(), 'mix');
    await allowReplicator(c.client(), 'mix');
    const aToB = await addTarget(a, 'mix', b, 'mix');
    const aToC = await addTarget(a, 'mix', c, 'mix', TARGET_CREDS);
    const bToA = await addTarget(b, 'mix', a, 'mix');
    await a.client().send(
      new PutBucketReplicationCommand({
        Bucket: 'mix',
        ReplicationConfiguration: {
          Role: '',
          Rules: [rule(aToB, { ID: 'to-b', Priority: 1 }), rule(aToC, { ID: 'to-c', Priority: 2 })],
        },
      }),
    );
    await replicateAll(b.client(), 'mix', bToA);
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round++)
      for (const Key of ['x', 'y']) {
        writes.push(a.client().send(new PutObjectCommand({ Bucket: 'mix', Key: `a/${Key}`, Body: `a${round}` })));
        writes.push(b.client().send(new PutObjectCommand({ Bucket: 'mix', Key: `b/${Key}`, Body: `b${round}` })));
      }
    await Promise.all(writes);
    await Promise.all([a.server.replicationIdle(), b.server.replicationIdle()]);
    const va = await versions(a.client(), 'mix');
    expect(va).toHaveLength(12);
    expect(await versions(b.client(), 'mix')).toEqual(va);
    // C has A's own writes; B's reach A as replicas, which A does not send on (MinIO does the same without
    // site replication).
    expect(await versions(c.client(), 'mix')).toEqual(va.filter((v) => v.key!.startsWith('a/')));
    expect(replicated(a, aToB)).toBe(6);
    expect(replicated(a, aToC)).toBe(6);
    expect(replicated(b, bToA)).toBe(6);
  });
});
