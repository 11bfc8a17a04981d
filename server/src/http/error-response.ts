// The HTTP edge of the error table: any thrown value becomes S3's XML error body. S3Error keeps its code
// and status; anything else is logged by the caller and answered as 500 InternalError without detail.
import { S3Error, isS3Error, wireCode } from '../errors.js';
import { toXml } from '../api/xml.js';

export interface ErrorBody {
  status: number;
  code: string;
  xml: string;
}

export function toS3Error(err: unknown): S3Error {
  if (isS3Error(err)) return err;
  // Node's own errors for client faults we can name precisely.
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return new S3Error('IncompleteBody');
  return new S3Error('InternalError');
}

export function errorBody(err: S3Error, resource: string, requestId: string, hostId: string): ErrorBody {
  const xml = toXml(
    'Error',
    {
      Code: wireCode(err.code),
      Message: err.message,
      ...err.extra,
      Resource: resource,
      RequestId: requestId,
      HostId: hostId,
    },
    null,
    { escapeQuotes: false },
  );
  return { status: err.status, code: err.code, xml };
}

/** The namespaces of the IAM and STS query APIs' answers. */
export const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/**
 * Errors of the IAM and STS query APIs (`<ErrorResponse><Error><Type>...`) and of MinIO's admin API (JSON
 * with Code and Message, as madmin reads them).
 */
export function serviceErrorBody(
  err: S3Error,
  service: 'query' | 'admin',
  requestId: string,
): { status: number; headers: Record<string, string>; body: string } {
  if (service === 'admin') {
    const body = JSON.stringify({ Code: wireCode(err.code), Message: err.message, RequestId: requestId });
    return { status: err.status, headers: { 'content-type': 'application/json' }, body };
  }
  const error = { Type: err.status >= 500 ? 'Receiver' : 'Sender', Code: wireCode(err.code), Message: err.message };
  const xml = toXml('ErrorResponse', { Error: error, RequestId: requestId }, IAM_NS);
  return { status: err.status, headers: { 'content-type': 'text/xml' }, body: xml };
}
