// A trivial in-memory S3-ish server: the ceiling against which the generator is measured. It stores only
// each key's size; PUT bodies are counted and dropped, GET bodies are slices of one preallocated buffer.
// Signatures are not verified (only that a SigV4 Authorization header is present). Single thread.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MemServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function s3Error(res: http.ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** bytes=a-b, bytes=a-, bytes=-n against a size; undefined when unsatisfiable or malformed. */
function parseRange(h: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number, end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? [start, end] : undefined;
}

/** Sends bytes [start, end] of an object from the shared body buffer, repeating it for larger objects. */
function sendBody(res: http.ServerResponse, body: Buffer, start: number, end: number): void {
  const n = end - start + 1;
  if (n <= body.length) {
    res.end(body.subarray(0, n));
    return;
  }
  let left = n;
  const pump = () => {
    while (left > 0) {
      const chunk = body.subarray(0, Math.min(left, body.length));
      left -= chunk.length;
      if (left === 0) return void res.end(chunk);
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
  };
  pump();
}

function listXml(bucket: string, objects: Map<string, number>, url: URL): string {
  const prefix = url.searchParams.get('prefix') ?? '';
  const maxKeys = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000));
  const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
  const keys: string[] = [];
  const head = `${bucket}/`;
  for (const k of objects.keys()) {
    const key = k.slice(head.length);
    if (k.startsWith(head) && key.startsWith(prefix) && key > after) keys.push(key);
  }
  keys.sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > maxKeys;
  const contents = page
    .map(
      (k) =>
        `<Contents><Key>${xmlEscape(k)}</Key><Size>${objects.get(head + k)}</Size><ETag>"0"</ETag><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
    `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
    (truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1])}</NextContinuationToken>` : '') +
    `${contents}</ListBucketResult>`
  );
}

export function startMemServer(opts: { port?: number; host?: string; bodySize?: number } = {}): Promise<MemServer> {
  const body = Buffer.alloc(opts.bodySize ?? 64 * 1024 * 1024, 0x61);
  const buckets = new Set<string>();
  const objects = new Map<string, number>(); // "bucket/key" -> size
  const etag = '"d41d8cd98f00b204e9800998ecf8427e"';

  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health/live') return void res.writeHead(200, { 'content-length': 0 }).end();
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      req.resume();
      return s3Error(res, 403, 'AccessDenied');
    }
    const path = decodeURIComponent(url.pathname.slice(1));
    const slash = path.indexOf('/');
    const bucket = slash < 0 ? path : path.slice(0, slash);
    const key = slash < 0 ? '' : path.slice(slash + 1);
    if (key === '') {
      req.resume();
      if (req.method === 'PUT') {
        buckets.add(bucket);
        return void res.writeHead(200, { 'content-length': 0 }).end();
      }
      if (!buckets.has(bucket)) return s3Error(res, 404, 'NoSuchBucket');
      if (req.method === 'GET') {
        const xml = listXml(bucket, objects, url);
        return void res
          .writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) })
          .end(xml);
      }
      return s3Error(res, 405, 'MethodNotAllowed');
    }
    if (!buckets.has(bucket)) {
      req.resume();
      return s3Error(res, 404, 'NoSuchBucket');
    }
    const id = `${bucket}/${key}`;
    switch (req.method) {
      case 'PUT': {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => {
          // aws-chunked bodies (signed streaming) are counted as the object they carry, framing left out.
          const decoded = req.headers['x-amz-decoded-content-length'];
          objects.set(id, typeof decoded === 'string' ? Number(decoded) : n);
          res.writeHead(200, { etag, 'content-length': 0 }).end();
        });
        return;
      }
      case 'GET':
      case 'HEAD': {
        req.resume();
        const size = objects.get(id);
        if (size === undefined) return s3Error(res, 404, 'NoSuchKey');
        const range = req.headers.range;
        let start = 0,
          end = size - 1,
          status = 200;
        const headers: http.OutgoingHttpHeaders = {
          etag,
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
        };
        if (range) {
          const r = parseRange(range, size);
          if (!r) return s3Error(res, 416, 'InvalidRange');
          [start, end, status] = [r[0], r[1], 206];
          headers['content-range'] = `bytes ${start}-${end}/${size}`;
        }
        headers['content-length'] = end - start + 1;
        res.writeHead(status, headers);
        if (req.method === 'HEAD' || size === 0) return void res.end();
        return sendBody(res, body, start, end);
      }
      case 'DELETE':
        req.resume();
        objects.delete(id);
        return void res.writeHead(204).end();
      default:
        req.resume();
        return s3Error(res, 405, 'MethodNotAllowed');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const a = server.address() as AddressInfo;
      resolve({
        url: `http://${a.address}:${a.port}`,
        server,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
