// The generator's signed aws-chunked bodies, checked by Cairn's own decoder: every chunk signature and the
// trailer signature verify, and the decoded bytes are the payload.
import { createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder } from '../../server/src/http/auth/aws-chunked.js';
import { CHUNK_SIZE, S3Client } from './client.js';

const cfg = { endpoint: 'http://127.0.0.1:9', accessKey: 'ak-load', secretKey: 'sk-load-secret', region: 'us-east-1' };
const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();

async function decode(head: string, body: Buffer[]): Promise<{ data: Buffer; trailers: Map<string, string> }> {
  const amzDate = /x-amz-date: (\S+)/.exec(head)![1];
  const seed = /Signature=([0-9a-f]{64})/.exec(head)![1];
  const date = amzDate.slice(0, 8);
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${cfg.secretKey}`, date), cfg.region), 's3'), 'aws4_request');
  const decoder = new AwsChunkedDecoder({
    chain: { signingKey, amzDate, scope: `${date}/${cfg.region}/s3/aws4_request`, seedSignature: seed },
  });
  const out: Buffer[] = [];
  // Split the framing at odd places, as socket reads would.
  const wire = Buffer.concat(body);
  const pieces = [];
  for (let at = 0; at < wire.length; at += 7919) pieces.push(wire.subarray(at, at + 7919));
  for await (const chunk of Readable.from(pieces).pipe(decoder)) out.push(chunk as Buffer);
  return { data: Buffer.concat(out), trailers: decoder.trailers };
}

describe('signed streaming bodies of the load generator', () => {
  for (const payload of ['streaming', 'streaming-trailer'] as const) {
    it(`${payload}: verified and decoded by Cairn's aws-chunked decoder`, async () => {
      const client = new S3Client({ ...cfg, payload });
      const data = randomBytes(2 * CHUNK_SIZE + 1234);
      const { head, body } = client.build({ method: 'PUT', path: '/b/k', body: data });
      expect(head).toContain(`x-amz-decoded-content-length: ${data.length}`);
      const length = Number(/Content-Length: (\d+)/.exec(head)![1]);
      expect(length).toBe(body.reduce((n, b) => n + b.length, 0));
      const got = await decode(head, body);
      expect(got.data.equals(data)).toBe(true);
      if (payload === 'streaming-trailer')
        expect(got.trailers.get('x-amz-checksum-crc32')).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    });
  }

  it('a body framed for another request does not verify', async () => {
    const client = new S3Client({ ...cfg, payload: 'streaming' });
    const data = randomBytes(CHUNK_SIZE + 10);
    const a = client.build({ method: 'PUT', path: '/b/one', body: data });
    const b = client.build({ method: 'PUT', path: '/b/two', body: data });
    await expect(decode(a.head, b.body)).rejects.toThrow(/signature/);
  });
});
