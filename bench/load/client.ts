// The generator's S3 client: path-style requests signed by the small SigV4 signer and sent over lean
// keep-alive HTTP/1.1 connections (http1.ts). Bodies are sent from caller-owned, pre-generated buffers
// and responses are only counted, never kept (except the first bytes of an error body, for the report).
import { Http1Connection } from './http1.js';
import type { RawResponse } from './http1.js';
import { SigV4Signer, UNSIGNED_PAYLOAD, canonicalQueryString, uriEncode } from './sigv4.js';

export interface ClientConfig {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

export interface S3Request {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  /** Path-style canonical path, already encoded (see objectPath). */
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
  range?: string;
  body?: Buffer;
}

export type S3Response = RawResponse;

export function objectPath(bucket: string, key?: string): string {
  return key === undefined ? `/${uriEncode(bucket)}` : `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
}

/** Signs requests for one endpoint; each S3Connection carries one request at a time. */
export class S3Client {
  readonly url: URL;
  private readonly signer: SigV4Signer;
  private readonly host: string;

  constructor(cfg: ClientConfig) {
    this.url = new URL(cfg.endpoint);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
      throw new Error(`endpoint must be http(s): ${cfg.endpoint}`);
    this.host = this.url.host;
    this.signer = new SigV4Signer({ accessKey: cfg.accessKey, secretKey: cfg.secretKey, region: cfg.region });
  }

  connect(): S3Connection {
    return new S3Connection(this, new Http1Connection(this.url));
  }

  /** The request head, signed, ending in the blank line. */
  head(r: S3Request): string {
    const amzDate = this.signer.now();
    const signed: Record<string, string> = {
      host: this.host,
      'x-amz-content-sha256': UNSIGNED_PAYLOAD,
      'x-amz-date': amzDate,
    };
    if (r.range) signed.range = r.range;
    const auth = this.signer.authorization({
      method: r.method,
      path: r.path,
      query: r.query,
      headers: signed,
      payloadHash: UNSIGNED_PAYLOAD,
      amzDate,
    });
    const qs = r.query && r.query.length > 0 ? `?${canonicalQueryString(r.query)}` : '';
    return (
      `${r.method} ${r.path}${qs} HTTP/1.1\r\nHost: ${this.host}\r\nx-amz-content-sha256: ${UNSIGNED_PAYLOAD}\r\n` +
      `x-amz-date: ${amzDate}\r\nAuthorization: ${auth}\r\n` +
      (r.range ? `Range: ${r.range}\r\n` : '') +
      (r.method === 'PUT' ? `Content-Length: ${r.body ? r.body.length : 0}\r\n` : '') +
      '\r\n'
    );
  }
}

export class S3Connection {
  constructor(
    private readonly client: S3Client,
    private readonly conn: Http1Connection,
  ) {}

  request(r: S3Request): Promise<S3Response> {
    return this.conn.request(this.client.head(r), r.body, r.method === 'HEAD');
  }

  warmUp(): Promise<void> {
    return this.conn.warmUp();
  }

  close(): void {
    this.conn.close();
  }
}
