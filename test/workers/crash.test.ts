// kill -9 of one worker of `cairn server --workers 2` while both take uploads: the other keeps serving
// (its uploads succeed, and it can overwrite the key both were overwriting, so no lock stays with the dead
// worker); no object is ever partly visible (each key reads as one whole written version or not at all,
// and the upload cut mid-body is not there); the primary starts the worker again, which serves and has
// emptied its temp area. Workers as processes (kill -9) and as threads (terminate()).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { heldPut, startWorkers, type WorkersServer } from '../helpers/workers.js';

const MiB = 1024 * 1024;

/** Version `v` of a key: its size and seed follow from v, so any read says which version it is. */
const size = (v: number) => (v % 3 === 0 ? 20_000 : 1.5 * MiB + v);
const put = (s3: S3Client, key: string, v: number) =>
  s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: pattern(size(v), v), Metadata: { v: String(v) } }));

async function readVersion(s3: S3Client, key: string): Promise<number | null> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
    const v = Number(r.Metadata?.v);
    const got = Buffer.from(await r.Body!.transformToByteArray());
    expect(mismatch(got, pattern(size(v), v), 0, v), `${key} version ${v}`).toBeNull();
    return v;
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return null;
    throw e;
  }
}

describe.each(['processes', 'threads'])('kill -9 of a worker during uploads (%s)', (mode) => {
  let server: WorkersServer;
  beforeAll(async () => {
    // debug: the test waits for worker 2's 'incoming request' line of the cut upload (request lines are debug).
    server = await startWorkers(2, { CAIRN_LOG_LEVEL: 'debug', CAIRN_WORKER_MODE: mode });
    await (await server.client(1)).send(new CreateBucketCommand({ Bucket: 'crash' }));
  });
  afterAll(() => server?.close());

  it('the other worker goes on, nothing partial is visible, and the worker comes back', async () => {
    const [one, two] = [await server.client(1), await server.client(2)];
    const before = server.pid(2);
    // An upload on worker 2 cut mid-body by the kill.
    const cut = await heldPut(server.url, 2, '/crash/cut', pattern(4 * MiB, 9), MiB);
    await server.logLine((l) => l.worker === 2 && (l.req as { url?: string } | undefined)?.url === '/crash/cut');
    // Both workers upload in loops: their own keys, and the one key both overwrite.
    let killed = false;
    const acked: Record<string, number[]> = {};
    const attempted: string[] = [];
    // Resolves once both loops have had 4 uploads acknowledged.
    let warm!: () => void;
    const warmed = new Promise<void>((resolve) => (warm = resolve));
    const count = [0, 0];
    const loop = async (s3: S3Client, slot: number, until: () => boolean) => {
      for (let i = 1; !until(); i++) {
        const key = i % 2 ? `w${slot}/k${i}` : 'hot';
        const v = slot * 1000 + i;
        attempted.push(key);
        try {
          await put(s3, key, v);
          (acked[key] ??= []).push(v);
          if (++count[slot - 1] >= 4 && count[2 - slot] >= 4) warm();
        } catch (e) {
          if (slot === 1) throw e; // worker 1 must not fail
          return; // worker 2 is gone
        }
      }
    };
    let afterKill = 0;
    const twoLoop = loop(two, 2, () => false);
    const oneLoop = loop(one, 1, () => killed && ++afterKill > 12);
    // Then worker 2 dies with its loop's next upload in flight.
    await warmed;
    server.kill(2);
    killed = true;
    await twoLoop;
    await oneLoop;
    await expect(cut.answer).rejects.toThrow();
    // Every key tried reads as one whole version, an acknowledged one or the one in flight (or none).
    for (const key of new Set(attempted)) {
      const v = await readVersion(one, key);
      if (key !== 'hot' && acked[key]) expect(v).toBe(acked[key][0]);
    }
    expect((await s3Error(one.send(new GetObjectCommand({ Bucket: 'crash', Key: 'cut' })))).name).toBe('NoSuchKey');
    // Worker 1 can still overwrite the key both wrote: no lock stayed with the dead worker.
    await put(one, 'hot', 1);
    expect(await readVersion(one, 'hot')).toBe(1);
    const listed = await one.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    for (const o of listed.Contents ?? []) {
      expect(o.Size, o.Key).toBe(size(await readVersion(one, o.Key!).then((v) => v!)));
    }
    // The primary restarted worker 2; it serves, and its temp area holds nothing of the cut uploads.
    await server.logLine((l) => l.worker === 0 && l.msg === 'worker 2 is back');
    expect(server.pid(2)).not.toBe(before);
    const again = await server.client(2);
    await put(again, 'after', 3);
    expect(await readVersion(one, 'after')).toBe(3);
    expect(await readVersion(again, 'hot')).toBe(1);
    for (const d of server.drives) expect(await readdir(join(d, '.cairn.sys/tmp/w2'))).toEqual([]);
  });
});
