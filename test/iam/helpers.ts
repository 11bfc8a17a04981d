// Clients for the IAM, STS and S3 APIs of a test server, with any credentials (temporary ones included).
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { ROOT } from '../helpers/cairn.js';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const rootCreds: Creds = { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey };

/** `clockOffsetMs`: the client signs as if its clock were this far ahead (tests that move the server's clock). */
export function iamClient(url: string, creds: Creds = rootCreds): IAMClient {
  return new IAMClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
}

export function stsClient(url: string, creds: Creds, clockOffsetMs = 0): STSClient {
  return new STSClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: creds,
    maxAttempts: 1,
    systemClockOffset: clockOffsetMs,
  });
}

export function s3As(url: string, creds: Creds, clockOffsetMs = 0): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds,
    maxAttempts: 1,
    systemClockOffset: clockOffsetMs,
  });
}

/** The error code a call failed with (any AWS SDK client); fails when it succeeded. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.name;
    const err = e as { name?: string; Code?: string; $metadata?: unknown };
    if (err.$metadata !== undefined) return err.Code ?? err.name ?? 'Unknown';
    throw e;
  }
  throw new Error('expected the call to fail');
}

/** The message of the error a call failed with. */
export async function errorMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the call to fail');
}
