// The S3 gateway's GET of object bytes, over its own HTTP/1.1 client (http1.ts) with Cairn's SigV4 signer
// instead of the AWS SDK: bench/s3gw measured the SDK's GetObject at about a quarter of node's http reading the
// same 64 MiB objects, and node's http at a GC run every ~25 MiB (http1.ts). The answer's body is handed to the
// API layer as it is (no copy, backpressure kept). Everything else stays on the SDK.
import { amzDate, authorizationV4, deriveSigningKey, uriEncode } from '../../sigv4-sign.js';
import type { BackendOptions } from './backend.js';
import { Http1Client, type Http1Response, type ResponseBody } from './http1.js';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Longest error body read from the backend (its XML error document). */
const ERROR_BODY_MAX = 64 * 1024;

/** A failed GET in the shape backendError() reads (the SDK's error fields). */
export interface GetFailure {
  name: string;
  Code?: string;
  message: string;
  $metadata: { httpStatusCode?: number };
  /** The answer's headers (a delete marker's 404 or 405 says x-amz-delete-marker and its version). */
  $response?: { headers: Record<string, string> };
}

/** A 200/206 answer: its headers (lower-case names) and its body. */
export interface BackendGet {
  status: number;
  headers: Record<string, string>;
  body: ResponseBody;
}

export class RawGetter {
  private readonly base: URL;
  private readonly http: Http1Client;
  private readonly region: string;
  private dayKey?: { day: string; key: Buffer };

  constructor(private readonly o: BackendOptions) {
    this.base = new URL(o.url);
    this.region = o.region ?? 'us-east-1';
    this.http = new Http1Client(this.base, {
      connectTimeoutMs: o.connectTimeoutMs ?? 5000,
      idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
      splice: o.splice,
    });
  }

  private signingKey(day: string): Buffer {
    if (this.dayKey?.day !== day) {
      this.dayKey = { day, key: deriveSigningKey(this.o.secretKey, day, this.region, 's3') };
    }
    return this.dayKey.key;
  }

  /**
   * GET /bucket/key with `headers` (range, if-match), signed; resolves with the 200/206 response, whose body
   * is the caller's to read. Another status, a refused connection or an idle socket: rejects with a GetFailure.
   */
  async get(
    bucket: string,
    key: string,
    query: [string, string][],
    extra: Record<string, string>,
  ): Promise<BackendGet> {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const path = `${prefix}/${uriEncode(bucket)}/${uriEncode(key, true)}`;
    const sortedQuery = query
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .sort()
      .join('&');
    const date = amzDate();
    const headers: Record<string, string> = {
      host: this.base.host,
      'x-amz-content-sha256': UNSIGNED_PAYLOAD,
      'x-amz-date': date,
    };
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v.trim();
    headers.authorization = authorizationV4({
      method: 'GET',
      canonicalUri: path,
      canonicalQuery: sortedQuery,
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
      accessKey: this.o.accessKey,
      region: this.region,
      service: 's3',
      signingKey: this.signingKey(date.slice(0, 8)),
    });
    let res: Http1Response;
    try {
      res = await this.http.get(sortedQuery ? `${path}?${sortedQuery}` : path, headers);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw { name: err.code ?? 'NetworkError', message: err.message, $metadata: {} } satisfies GetFailure;
    }
    if ((res.status === 200 || res.status === 206) && res.body)
      return { status: res.status, headers: res.headers, body: res.body };
    if (res.status === 200 || res.status === 206)
      throw {
        name: 'NoContentLength',
        message: 'The backend answered a GET without a Content-Length.',
        $metadata: { httpStatusCode: 502 },
      } satisfies GetFailure;
    res.body?.destroy();
    throw readError(res);
  }

  close(): void {
    this.http.close();
  }
}

/** The backend's error answer as a GetFailure: its XML <Code> and <Message> when it sent them. */
function readError(res: Http1Response): GetFailure {
  const text = (res.whole ?? Buffer.alloc(0)).subarray(0, ERROR_BODY_MAX).toString('utf8');
  const field = (name: string) => {
    const start = text.indexOf(`<${name}>`);
    const end = text.indexOf(`</${name}>`, start);
    return start >= 0 && end > start ? text.slice(start + name.length + 2, end) : undefined;
  };
  const code = field('Code');
  return {
    name: code ?? String(res.status),
    Code: code,
    message: field('Message') ?? '',
    $metadata: { httpStatusCode: res.status },
    $response: { headers: res.headers },
  };
}
