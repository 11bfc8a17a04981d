// The generator's S3 client: path-style requests signed by the small SigV4 signer and sent over lean
// keep-alive HTTP/1.1 connections (http1.ts). Bodies are sent from caller-owned, pre-generated buffers
// and responses are only counted, never kept (except the first bytes of an error body, for the report).
// PUT bodies go as they are (UNSIGNED-PAYLOAD) or as signed aws-chunked streams in 64 KiB chunks, as
// minio-go (warp, mc) sends them on plain HTTP, optionally with a signed x-amz-checksum-crc32 trailer as the
// AWS SDKs add; the chunks' SHA-256s and the CRC are computed once per payload buffer, not per request.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Http1Connection } from './http1.js';
import type { RawResponse } from './http1.js';
import {
  SigV4Signer,
  STREAMING_PAYLOAD,
  STREAMING_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
  canonicalQueryString,
  uriEncode,
} from './sigv4.js';

/** How PUT bodies are signed: not at all, or signed aws-chunked without or with a checksum trailer. */
export const PAYLOADS = ['unsigned', 'streaming', 'streaming-trailer'] as const;
export type PayloadMode = (typeof PAYLOADS)[number];

export interface ClientConfig {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Default unsigned. */
  payload?: PayloadMode;
  /** PEM of the CA that signed an https endpoint's certificate (a test CA); default: the system's roots. */
  ca?: string;
}

/** Decoded bytes per aws-chunked chunk (minio-go's and the AWS SDKs' 64 KiB). */
export const CHUNK_SIZE = 64 * 1024;

/** What signing a payload buffer's chunks needs, computed once per buffer. */
interface ChunkedPayload {
  /** SHA-256 (hex) of each chunk's data. */
  hashes: string[];
  /** x-amz-checksum-crc32 of the whole payload. */
  crc32: string;
}

const chunkedPayloads = new WeakMap<Buffer, ChunkedPayload>();

function chunkedPayload(body: Buffer): ChunkedPayload {
  let p = chunkedPayloads.get(body);
  if (!p) {
    const hashes: string[] = [];
    for (let at = 0; at < body.length; at += CHUNK_SIZE) {
      hashes.push(
        createHash('sha256')
          .update(body.subarray(at, at + CHUNK_SIZE))
          .digest('hex'),
      );
    }
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    p = { hashes, crc32: crc.toString('base64') };
    chunkedPayloads.set(body, p);
  }
  return p;
}

const CRLF = Buffer.from('\r\n');
const EMPTY_CHUNK_SHA256 = createHash('sha256').digest('hex');

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
  readonly payload: PayloadMode;
  private readonly ca?: string;

  constructor(cfg: ClientConfig) {
    this.payload = cfg.payload ?? 'unsigned';
    this.url = new URL(cfg.endpoint);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
      throw new Error(`endpoint must be http(s): ${cfg.endpoint}`);
    this.host = this.url.host;
    this.ca = cfg.ca;
    this.signer = new SigV4Signer({ accessKey: cfg.accessKey, secretKey: cfg.secretKey, region: cfg.region });
  }

  connect(): S3Connection {
    return new S3Connection(this, new Http1Connection(this.url, this.ca));
  }

  /** The request: its head, signed and ending in the blank line, and its body (framed when streaming). */
  build(r: S3Request): { head: string; body: Buffer[] } {
    const amzDate = this.signer.now();
    const streaming = r.method === 'PUT' && r.body !== undefined && r.body.length > 0 && this.payload !== 'unsigned';
    const trailer = streaming && this.payload === 'streaming-trailer';
    const payloadHash = !streaming ? UNSIGNED_PAYLOAD : trailer ? STREAMING_PAYLOAD_TRAILER : STREAMING_PAYLOAD;
    const signed: Record<string, string> = {
      host: this.host,
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
    };
    if (r.range) signed.range = r.range;
    if (streaming) signed['x-amz-decoded-content-length'] = String(r.body!.length);
    if (trailer) {
      signed['content-encoding'] = 'aws-chunked';
      signed['x-amz-trailer'] = 'x-amz-checksum-crc32';
    }
    const auth = this.signer.authorization({
      method: r.method,
      path: r.path,
      query: r.query,
      headers: signed,
      payloadHash,
      amzDate,
    });
    const body = streaming ? this.frame(r.body!, amzDate, auth.slice(auth.lastIndexOf('=') + 1), trailer) : [];
    if (!streaming && r.body && r.body.length > 0) body.push(r.body);
    const length = body.reduce((n, b) => n + b.length, 0);
    const qs = r.query && r.query.length > 0 ? `?${canonicalQueryString(r.query)}` : '';
    let head = `${r.method} ${r.path}${qs} HTTP/1.1\r\nHost: ${this.host}\r\nAuthorization: ${auth}\r\n`;
    for (const [name, value] of Object.entries(signed)) if (name !== 'host') head += `${name}: ${value}\r\n`;
    if (r.method === 'PUT') head += `Content-Length: ${length}\r\n`;
    return { head: `${head}\r\n`, body };
  }

  /** `body` as signed aws-chunked framing: views of it between the chunk lines, then the final chunk (and trailer). */
  private frame(body: Buffer, amzDate: string, seed: string, trailer: boolean): Buffer[] {
    const { hashes, crc32 } = chunkedPayload(body);
    const out: Buffer[] = [];
    let previous = seed;
    hashes.forEach((hash, i) => {
      const data = body.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE);
      previous = this.signer.chunkSignature(amzDate, previous, hash);
      out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${previous}\r\n`, 'latin1'), data, CRLF);
    });
    previous = this.signer.chunkSignature(amzDate, previous, EMPTY_CHUNK_SHA256);
    let end = `0;chunk-signature=${previous}\r\n`;
    if (trailer) {
      const line = `x-amz-checksum-crc32:${crc32}`;
      end += `${line}\r\nx-amz-trailer-signature:${this.signer.trailerSignature(amzDate, previous, `${line}\n`)}\r\n`;
    }
    out.push(Buffer.from(`${end}\r\n`, 'latin1'));
    return out;
  }
}

export class S3Connection {
  constructor(
    private readonly client: S3Client,
    private readonly conn: Http1Connection,
  ) {}

  request(r: S3Request): Promise<S3Response> {
    const { head, body } = this.client.build(r);
    return this.conn.request(head, body, r.method === 'HEAD');
  }

  warmUp(): Promise<void> {
    return this.conn.warmUp();
  }

  close(): void {
    this.conn.close();
  }
}
