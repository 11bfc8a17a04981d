// Transitions left half done by a process that stopped: each transition is written down before its upload
// (tier/intent/ in the system bucket), and the background task of the next process settles what it finds.
// The "crash" is a Tiers object dropped between two steps of a transition; its successor (a new Tiers over
// the same drives, as after a restart) runs drainJournal. The tiers are a second real Cairn server.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type CairnServer, startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sealer } from '../../server/src/api/iam/seal.js';
import { Tiers } from '../../server/src/api/tier/tiers.js';
import {
  type ErasureObjects,
  openStorage,
  type RemoteObject,
  type RemoteTiers,
  SYSTEM_BUCKET,
} from '../../server/src/storage/index.js';
import { ROOT, makeClient } from '../helpers/cairn.js';

let base: string;
let tierServer: CairnServer;
let remote: S3Client;
let storage: ErasureObjects;
let sealer: Sealer;

const tierConfig = (name: string, bucket: string) => ({
  name,
  type: 'minio' as const,
  endpoint: `http://127.0.0.1:${tierServer.port}`,
  accessKey: ROOT.accessKey,
  secretKey: ROOT.secretKey,
  bucket,
  prefix: 'hot/',
  region: 'us-east-1',
});

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-tier-intent-'));
  tierServer = await startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    drives: [1, 2, 3, 4].map((i) => join(base, `tier${i}`)),
  });
  remote = makeClient(`http://127.0.0.1:${tierServer.port}`);
  await remote.send(new CreateBucketCommand({ Bucket: 'warm' }));
  await remote.send(new CreateBucketCommand({ Bucket: 'cold' }));
  storage = await openStorage({ drives: [1, 2, 3, 4].map((i) => join(base, `hot${i}`)), background: false });
  sealer = new Sealer(ROOT.accessKey, ROOT.secretKey, storage.deploymentId);
  const tiers = new Tiers(storage, sealer);
  await tiers.add(tierConfig('WARM', 'warm'), false);
  await tiers.add(tierConfig('COLD', 'cold'), false);
  await storage.makeBucket('bkt', { versioning: 'Enabled' });
});
afterAll(async () => {
  await storage?.close();
  await tierServer?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

const remoteKeys = async (Bucket: string) =>
  ((await remote.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key!);
const intents = async () =>
  (await storage.listObjects(SYSTEM_BUCKET, { prefix: 'tier/intent/', maxKeys: 1000 })).objects.map((o) => o.key);
const putVersion = async (key: string, data: Buffer) =>
  (await storage.putObject('bkt', key, Readable.from([data]), { size: data.length })).versionId;
/** A new life of the process: nothing of the old one's memory, the same drives and tiers. */
const restart = () => new Tiers(storage, sealer);
const drain = (t: Tiers) => t.drainJournal(() => false);

describe('transitions left by a stopped process', () => {
  it('removes the uploaded copy of a transition that never committed, and its intent', async () => {
    const data = randomBytes(70_000);
    const versionId = await putVersion('uncommitted', data);
    const before = await remoteKeys('warm');
    const old = restart();
    const intent = await old.begin('WARM', { bucket: 'bkt', key: 'uncommitted', versionId });
    await old.upload(intent, Readable.from([data]));
    expect(await remoteKeys('warm')).toEqual([...before, intent.remote.key].sort());
    expect(await intents()).toEqual([intent.entry]);
    // The process stops here: no commit, no end.
    const next = restart();
    expect(await drain(next)).toBe(1);
    expect(await remoteKeys('warm')).toEqual(before);
    expect(await intents()).toEqual([]);
    // The version was never touched.
    const head = await storage.headObject('bkt', 'uncommitted', { versionId });
    expect(head.transition).toBeUndefined();
  });

  it('aborts the multipart upload a transition was in the middle of', async () => {
    const versionId = await putVersion('mid-upload', randomBytes(1000));
    const old = restart();
    const intent = await old.begin('WARM', { bucket: 'bkt', key: 'mid-upload', versionId });
    // What an upload in parts leaves when its process stops: an unfinished multipart upload under the key.
    const { UploadId } = await remote.send(
      new CreateMultipartUploadCommand({ Bucket: 'warm', Key: intent.remote.key }),
    );
    await remote.send(
      new UploadPartCommand({
        Bucket: 'warm',
        Key: intent.remote.key,
        UploadId,
        PartNumber: 1,
        Body: randomBytes(100),
      }),
    );
    const uploads = async () =>
      ((await remote.send(new ListMultipartUploadsCommand({ Bucket: 'warm' }))).Uploads ?? []).map((u) => u.Key);
    expect(await uploads()).toEqual([intent.remote.key]);
    await drain(restart());
    expect(await uploads()).toEqual([]);
    expect(await intents()).toEqual([]);
  });

  it('keeps the copy of a committed transition and releases the tier copy it replaced', async () => {
    const data = randomBytes(50_000);
    const versionId = await putVersion('moved', data);
    // First to WARM, completed normally.
    const t = restart();
    storage.attachTiers(t);
    const first = await t.begin('WARM', { bucket: 'bkt', key: 'moved', versionId });
    let warm: RemoteObject | undefined;
    await storage.transitionObject('bkt', 'moved', versionId, {
      upload: async (body) => (warm = await t.upload(first, body)),
    });
    await t.end(first);
    expect(await remoteKeys('warm')).toContain(first.remote.key);
    // Then on to COLD; the process stops right after the commit, before releasing the WARM copy or ending.
    const stopsAfterCommit: RemoteTiers = { read: (...a) => t.read(...a), released: async () => {} };
    storage.attachTiers(stopsAfterCommit);
    const second = await t.begin('COLD', { bucket: 'bkt', key: 'moved', versionId, previous: warm });
    await storage.transitionObject('bkt', 'moved', versionId, { upload: (body) => t.upload(second, body) });
    const next = restart();
    storage.attachTiers(next);
    await drain(next);
    expect(await remoteKeys('warm')).not.toContain(first.remote.key);
    expect(await remoteKeys('cold')).toContain(second.remote.key);
    expect(await intents()).toEqual([]);
    const head = await storage.headObject('bkt', 'moved', { versionId });
    expect(head.transition).toMatchObject({ tier: 'COLD', key: second.remote.key });
    const got = await (await storage.openObject('bkt', 'moved', { versionId })).read();
    const chunks: Buffer[] = [];
    for await (const c of got) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('removes the upload when the version was deleted before the commit, and leaves a transition under way alone', async () => {
    const data = randomBytes(10_000);
    const versionId = await putVersion('deleted', data);
    const old = restart();
    const intent = await old.begin('WARM', { bucket: 'bkt', key: 'deleted', versionId });
    await old.upload(intent, Readable.from([data]));
    // The process's own drain does not touch its transition under way.
    await drain(old);
    expect(await remoteKeys('warm')).toContain(intent.remote.key);
    expect(await intents()).toEqual([intent.entry]);
    await storage.deleteObject('bkt', 'deleted', { versionId });
    await drain(restart());
    expect(await remoteKeys('warm')).not.toContain(intent.remote.key);
    expect(await intents()).toEqual([]);
  });

  it('keeps the intent while the tier does not answer, and settles it once the tier is back', async () => {
    const data = randomBytes(5_000);
    const versionId = await putVersion('tier-down', data);
    const old = restart();
    const intent = await old.begin('WARM', { bucket: 'bkt', key: 'tier-down', versionId });
    await old.upload(intent, Readable.from([data]));
    const port = tierServer.port;
    await tierServer.close();
    const next = restart();
    expect(await drain(next)).toBe(0);
    expect(await intents()).toEqual([intent.entry]);
    tierServer = await startServer({
      address: `127.0.0.1:${port}`,
      credentials: { root: ROOT, users: [] },
      storage: { background: false },
      drives: [1, 2, 3, 4].map((i) => join(base, `tier${i}`)),
    });
    expect(await drain(next)).toBe(1);
    expect(await remoteKeys('warm')).not.toContain(intent.remote.key);
    expect(await intents()).toEqual([]);
  });
});
