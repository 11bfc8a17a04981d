// ListenBucketNotification (MinIO's streaming API): a signed GET /bucket?events=...&prefix=&suffix= stays
// open and carries one JSON line per matching event as it happens; bad asks are refused before it opens.
// GET /?events=... (MinIO's ListenNotification, `mc watch ALIAS`) does the same for every bucket.
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventRecord } from '@cairn/server';
import { ALT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch, signRequest } from '../helpers/signed-request.js';

const bucket = 'listened';
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
});

afterAll(async () => {
  await server?.close();
});

/** Opens a listen stream (on `path`: a bucket, or `/` for all); `next()` resolves with each record as it comes. */
async function listen(query: Record<string, string>, signal: AbortSignal, path = `/${bucket}`) {
  const { headers, target } = await signRequest(server.url, { method: 'GET', path, query });
  const h = { ...headers };
  delete h.host;
  const res = await fetch(server.url + target, { headers: h, signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let buffered = '';
  return async function next(): Promise<EventRecord> {
    for (;;) {
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) return (JSON.parse(line) as { Records: EventRecord[] }).Records[0];
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffered += Buffer.from(value).toString('utf8');
    }
  };
}

it('streams the matching events of the bucket as they happen, keys as they are', async () => {
  const stop = new AbortController();
  const next = await listen({ events: 's3:ObjectCreated:*', prefix: 'in/', suffix: '.csv' }, stop.signal);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'out/x.csv', Body: 'no' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/x.txt', Body: 'no' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'in/gone.csv' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a b.csv', Body: 'yes' }));
  const r = await next();
  expect(r).toMatchObject({
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: bucket }, object: { key: 'in/a b.csv', size: 3 } },
  });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/c.csv', Body: 'yes!' }));
  expect((await next()).s3.object.key).toBe('in/c.csv');
  stop.abort();
});

it('refuses unknown event types and buckets that do not exist, before streaming', async () => {
  const bad = await signedFetch(server.url, { method: 'GET', path: `/${bucket}`, query: { events: 's3:Nope:*' } });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('<Code>InvalidArgument</Code>');
  await s3.send(new CreateBucketCommand({ Bucket: 'other-bucket' }));
  const none = await signedFetch(server.url, {
    method: 'GET',
    path: '/no-such-bucket',
    query: { events: 's3:ObjectCreated:*' },
  });
  expect(none.status).toBe(404);
  expect(none.text).toContain('<Code>NoSuchBucket</Code>');
});

it('GET /?events= streams the matching events of every bucket, to callers allowed s3:ListenNotification only', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'second-bucket' }));
  const stop = new AbortController();
  const next = await listen({ events: 's3:ObjectCreated:Put', prefix: 'p/', ping: '10' }, stop.signal, '/');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'q/skipped', Body: 'no' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: 'p/removed' }));
  await s3.send(new PutObjectCommand({ Bucket: 'second-bucket', Key: 'p/one', Body: '1' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/two', Body: '22' }));
  const got = [await next(), await next()].map((r) => [r.eventName, r.s3.bucket.name, r.s3.object.key]);
  expect(got).toEqual([
    ['ObjectCreated:Put', 'second-bucket', 'p/one'],
    ['ObjectCreated:Put', bucket, 'p/two'],
  ]);
  stop.abort();

  const bad = await signedFetch(server.url, { method: 'GET', path: '/', query: { events: 's3:Nope:*' } });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('<Code>InvalidArgument</Code>');
  // Anonymous callers, and users whose policies do not allow s3:ListenNotification on every resource, are refused.
  const anonymous = await fetch(`${server.url}/?events=s3:ObjectCreated:*`);
  expect(anonymous.status).toBe(403);
  const user = await signedFetch(server.url, {
    method: 'GET',
    path: '/',
    query: { events: 's3:ObjectCreated:*' },
    credentials: ALT,
  });
  expect(user.status).toBe(403);
  expect(user.text).toContain('<Code>AccessDenied</Code>');
  expect(user.text).not.toContain('Records');
});
