// A minimal AWS Signature Version 4 signer for the load generator: header authentication, with the payload
// UNSIGNED-PAYLOAD or signed streaming (aws-chunked, one signature per chunk chained from the request's:
// what minio-go, mc, warp and the AWS SDKs send on plain HTTP). The signing key (four HMACs) is derived
// once per day and the x-amz-date string once per second, so a request costs one SHA-256 of the canonical
// request and one HMAC, plus one HMAC per chunk for streaming (the chunks' SHA-256s are the caller's).
import { createHash, createHmac } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const EMPTY_SHA256 = createHash('sha256').digest('hex');

export interface SignerConfig {
  accessKey: string;
  secretKey: string;
  region: string;
  service?: string; // 's3' unless a test vector says otherwise
}

export interface SignInput {
  method: string;
  /** Canonical (already URI-encoded) path, e.g. /bucket/key%20name. */
  path: string;
  /** Query parameters, not encoded; sorted and encoded here. */
  query?: ReadonlyArray<readonly [string, string]>;
  /** Headers to sign, names in lower case; must include host, x-amz-date and x-amz-content-sha256. */
  headers: Readonly<Record<string, string>>;
  payloadHash: string;
  amzDate: string; // YYYYMMDDTHHMMSSZ
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX (upper-case hex). */
export function uriEncode(s: string, keepSlash = false): string {
  const out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? out.replace(/%2F/g, '/') : out;
}

export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]> = []): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** x-amz-date for a given time: 2013-05-24T00:00:00.000Z -> 20130524T000000Z. */
export function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export class SigV4Signer {
  private readonly service: string;
  private keyDate = '';
  private key: Buffer = Buffer.alloc(0);
  private dateSecond = -1;
  private dateString = '';

  constructor(private readonly cfg: SignerConfig) {
    this.service = cfg.service ?? 's3';
  }

  /** The current x-amz-date, recomputed at most once per second. */
  now(): string {
    const sec = Math.floor(Date.now() / 1000);
    if (sec !== this.dateSecond) {
      this.dateSecond = sec;
      this.dateString = amzDateOf(sec * 1000);
    }
    return this.dateString;
  }

  private signingKey(date: string): Buffer {
    if (date !== this.keyDate) {
      const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
      this.key = h(h(h(h(`AWS4${this.cfg.secretKey}`, date), this.cfg.region), this.service), 'aws4_request');
      this.keyDate = date;
    }
    return this.key;
  }

  /** The credential scope of a request signed at `amzDate`. */
  scope(amzDate: string): string {
    return `${amzDate.slice(0, 8)}/${this.cfg.region}/${this.service}/aws4_request`;
  }

  /** The signature of one aws-chunked chunk whose data has SHA-256 `chunkSha256` (hex), after `previous`. */
  chunkSignature(amzDate: string, previous: string, chunkSha256: string): string {
    const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${this.scope(amzDate)}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256}`;
    return createHmac('sha256', this.signingKey(amzDate.slice(0, 8)))
      .update(sts)
      .digest('hex');
  }

  /** The signature of an aws-chunked trailer section (`name:value\n` lines), after the final chunk's. */
  trailerSignature(amzDate: string, previous: string, canonicalTrailers: string): string {
    const hash = createHash('sha256').update(canonicalTrailers).digest('hex');
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${this.scope(amzDate)}\n${previous}\n${hash}`;
    return createHmac('sha256', this.signingKey(amzDate.slice(0, 8)))
      .update(sts)
      .digest('hex');
  }

  /** The Authorization header value for the request. */
  authorization(req: SignInput): string {
    const names = Object.keys(req.headers).sort();
    let canonicalHeaders = '';
    for (const n of names) canonicalHeaders += `${n}:${req.headers[n].trim().replace(/\s+/g, ' ')}\n`;
    const signedHeaders = names.join(';');
    const canonicalRequest = `${req.method}\n${req.path}\n${canonicalQueryString(req.query)}\n${canonicalHeaders}\n${signedHeaders}\n${req.payloadHash}`;
    const date = req.amzDate.slice(0, 8);
    const scope = `${date}/${this.cfg.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${req.amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(date)).update(stringToSign).digest('hex');
    return `AWS4-HMAC-SHA256 Credential=${this.cfg.accessKey}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  }
}
