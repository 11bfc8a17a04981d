// A CORS preflight without an Origin header is a bad request (400), as S3 answers it, whether or not the
// bucket has a CORS configuration; a preflight with an Origin but no rule match stays 403.
import { PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';

describe('CORS preflight without Origin', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3 } = await startWithBucket('pre-flight'));
  });
  afterAll(() => srv?.close());

  it("answers 400 BadRequest without Origin, 403 when no rule allows, 200 with the rule's headers", async () => {
    const noOrigin = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS' });
    expect(noOrigin.status).toBe(400);
    expect(await noOrigin.text()).toContain('<Code>BadRequest</Code>');
    const rule = { AllowedMethods: ['GET'], AllowedOrigins: ['https://ok.example'], AllowedHeaders: ['x-amz-*'] };
    await s3.send(new PutBucketCorsCommand({ Bucket: 'pre-flight', CORSConfiguration: { CORSRules: [rule] } }));
    const stillNoOrigin = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS' });
    expect(stillNoOrigin.status).toBe(400);
    expect(await stillNoOrigin.text()).toContain('<Code>BadRequest</Code>');
    // A refusal is 403 AccessForbidden (AWS's code for a CORS request no rule allows) and grants nothing.
    const refused = async (headers: Record<string, string>) => {
      const r = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS', headers });
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('<Code>AccessForbidden</Code>');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      expect(r.headers.get('access-control-allow-methods')).toBeNull();
    };
    await refused({ origin: 'https://other.example', 'access-control-request-method': 'GET' });
    await refused({ origin: 'https://ok.example', 'access-control-request-method': 'PUT' });
    const get = { origin: 'https://ok.example', 'access-control-request-method': 'GET' };
    await refused({ ...get, 'access-control-request-headers': 'content-type' });
    const headers = { ...get, 'access-control-request-headers': 'x-amz-date' };
    const ok = await fetch(`${srv.url}/pre-flight/k`, { method: 'OPTIONS', headers });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ok.example');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET');
    expect(ok.headers.get('access-control-allow-headers')).toBe('x-amz-date');
    expect(ok.headers.get('vary')).toContain('Origin');
  });
});
