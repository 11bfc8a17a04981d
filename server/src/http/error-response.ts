// The HTTP edge of the error table: any thrown value becomes S3's XML error body. S3Error keeps its code
// and status; anything else is logged by the caller and answered as 500 InternalError without detail.
import { S3Error, isS3Error } from '../errors.js';
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
      Code: err.code === 'CORSForbidden' ? 'AccessForbidden' : err.code,
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
