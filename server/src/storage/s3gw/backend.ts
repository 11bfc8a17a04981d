// The S3 gateway's client of its backend: AWS's SDK for JavaScript (loaded on first use, as the tiers' is),
// path-style, plain payloads (an aws-chunked checksum trailer only for a checksum the client itself sent as a
// trailer; its hashers are Cairn's native ones), one attempt (a streamed body cannot be sent twice; the client retries), and the one place that turns the
// backend's answers into Cairn's S3 errors. Object bytes are read without it (raw-get.ts: measured faster).
import { S3_ERRORS, S3Error, type S3ErrorCode } from '../../errors.js';
import { checksumHasher, type Hasher } from '../engine/checksum.js';
import type { ChecksumAlgorithm, SpliceMode } from '../object-layer.js';

export type Sdk = typeof import('@aws-sdk/client-s3');
export type Client = InstanceType<Sdk['S3Client']>;
type Storage = typeof import('@aws-sdk/lib-storage');

let sdk: Promise<[Sdk, Storage]> | undefined;
export const loadSdk = () => {
  sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return sdk;
};

export interface BackendOptions {
  /** The backend's endpoint, e.g. http://minio:9000 (path-style requests). */
  url: string;
  accessKey: string;
  secretKey: string;
  region?: string;
  /** Connecting longer than this is the backend down (503). Default 5 s. */
  connectTimeoutMs?: number;
  /** A socket idle this long (no byte either way) is the backend down. Default 60 s. */
  idleTimeoutMs?: number;
  /**
   * When GET bodies over plain HTTP go from the backend's socket to a plain-HTTP client's inside the kernel
   * (splice(2), http1.ts) instead of through node: default auto, only to clients on another host (SpliceMode).
   */
  splice?: SpliceMode;
}

export async function backendClient(o: BackendOptions): Promise<Client> {
  const [{ S3Client }] = await loadSdk();
  return new S3Client({
    endpoint: o.url,
    region: o.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    checksumAlgorithms: {
      CRC32: nativeChecksum('CRC32'),
      CRC32C: nativeChecksum('CRC32C'),
      CRC64NVME: nativeChecksum('CRC64NVME'),
      SHA1: nativeChecksum('SHA1'),
      SHA256: nativeChecksum('SHA256'),
    },
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: o.connectTimeoutMs ?? 5000,
      requestTimeout: o.idleTimeoutMs ?? 60_000,
      // One socket per concurrent request (the SDK's default of 50 would queue a busy gateway's requests).
      httpAgent: { keepAlive: true, maxSockets: 256 },
    },
  });
}

/** The SDK's Checksum interface over Cairn's hashers (native CRC32C/CRC64NVME; the SDK's own are JavaScript). */
function nativeChecksum(alg: ChecksumAlgorithm) {
  return class {
    private h: Hasher = checksumHasher(alg);
    update(data: Uint8Array): void {
      this.h.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    async digest(): Promise<Uint8Array> {
      return this.h.digest();
    }
    reset(): void {
      this.h = checksumHasher(alg);
    }
  };
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** What a 404 without an error code (HEAD answers have no body) means for the call that got it. */
export type NotFound = 'NoSuchKey' | 'NoSuchBucket' | 'NoSuchUpload';

/**
 * The S3 error a failed backend call becomes. The backend's own code when Cairn's table knows it (NoSuchKey,
 * AccessDenied, PreconditionFailed, InvalidRange, ...); backend unreachable, timed out or answering 5xx:
 * ServiceUnavailable (503), so a client retries and nothing is invented; another 4xx: its status's nearest
 * generic code, with the backend's code and message said.
 */
export function backendError(e: unknown, notFound: NotFound = 'NoSuchKey'): S3Error {
  if (e instanceof S3Error) return e;
  const err = e as SdkError;
  const status = err?.$metadata?.httpStatusCode;
  const code = err?.Code ?? err?.name ?? err?.code ?? 'Error';
  const said = `${code}${err?.message && err.message !== code ? `: ${err.message}` : ''}`;
  if (status === 501) return new S3Error('NotImplemented', `The backend does not implement this (${said}).`);
  if (status === undefined || status >= 500)
    return new S3Error('ServiceUnavailable', `The backend S3 service cannot be reached or failed (${said}).`);
  if (code in S3_ERRORS && code !== 'InternalError' && code !== 'ServiceUnavailable')
    return new S3Error(code as S3ErrorCode, err.message && err.message !== code ? err.message : undefined);
  switch (status) {
    case 304:
      return new S3Error('PreconditionFailed', `The backend answered 304 (${said}).`);
    case 403:
      return new S3Error('AccessDenied', `The backend refused the request (${said}).`);
    case 404:
      return new S3Error(notFound);
    case 405:
      return new S3Error('MethodNotAllowed', `The backend refused the request (${said}).`);
    case 409:
      return new S3Error('InvalidBucketState', `The backend refused the request (${said}).`);
    case 412:
      return new S3Error('PreconditionFailed');
    case 416:
      return new S3Error('InvalidRange');
    default:
      return new S3Error('InvalidRequest', `The backend refused the request (${said}).`);
  }
}
