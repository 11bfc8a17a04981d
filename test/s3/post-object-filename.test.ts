// POST policy uploads whose key is `${filename}`: the policy's key condition may match the key with the
// file name put in (starts-with "foo" for a file named foo.txt); a key matching neither way is refused.
import { createHmac } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

describe('POST ${filename} keys against the policy', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3 } = await startWithBucket('post-names'));
  });
  afterAll(() => srv?.close());

  async function post(fileName: string): Promise<number> {
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 60_000).toISOString(),
        conditions: [{ bucket: 'post-names' }, ['starts-with', '$key', 'foo']],
      }),
    ).toString('base64');
    const form = new FormData();
    form.append('key', '${filename}');
    form.append('AWSAccessKeyId', ROOT.accessKey);
    form.append('policy', policy);
    form.append('signature', createHmac('sha1', ROOT.secretKey).update(policy).digest('base64'));
    form.append('file', new Blob(['data']), fileName);
    return (await fetch(`${srv.url}/post-names`, { method: 'POST', body: form })).status;
  }

  it('accepts foo.txt and refuses bar.txt', async () => {
    expect(await post('foo.txt')).toBe(204);
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'post-names', Key: 'foo.txt' }))).Body!.transformToString(),
    ).toBe('data');
    expect(await post('bar.txt')).toBe(403);
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'post-names', Key: 'bar.txt' })))).status).toBe(404);
  });
});
