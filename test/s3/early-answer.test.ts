// An answer given before the request body was read (a refused signature, a failed POST policy) keeps the
// connection when the rest of the body is small: the server reads and discards it, so a client still sending
// gets the answer (undici's fetch fails with EPIPE on a closed socket) and the next request on the connection
// is answered. A large rest closes the connection instead of reading it.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';
import { signRequest } from '../helpers/signed-request.js';

let server: TestServer;
const bucket = 'early-answer';

beforeAll(async () => {
  server = await startTestServer();
  await server.client().send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => server?.close());

/**
 * Sends a PUT signed with a wrong secret whose body goes out in 4 pieces, each after the previous one was
 * written, then a health check on the same connection; resolves with all the server said once it closes or
 * both answers are in.
 */
async function refusedPutThenHealth(
  bodySize: number,
  refusal: 'signature' | 'storage-class' = 'signature',
): Promise<string> {
  const body = Buffer.alloc(bodySize, 'x');
  // A wrong secret is refused before the body is looked at; a bad storage class once the handler has the body
  // (piped into the payload hash check) and before it reads it.
  const { headers, target } = await signRequest(
    server.url,
    refusal === 'signature'
      ? {
          method: 'PUT',
          path: `/${bucket}/refused`,
          body,
          contentSha256: 'UNSIGNED-PAYLOAD',
          credentials: { accessKey: 'cairntestroot', secretKey: 'wrong-secret' },
        }
      : { method: 'PUT', path: `/${bucket}/refused`, body, headers: { 'x-amz-storage-class': 'NO_SUCH_CLASS' } },
  );
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let out = '';
    const head = [
      `PUT ${target} HTTP/1.1`,
      ...Object.entries({ ...headers, 'content-length': String(body.length) }).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    const quarter = Math.ceil(body.length / 4);
    const pieces = [Buffer.from(head), ...[0, 1, 2, 3].map((i) => body.subarray(i * quarter, (i + 1) * quarter))];
    const sendNext = (): void => {
      const next = pieces.shift();
      if (next) sock.write(next, sendNext);
      else sock.write(`GET /health/live HTTP/1.1\r\nhost: ${u.host}\r\n\r\n`);
    };
    sock.on('connect', sendNext);
    sock.on('data', (d) => {
      out += d;
      if ((out.match(/HTTP\/1\.1 /g) ?? []).length === 2) sock.end();
    });
    sock.on('error', (e) => (out ? resolve(out) : reject(e)));
    sock.on('close', () => resolve(out));
  });
}

describe('early answers', () => {
  it('a refused PUT with a small body keeps the connection: the next request is answered', async () => {
    const out = await refusedPutThenHealth(64 * 1024);
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(answers[0]).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(answers[0].toLowerCase()).not.toContain('connection: close');
    expect(answers[1]).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await s3Error(server.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'refused' })))).toMatchObject(
      { name: 'NoSuchKey' },
    );
  });

  it('a PUT refused by its handler after the body was handed over keeps the connection too', async () => {
    const out = await refusedPutThenHealth(200 * 1024, 'storage-class');
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(answers[0]).toContain('<Code>InvalidStorageClass</Code>');
    expect(answers[0].toLowerCase()).not.toContain('connection: close');
    expect(answers[1]).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await s3Error(server.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'refused' })))).toMatchObject(
      { name: 'NoSuchKey' },
    );
  });

  it('a refused PUT with a large body closes the connection instead of reading it', async () => {
    const out = await refusedPutThenHealth(4 * 1024 * 1024);
    expect(out).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(out.toLowerCase()).toContain('connection: close');
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('fetch gets the answer to a POST form refused by its policy', async () => {
    const form = new FormData();
    form.append('key', 'k');
    form.append('policy', Buffer.from('{"expiration":"2000-01-01T00:00:00Z","conditions":[]}').toString('base64'));
    form.append('AWSAccessKeyId', 'cairntestroot');
    form.append('signature', 'x');
    form.append('file', new Blob([Buffer.alloc(200 * 1024, 'y')]), 'f.bin');
    const res = await fetch(`${server.url}/${bucket}`, { method: 'POST', body: form });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});
