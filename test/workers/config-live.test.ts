// A live configuration change on a `cairn server --workers 2`, made through the worker that is not the leader:
// the leader (which runs the background rounds) applies it too, told over the change bus, so an unfinished upload
// goes within seconds. Without the bus only the worker asked would apply it and the upload would stay.
// Workers as processes and as threads (--worker-mode), one server each.
import { request } from 'node:http';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptData } from '../../server/src/api/iam/madmin-crypto.js';
import { signRequest } from '../helpers/signed-request.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer, WORKER_MODES } from '../helpers/workers.js';

let server: WorkersServer;

/** set-config-kv as worker `slot` answers it: the status and MinIO's x-minio-config-applied header. */
async function setOn(slot: number, text: string): Promise<{ status: number; applied?: string; worker?: string }> {
  const path = '/minio/admin/v3/set-config-kv';
  const body = await encryptData(WORKERS_ROOT.secretKey, Buffer.from(text, 'utf8'));
  const { headers } = await signRequest(server.url, { method: 'PUT', path, body, credentials: WORKERS_ROOT });
  const agent = await server.agent(slot);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'PUT', headers, agent }, (res) => {
      res.resume();
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          applied: res.headers['x-minio-config-applied'] as string | undefined,
          worker: res.headers['x-cairn-worker'] as string | undefined,
        }),
      );
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe.each(WORKER_MODES)('workers as %s', (mode) => {
  beforeAll(async () => {
    server = await startWorkers(2, { CAIRN_WORKER_MODE: mode });
  }, 120_000);
  afterAll(() => server?.close());

  describe('live configuration with two workers', () => {
    it("a change made through worker 2 is applied by the leader's background rounds", async () => {
      const s3 = await server.client(1);
      await s3.send(new CreateBucketCommand({ Bucket: 'live-workers' }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: 'live-workers', Key: 'left' }));
      expect(await setOn(2, 'api stale_uploads_expiry=1s stale_uploads_cleanup_interval=1s')).toEqual({
        status: 200,
        applied: 'true',
        worker: '2',
      });
      await expect
        .poll(
          async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: 'live-workers' }))).Uploads?.length ?? 0,
          { timeout: 30_000, interval: 250 },
        )
        .toBe(0);
    });
  });
});
