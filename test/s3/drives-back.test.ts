// Drives that come back serve the next request, not the drive monitor's next round. A request that fails for want
// of drives (503 SlowDownRead / SlowDownWrite) has every drive probed before its answer is sent: the probe takes
// missing drives offline, and once they are back, brings them online for the client's retry. This server runs no
// drive monitor at all (background off), so only those probes can change what it thinks of its drives. Drives whose
// folders vanished are not taken for empty ones: not a 404 for what they hold, and no folder made in their place.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm, symlink } from 'node:fs/promises';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: TestServer;
let admin: AdminTarget;

beforeAll(async () => {
  server = await startTestServer({ storage: { background: false } });
  admin = { endpoint: server.url, region: 'us-east-1', ...ROOT };
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function offlineDisks(): Promise<number> {
  const info = (await adminCall(admin, { method: 'GET', path: 'info' })) as { backend: { offlineDisks: number } };
  return info.backend.offlineDisks;
}

async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => 200,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
  );
}

describe('drives that come back', () => {
  it('are probed by the request that failed without them, and serve the next one', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'back' }));
    const body = rnd.bytes(300_000);
    await s3.send(new PutObjectCommand({ Bucket: 'back', Key: 'k', Body: body }));
    const get = async () => {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'back', Key: 'k' }));
      return Buffer.from(await r.Body!.transformToByteArray());
    };

    // Three of the four drives (EC 2+2) fail: a symbolic link to itself where each drive's folder was makes every
    // read fail (ELOOP), as a drive that errs does. The GET fails, and its probe takes them offline.
    const away = server.drives.slice(1);
    for (const d of away) {
      await rename(d, `${d}.away`);
      await symlink(d, d);
    }
    expect(await statusOf(get())).toBe(503);
    expect(await statusOf(s3.send(new PutObjectCommand({ Bucket: 'back', Key: 'k', Body: 'x' })))).toBe(503);

    // Back. The server still holds them offline (what the failed requests' probe found; no monitor runs here, and
    // the admin info reports an offline drive without looking at it): only a failed request's probe (one a
    // second at most) can bring them online.
    for (const d of away) {
      await rm(d);
      await rename(`${d}.away`, d);
    }
    expect(await offlineDisks()).toBe(3);
    await vi.waitFor(async () => expect(sha256(await get())).toBe(sha256(body)), { timeout: 60_000, interval: 300 });
    expect(await offlineDisks()).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: 'back', Key: 'k2', Body: 'after' }));
    s3.destroy();
  }, 120_000);

  it('whose folders vanished answer 503, never 404, for an object they hold', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'vanish' }));
    const body = rnd.bytes(200_000);
    await s3.send(new PutObjectCommand({ Bucket: 'vanish', Key: 'k', Body: body }));
    const get = async () => {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'vanish', Key: 'k' }));
      return Buffer.from(await r.Body!.transformToByteArray());
    };

    // Three of the four drives' folders are moved away (a deleted folder, or a file system unmounted before any
    // drive check): every read of them finds no file. "No such object" from drives without their format file
    // must not count: the object exists, too few drives can say so, and the client is told to retry.
    const away = server.drives.slice(1);
    for (const d of away) await rename(d, `${d}.away`);
    await new Promise((r) => setTimeout(r, 1500)); // what a drive's format check found is kept a second
    expect(await statusOf(get())).toBe(503);
    expect(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'vanish', Key: 'k' })))).toBe(503);
    expect(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'vanish', Key: 'never-written' })))).toBe(503);

    for (const d of away) {
      expect(existsSync(d)).toBe(false); // the reads made nothing where the drive was
      await rename(`${d}.away`, d);
    }
    await vi.waitFor(async () => expect(sha256(await get())).toBe(sha256(body)), { timeout: 60_000, interval: 300 });
    const neverWritten = () => statusOf(s3.send(new HeadObjectCommand({ Bucket: 'vanish', Key: 'never-written' })));
    await vi.waitFor(async () => expect(await neverWritten()).toBe(404), { timeout: 10_000, interval: 300 });
    s3.destroy();
  }, 120_000);
});
