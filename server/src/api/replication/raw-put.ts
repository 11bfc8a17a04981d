// A replica's data requests without the AWS SDK: node's http(s) with Cairn's SigV4 signer (sigv4-sign.ts), for
// the single-part PUT and the multipart upload (create, parts, complete, abort; remote.ts).
// Why: the source read's chunks come from the storage engine's buffer pool, and the SDK pipes the stream
// itself, so the chunks were never given back and each replicated MiB was new garbage (GC was the largest
// extra cost of replication in a profile). Here each chunk is written with a callback that returns it to the
// pool once the socket has taken it, as http/send-body.ts does for GETs. Everything else (metadata, deletes,
// the target's probe) stays on the SDK (remote.ts).
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from '../../node-http.js';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { amzDate, authorizationV4, deriveSigningKey, sha256Hex, uriEncode } from '../../sigv4-sign.js';
import type { ObjectBody } from '../../storage/object-layer.js';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Longest answer document (an error, an upload's id, a completed upload) read from the target. */
const ERROR_BODY_MAX = 64 * 1024;

/** A target's 2xx answer: its headers and its document (empty for a PUT), cut at 64 KiB. */
export interface RawAnswer {
  headers: IncomingHttpHeaders;
  text: string;
}

/** A failed PUT in the shape the SDK's errors have (remote.ts's fail() reads them alike). */
export interface PutFailure {
  name: string;
  Code?: string;
  message: string;
  $metadata: { httpStatusCode?: number };
}

export interface RawPutOptions {
  /** host:port of the target. */
  endpoint: string;
  secure: boolean;
  region: string;
  accessKey: string;
  secretKey: string;
  connectTimeoutMs: number;
  /** The socket idle this long (no byte either way) fails the request. */
  idleTimeoutMs: number;
}

export class RawPutter {
  private readonly agent: HttpAgent;
  private dayKey?: { day: string; key: Buffer };

  constructor(private readonly o: RawPutOptions) {
    this.agent = o.secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  private signingKey(day: string): Buffer {
    if (this.dayKey?.day !== day)
      this.dayKey = { day, key: deriveSigningKey(this.o.secretKey, day, this.o.region, 's3') };
    return this.dayKey.key;
  }

  /**
   * PUT /bucket/key?query with `headers` (names in lower case; every one signed) and `length` bytes of `body`.
   * Resolves on a 2xx answer; rejects with a PutFailure otherwise (no status: no answer). The body is consumed
   * or destroyed either way.
   */
  async put(
    bucket: string,
    key: string,
    query: Record<string, string>,
    extra: Record<string, string>,
    body: ObjectBody,
    length: number,
  ): Promise<RawAnswer> {
    return this.request('PUT', bucket, key, query, extra, body, length);
  }

  /**
   * `method` /bucket/key?query with `extra` headers (lower case; every one signed) and a body: a stream of
   * `length` bytes (sent unsigned, its chunks given back to their pool), a small document (its hash signed), or
   * none. Resolves with a 2xx answer; rejects with a PutFailure otherwise (no status: no answer). A stream body
   * is consumed or destroyed either way.
   */
  async request(
    method: 'PUT' | 'POST' | 'DELETE',
    bucket: string,
    key: string,
    query: Record<string, string>,
    extra: Record<string, string>,
    body?: ObjectBody | string,
    length = 0,
  ): Promise<RawAnswer> {
    const path = `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
    const canonicalQuery = Object.entries(query)
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .sort()
      .join('&');
    const date = amzDate();
    const document = typeof body === 'string' ? Buffer.from(body) : undefined;
    const stream = typeof body === 'string' ? undefined : body;
    const payloadHash = stream ? UNSIGNED_PAYLOAD : sha256Hex(document ?? '');
    const headers: Record<string, string> = {
      ...extra,
      host: this.o.endpoint,
      // Always a length (0 without a body): node would send a bodiless POST chunked.
      'content-length': String(document?.length ?? (stream ? length : 0)),
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': date,
    };
    headers.authorization = authorizationV4({
      method,
      canonicalUri: path,
      canonicalQuery,
      headers,
      payloadHash,
      accessKey: this.o.accessKey,
      region: this.o.region,
      service: 's3',
      signingKey: this.signingKey(date.slice(0, 8)),
    });
    const [hostname, port] = splitHost(this.o.endpoint);
    let req: ClientRequest;
    try {
      req = (this.o.secure ? httpsRequest : httpRequest)({
        agent: this.agent,
        method,
        hostname,
        port: port ?? (this.o.secure ? 443 : 80),
        path: canonicalQuery ? `${path}?${canonicalQuery}` : path,
        headers,
        timeout: this.o.idleTimeoutMs,
      });
    } catch (e) {
      // A header value node will not send (a control character in user metadata): refused, not down.
      stream?.destroy();
      throw { name: 'InvalidHeader', message: (e as Error).message, $metadata: { httpStatusCode: 400 } };
    }
    return new Promise<RawAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (f: PutFailure) => {
        if (settled) return;
        settled = true;
        if (stream && !stream.destroyed) stream.destroy();
        req.destroy(); // an answer before the whole body went: the connection cannot be reused
        reject(f);
      };
      const noAnswer = (e: Error) =>
        fail({ name: (e as NodeJS.ErrnoException).code ?? 'NetworkError', message: e.message, $metadata: {} });
      req.once('error', noAnswer);
      req.once('timeout', () => req.destroy(new Error('the target did not answer in time')));
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(new Error('connect timeout')), this.o.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        readText(res).then((text) => {
          if (status < 200 || status > 299) return fail(errorOf(text, status));
          // CompleteMultipartUpload may answer 200 with an error document (AWS: retry it).
          if (/^\s*(<\?xml[^>]*>\s*)?<Error>/.test(text)) return fail({ ...errorOf(text, 500), $metadata: {} });
          if (settled) return;
          settled = true;
          resolve({ headers: res.headers, text });
        }, noAnswer);
      });
      if (stream) sendBody(req, stream, noAnswer);
      else req.end(document);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Writes `body` to `req`, each chunk given back to the read's pool (`recycle`) once the socket has written it;
 * backpressure as pipe does it. A chunk whose write failed is left to the GC (the socket may still hold it).
 */
function sendBody(req: ClientRequest, body: ObjectBody, failed: (e: Error) => void): void {
  const recycle = body.recycle?.bind(body);
  const done = recycle ? (chunk: Buffer) => (err?: Error | null) => err || recycle(chunk) : () => undefined;
  body.on('data', (chunk: Buffer) => {
    if (!req.write(chunk, done(chunk))) body.pause();
  });
  req.on('drain', () => body.resume());
  body.once('end', () => req.end());
  body.once('error', (err) => {
    req.destroy(err);
    failed(err);
  });
  req.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}

/** The answer's document, cut at ERROR_BODY_MAX (the rest is read and dropped, so the socket can be reused). */
async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as Readable) {
    if (n < ERROR_BODY_MAX) chunks.push(c as Buffer);
    n += (c as Buffer).length;
  }
  return n === 0 ? '' : Buffer.concat(chunks).subarray(0, ERROR_BODY_MAX).toString('utf8');
}

/** The text of element `name` in a target's document (its first), entities decoded; undefined when absent. */
export function xmlField(text: string, name: string): string | undefined {
  const start = text.indexOf(`<${name}>`);
  const end = text.indexOf(`</${name}>`, start);
  if (start < 0 || end <= start) return undefined;
  // The five named entities only: S3's codes, messages and upload ids need no more.
  return text.slice(start + name.length + 2, end).replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ENTITIES[e]);
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/** The target's error answer: its XML <Code> and <Message> when it sent them. */
function errorOf(text: string, status: number): PutFailure {
  const code = xmlField(text, 'Code');
  return {
    name: code ?? String(status),
    Code: code,
    message: xmlField(text, 'Message') ?? `status ${status}`,
    $metadata: { httpStatusCode: status },
  };
}

/** `host:port` (or `[v6]:port`) split; the port undefined when not given. */
function splitHost(endpoint: string): [string, number | undefined] {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(endpoint) ?? /^([^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) return [endpoint, undefined];
  return [m[1], m[2] === undefined ? undefined : Number(m[2])];
}
