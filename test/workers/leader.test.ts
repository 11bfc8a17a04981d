// One leader among the workers of `cairn server --workers 2`: a drive emptied while both run is
// reformatted and rebuilt once, by worker 1. The drive is first replaced by a plain file (a dead drive
// without a format, which nobody can reformat), so that both workers' drive monitors (every 10 s in each)
// see it without a format: worker 2 says it leaves it to the leader; then it becomes an empty directory,
// which worker 1 reformats and rebuilds. Each step waits for the log line that shows it happened.
// The removal of stale multipart uploads runs in the leader alone too: an upload begun on worker 2 is removed
// by worker 1, whose passes go on while worker 2 makes none.
// Workers as processes and as threads (--worker-mode), one server each.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { startWorkers, type WorkersServer, WORKER_MODES } from '../helpers/workers.js';

const MiB = 1024 * 1024;
let server: WorkersServer;
let s3: S3Client[];

const objects = Array.from({ length: 7 }, (_, i) => ({ key: `o${i}`, body: pattern(i < 4 ? 5000 : 2 * MiB, i) }));

describe.each(WORKER_MODES)('workers as %s', (mode) => {
  beforeAll(async () => {
    server = await startWorkers(2, {
      CAIRN_WORKER_MODE: mode,
      CAIRN_LOG_LEVEL: 'debug',
      // Uploads older than a second are stale, looked for every second.
      CAIRN_API_STALE_UPLOADS_EXPIRY: '1s',
      CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL: '1s',
    });
    s3 = await Promise.all([1, 2].map((w) => server.client(w)));
    await s3[0].send(new CreateBucketCommand({ Bucket: 'heal' }));
  });
  afterAll(() => server?.close());

  describe('one leader', () => {
    it('rebuilds an emptied drive once, in worker 1', async () => {
      for (const [i, o] of objects.entries())
        await s3[i % 2].send(new PutObjectCommand({ Bucket: 'heal', Key: o.key, Body: o.body }));
      const [d1] = server.drives;
      /** A drive check of worker `w` that started after `t`, and finished. */
      const checked = (w: number, t: number) =>
        server.logLine(
          (l) => l.worker === w && Number(/^drives checked \(started (\d+)\)$/.exec(l.msg ?? '')?.[1]) > t,
        );
      await rm(d1, { recursive: true, force: true });
      await writeFile(d1, 'not a drive');
      const dead = Date.now();
      await server.logLine((l) => l.worker === 2 && l.msg === `drive ${d1} has no format: the leader rebuilds it`);
      await checked(1, dead); // worker 1 saw it too, and could not reformat a file
      await rm(d1);
      await mkdir(d1);
      const empty = Date.now();
      const rebuilt = await server.logLine((l) => l.msg === `drive ${d1} rebuilt: ${objects.length} objects healed`);
      expect(rebuilt.worker).toBe(1);
      await checked(2, empty);
      const rebuilding = server.logs.filter((l) => String(l.msg).includes('rebuilding its contents'));
      expect(rebuilding.map((l) => [l.worker, l.msg])).toEqual([
        [1, `drive ${d1} is new or was replaced: rebuilding its contents`],
      ]);
      expect(server.logs.filter((l) => l.worker === 2 && String(l.msg).includes('rebuilt'))).toEqual([]);
      expect(server.logs.filter((l) => l.worker === 1 && String(l.msg).includes('leader rebuilds'))).toEqual([]);

      // The drive holds its part of every object again, and both workers read every object.
      expect((await readdir(join(d1, 'heal'))).sort()).toEqual([
        '_bucket.json',
        '_idx',
        ...objects.map((o) => `${o.key}.o`).sort(),
      ]);
      for (const o of objects) {
        const files = await readdir(join(d1, 'heal', `${o.key}.o`));
        expect(files.length, o.key).toBe(o.body.length > MiB ? 2 : 1); // meta, and a data dir when not inline
        for (const c of s3) {
          const got = await c.send(new GetObjectCommand({ Bucket: 'heal', Key: o.key }));
          expect(mismatch(Buffer.from(await got.Body!.transformToByteArray()), o.body)).toBeNull();
        }
      }
    });
  });

  describe('stale multipart uploads', () => {
    it('are removed by the leader alone, those begun on another worker too', async () => {
      const up = await s3[1].send(new CreateMultipartUploadCommand({ Bucket: 'heal', Key: 'forgotten' }));
      const removed = await server.logLine((l) => l.msg === 'stale multipart uploads: 1 removed');
      expect(removed.worker).toBe(1);
      for (const c of s3)
        expect((await c.send(new ListMultipartUploadsCommand({ Bucket: 'heal' }))).Uploads).toBeUndefined();
      expect(up.UploadId).toBeTruthy();
      // Two more passes of the leader after it: worker 2, had it a timer of its own, would have made some.
      let passes = 0;
      await server.logLine(
        (l) =>
          l.worker === 1 &&
          l.msg === 'stale multipart uploads: none' &&
          Number(l.time) > Number(removed.time) &&
          ++passes === 2,
      );
      expect(
        server.logs.filter((l) => String(l.msg).startsWith('stale multipart uploads')).map((l) => l.worker),
      ).not.toContain(2);
    });
  });
});
