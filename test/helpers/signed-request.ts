// Raw signed requests for tests that need to send what no SDK sends (wrong bodies, broken framing):
// signs with the AWS SDK's own SigV4 signer, sends with fetch or a raw socket.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { ROOT } from './users.js';
import { Sha256 } from './sha256.js';

export interface RawRequest {
  method: string;
  /** Encoded path, e.g. `/bucket/key`. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** x-amz-content-sha256 to sign; default the SHA-256 of `body`. */
  contentSha256?: string;
  body?: Buffer | string;
  credentials?: { accessKey: string; secretKey: string };
  /** The service the signature is for (default s3; sts and iam for their query APIs). */
  service?: string;
}

export async function signRequest(
  url: string,
  r: RawRequest,
): Promise<{ headers: Record<string, string>; target: string }> {
  const u = new URL(url);
  const c = r.credentials ?? ROOT;
  const signer = new SignatureV4({
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    region: 'us-east-1',
    service: r.service ?? 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const headers: Record<string, string> = {
    host: u.host,
    'x-amz-content-sha256': r.contentSha256 ?? createHash('sha256').update(body).digest('hex'),
    ...r.headers,
  };
  const signed = await signer.sign({
    method: r.method,
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: r.path,
    query: r.query ?? {},
    headers,
  });
  const qs = new URLSearchParams(r.query ?? {}).toString().replace(/\+/g, '%20');
  return { headers: signed.headers as Record<string, string>, target: r.path + (qs ? `?${qs}` : '') };
}

export interface FetchedResponse {
  status: number;
  /** The body as UTF-8 text (XML errors), and as bytes (event streams, objects). */
  text: string;
  body: Buffer;
  headers: Headers;
}

export async function signedFetch(url: string, r: RawRequest): Promise<FetchedResponse> {
  const { headers, target } = await signRequest(url, r);
  const h = { ...headers };
  delete h.host;
  const res = await fetch(url + target, {
    method: r.method,
    headers: h,
    body: r.body === undefined ? undefined : Buffer.from(r.body),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, text: body.toString('utf8'), body, headers: res.headers };
}

/** Sends the head and only `sent` body bytes, then closes the connection (a truncated upload). */
export async function sendTruncated(url: string, r: RawRequest & { body: Buffer }, sent: number): Promise<string> {
  const { headers, target } = await signRequest(url, r);
  const u = new URL(url);
  const lines = [
    `${r.method} ${target} HTTP/1.1`,
    ...Object.entries({ ...headers, 'content-length': String(r.body.length) }).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ];
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      sock.write(lines.join('\r\n'));
      sock.write(r.body.subarray(0, sent));
      sock.end(); // the client is done: the rest of the declared body never comes
    });
    let out = '';
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(out));
  });
}
