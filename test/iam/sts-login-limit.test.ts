// Failed STS AssumeRole signatures (a wrong secret or unknown access key: the web console's login) are counted
// per source address with LDAP's failed logins: past the limit, that address's AssumeRole calls are refused
// before their signature is checked, even with the right secret, until the window ends (the test moves the
// server's clock). Other calls of a correctly signed client go on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { FAILURES_PER_WINDOW, WINDOW_MS } from '../../server/src/api/iam/login-limit.js';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { rootCreds, s3As, stsClient } from './helpers.js';

let server: TestServer;
let offset = 0;

beforeAll(async () => {
  server = await startTestServer({ now: () => Date.now() + offset });
});
afterAll(() => server?.close());

/** MinIO's AssumeRole (no RoleArn: the caller's own rights), as the console logs in. */
const assume = (creds: { accessKeyId: string; secretAccessKey: string }) =>
  stsClient(server.url, creds, offset).send(new AssumeRoleCommand({} as never));

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; Code?: string; message: string };
    return { code: err.Code ?? err.name, message: err.message };
  }
  throw new Error('expected an error');
}

describe('failed STS AssumeRole logins', () => {
  it('are limited per source address, and the limit ends with its window', async () => {
    const wrong = { ...rootCreds, secretAccessKey: 'not-the-secret' };
    const ok = await assume(rootCreds);
    expect(ok.Credentials?.AccessKeyId).toBeTruthy();
    for (let i = 0; i < FAILURES_PER_WINDOW; i++) {
      expect((await errorOf(assume(wrong))).code).toBe('SignatureDoesNotMatch');
    }
    // An unknown access key counts alike, and is refused now.
    const refused = await errorOf(assume(rootCreds));
    expect(refused.code).toBe('AccessDenied');
    expect(refused.message).toMatch(/Too many failed sign-ins/);
    expect((await errorOf(assume({ accessKeyId: 'nobody', secretAccessKey: 'x' }))).code).toBe('AccessDenied');
    // S3 calls signed with the right secret are not logins: they go on.
    const buckets = await s3As(server.url, rootCreds).send(new ListBucketsCommand({}));
    expect(buckets.$metadata.httpStatusCode).toBe(200);
    // The window ends: the right secret logs in again.
    offset = WINDOW_MS + 1000;
    const again = await assume(rootCreds);
    expect(again.Credentials?.SessionToken).toBeTruthy();
  });

  it('counts unknown access keys', async () => {
    offset += WINDOW_MS + 1000;
    for (let i = 0; i < FAILURES_PER_WINDOW; i++) {
      expect((await errorOf(assume({ accessKeyId: 'nobody', secretAccessKey: 'x' }))).code).toBe('InvalidAccessKeyId');
    }
    expect((await errorOf(assume(rootCreds))).code).toBe('AccessDenied');
  });
});
