// Decides how a request is signed (SigV4 header or query, SigV2 header or query, or not at all) and
// verifies it. Authorization (may this caller do this?) is in authorize.ts.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { Identity } from './auth/credentials.js';
import { verifyHeaderV2, verifyPresignedV2 } from './auth/sigv2.js';
import {
  verifyHeaderV4,
  verifyPresignedV4,
  type AuthOutcome,
  type PayloadMode,
  type SignedService,
  type SigV4Context,
} from './auth/sigv4.js';
import type { HeaderValues } from './auth/canonical.js';
import type { SignatureFacts } from '../api/types.js';

export interface Authenticated {
  /** undefined: anonymous. */
  identity?: Identity;
  payload: PayloadMode;
  /** What the signature is for (SigV4's credential scope; SigV2 and anonymous requests are for s3). */
  service: SignedService;
  /** How the request was signed (undefined: anonymous), for the policy conditions that ask. */
  signature?: SignatureFacts;
}

export interface AuthInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Each value of a header sent more than once, for the canonical request. */
  valuesOf?: HeaderValues;
  /** Bucket named by the Host header (virtual-host style), for SigV2's resource. */
  virtualBucket?: string;
  /** SHA-256 (hex) of a body read before authentication (IAM and STS requests). */
  payloadHash?: string;
}

const v4Facts = (v4: AuthOutcome, type: SignatureFacts['type']): SignatureFacts => ({
  version: 'AWS4-HMAC-SHA256',
  type,
  signedAt: v4.signedAt,
  contentSha256: v4.contentSha256,
});

export function authenticate(ctx: SigV4Context, req: AuthInput): Authenticated {
  const auth = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
  const signed = {
    method: req.method,
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    headers: req.headers,
    valuesOf: req.valuesOf,
  };
  const q = req.query;
  const presignedV4 = q.has('X-Amz-Signature') || q.has('X-Amz-Credential') || q.has('X-Amz-Algorithm');
  const presignedV2 = q.has('AWSAccessKeyId') && q.has('Signature');
  if (auth !== undefined && (presignedV4 || presignedV2))
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  if (auth !== undefined) {
    if (auth.startsWith('AWS4-HMAC-SHA256')) {
      const v4 = verifyHeaderV4(ctx, signed, auth, req.payloadHash);
      return { ...v4, signature: v4Facts(v4, 'REST-HEADER') };
    }
    if (auth.startsWith('AWS ')) {
      refuseUnsignedSwitches(q);
      return {
        identity: verifyHeaderV2(ctx, signed, auth, req.virtualBucket),
        payload: { kind: 'unsigned' },
        service: 's3',
        signature: { version: 'AWS', type: 'REST-HEADER' },
      };
    }
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: auth.split(' ')[0],
    });
  }
  if (presignedV4) {
    const v4 = verifyPresignedV4(ctx, signed);
    return { ...v4, signature: v4Facts(v4, 'REST-QUERY-STRING') };
  }
  if (presignedV2) {
    refuseUnsignedSwitches(q);
    return {
      identity: verifyPresignedV2(ctx, signed, req.virtualBucket),
      payload: { kind: 'unsigned' },
      service: 's3',
      signature: { version: 'AWS', type: 'REST-QUERY-STRING' },
    };
  }
  // Anonymous: the body may still be aws-chunked (SDKs with unsigned trailers); it is never verified.
  const sha = req.headers['x-amz-content-sha256'];
  if (sha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    return { payload: { kind: 'streaming', signed: false, trailer: true }, service: 's3' };
  return { payload: { kind: 'unsigned' }, service: 's3' };
}

/**
 * SigV2 signs only AWS's own subresources, never Cairn's `x-cairn-*` query switches (select.ts): a request
 * carrying them under SigV2 could have had them added or changed on the way, so it is refused.
 */
function refuseUnsignedSwitches(query: URLSearchParams): void {
  for (const name of query.keys())
    if (name.toLowerCase().startsWith('x-cairn-'))
      throw new S3Error('InvalidArgument', 'x-cairn-* parameters need a SigV4 signature (SigV2 does not sign them).', {
        ArgumentName: name,
      });
}
