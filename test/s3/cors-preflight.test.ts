// A CORS preflight without an Origin header is a bad request (400), as S3 answers it, whether or not the
// bucket has a CORS configuration; a preflight with an Origin but no rule match stays 403.
import { CreateBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';

describe('CORS preflight without Origin', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'pre-flight' }));
  });
  afterAll(async () => srv.close());

  it('answers 400 BadRequest without Origin, 403 for an origin no rule allows', async () => {
    const noOrigin = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS' });
    expect(noOrigin.status).toBe(400);
    expect(await noOrigin.text()).toContain('<Code>BadRequest</Code>');
    await s3.send(new PutBucketCorsCommand({ Bucket: 'pre-flight', CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://ok.example'] }] } }));
    expect((await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS' })).status).toBe(400);
    const other = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS', headers: { origin: 'https://other.example', 'access-control-request-method': 'GET' } });
    expect(other.status).toBe(403);
    const ok = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS', headers: { origin: 'https://ok.example', 'access-control-request-method': 'GET' } });
    expect(ok.status).toBe(200);
  });
});
