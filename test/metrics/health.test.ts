// /minio/health/cluster on a real server: 200 while every erasure set keeps its write quorum of drives
// (4 drives, parity 2: 3), 503 once it does not; the read check holds while the data drives (2) are there.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';

async function health(server: TestServer, path: string, method = 'GET') {
  const res = await fetch(server.url + path, { method });
  return { status: res.status, quorum: res.headers.get('x-minio-write-quorum'), body: await res.text() };
}

describe('/minio/health/cluster', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('follows the drives: write quorum, then read quorum, lost as drive folders go', async () => {
    expect(await health(server, '/minio/health/cluster')).toEqual({ status: 200, quorum: '3', body: '' });
    expect((await health(server, '/minio/health/cluster', 'HEAD')).status).toBe(200);
    const read = await fetch(`${server.url}/minio/health/cluster/read`);
    expect([read.status, read.headers.get('x-minio-read-quorum')]).toEqual([200, '2']);
    // Taking down the only node is never safe.
    expect((await health(server, '/minio/health/cluster?maintenance=true')).status).toBe(412);
    expect((await health(server, '/minio/health/cluster/read?maintenance=true')).status).toBe(412);

    await rm(server.drives[0], { recursive: true, force: true });
    expect((await health(server, '/minio/health/cluster')).status).toBe(200);

    await rm(server.drives[1], { recursive: true, force: true });
    expect(await health(server, '/minio/health/cluster')).toEqual({ status: 503, quorum: '3', body: '' });
    expect((await health(server, '/minio/health/cluster/read')).status).toBe(200);

    await rm(server.drives[2], { recursive: true, force: true });
    expect((await health(server, '/minio/health/cluster/read')).status).toBe(503);
  });
});
