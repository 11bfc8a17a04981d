// A replica's single-part PUT without the AWS SDK: node's http(s) with Cairn's SigV4 signer (sigv4-sign.ts).
// Why: the source read's chunks come from the storage engine's buffer pool, and the SDK pipes the stream
// itself, so the chunks were never given back and each replicated MiB was new garbage (GC was the largest
// extra cost of replication in a profile). Here each chunk is written with a callback that returns it to the
// pool once the socket has taken it, as http/send-body.ts does for GETs. Everything else (multipart, metadata,
// deletes, the target's probe) stays on the SDK (remote.ts).
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { amzDate, authorizationV4, deriveSigningKey, uriEncode } from '../../sigv4-sign.js';
import type { ObjectBody } from '../../storage/object-layer.js';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Longest error document read from the target. */
const ERROR_BODY_MAX = 64 * 1024;

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
  ): Promise<void> {
    const path = `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
    const canonicalQuery = Object.entries(query)
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .sort()
      .join('&');
    const date = amzDate();
    const headers: Record<string, string> = {
      ...extra,
      host: this.o.endpoint,
      'content-length': String(length),
      'x-amz-content-sha256': UNSIGNED_PAYLOAD,
      'x-amz-date': date,
    };
    headers.authorization = authorizationV4({
      method: 'PUT',
      canonicalUri: path,
      canonicalQuery,
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
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
        method: 'PUT',
        hostname,
        port: port ?? (this.o.secure ? 443 : 80),
        path: canonicalQuery ? `${path}?${canonicalQuery}` : path,
        headers,
        timeout: this.o.idleTimeoutMs,
      });
    } catch (e) {
      // A header value node will not send (a control character in user metadata): refused, not down.
      body.destroy();
      throw { name: 'InvalidHeader', message: (e as Error).message, $metadata: { httpStatusCode: 400 } };
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (f: PutFailure) => {
        if (settled) return;
        settled = true;
        if (!body.destroyed) body.destroy();
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
        if (status >= 200 && status < 300) {
          res.resume();
          res.once('end', () => {
            if (settled) return;
            settled = true;
            resolve();
          });
          res.once('error', noAnswer);
          return;
        }
        readError(res, status).then(fail, noAnswer);
      });
      sendBody(req, body, noAnswer);
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

/** The target's error answer: its XML <Code> and <Message> when it sent them. */
async function readError(res: IncomingMessage, status: number): Promise<PutFailure> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as Readable) {
    if (n < ERROR_BODY_MAX) chunks.push(c as Buffer);
    n += (c as Buffer).length;
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_MAX).toString('utf8');
  const field = (name: string) => {
    const start = text.indexOf(`<${name}>`);
    const end = text.indexOf(`</${name}>`, start);
    return start >= 0 && end > start ? text.slice(start + name.length + 2, end) : undefined;
  };
  const code = field('Code');
  return {
    name: code ?? String(status),
    Code: code,
    message: field('Message') ?? `status ${status}`,
    $metadata: { httpStatusCode: status },
  };
}

/** `host:port` (or `[v6]:port`) split; the port undefined when not given. */
function splitHost(endpoint: string): [string, number | undefined] {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(endpoint) ?? /^([^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) return [endpoint, undefined];
  return [m[1], m[2] === undefined ? undefined : Number(m[2])];
}
