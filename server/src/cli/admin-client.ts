// The client side of MinIO's admin API for `cairn admin`: requests signed with SigV4 (service s3, as madmin
// signs them) and, where the API wants it, bodies encrypted and answers decrypted with the caller's secret.
import { decryptData, encryptData } from '../api/iam/madmin-crypto.js';
import { canonicalQuery, canonicalUri, queryPairs } from '../http/auth/canonical.js';
import { amzDate, authorizationV4, deriveSigningKey, sha256Hex } from '../sigv4-sign.js';

export interface AdminTarget {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

export interface AdminCall {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** After /minio/admin/v3/. */
  path: string;
  query?: Record<string, string | string[]>;
  /** JSON or text to send (encrypted when `encrypt`), or bytes sent as they are. */
  body?: unknown;
  encrypt?: boolean;
  /** The answer is encrypted. */
  decrypt?: boolean;
}

function sign(t: AdminTarget, method: string, url: URL, body: Buffer): Record<string, string> {
  const date = amzDate();
  const payload = sha256Hex(body);
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': date };
  const authorization = authorizationV4({
    method,
    canonicalUri: canonicalUri(url.pathname),
    canonicalQuery: canonicalQuery(queryPairs(url.search.slice(1))),
    headers,
    payloadHash: payload,
    accessKey: t.accessKey,
    region: t.region,
    service: 's3',
    signingKey: deriveSigningKey(t.secretKey, date.slice(0, 8), t.region, 's3'),
  });
  return { ...headers, authorization };
}

/** Calls the admin API; the answer as JSON (undefined when empty). Errors carry the server's code and message. */
export async function adminCall(t: AdminTarget, c: AdminCall): Promise<unknown> {
  const text = await adminText(t, c);
  return text === '' ? undefined : JSON.parse(text);
}

/** Calls the admin API; the answer as text (decrypted when `decrypt`): the server configuration's calls. */
export async function adminText(t: AdminTarget, c: AdminCall): Promise<string> {
  const res = await send(t, c);
  const raw = Buffer.from(await res.arrayBuffer());
  return (c.decrypt ? await decryptData(t.secretKey, raw) : raw).toString('utf8');
}

/** Sends a configuration change; whether the server applied it at once (MinIO's x-minio-config-applied). */
export async function adminChange(t: AdminTarget, c: AdminCall): Promise<boolean> {
  const res = await send(t, c);
  await res.arrayBuffer();
  return res.headers.get('x-minio-config-applied') === 'true';
}

/**
 * Calls an admin API that answers a stream of JSON values, one a line (trace): resolves once the server has
 * answered (a trace then sees every request made after), with the values as they come.
 */
export async function adminStream(t: AdminTarget, c: AdminCall, signal?: AbortSignal): Promise<AsyncIterable<unknown>> {
  return jsonLines(await send(t, c, signal));
}

async function* jsonLines(res: Response): AsyncGenerator<unknown> {
  if (!res.body) return;
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield JSON.parse(line);
      nl = pending.indexOf('\n');
    }
    // Keep-alive blanks between entries.
    if (pending.trim() === '') pending = '';
  }
}

/** Calls a bucket's subresource on the S3 API that answers JSON (MinIO's replication resync). */
export async function bucketCall(
  t: AdminTarget,
  bucket: string,
  c: Pick<AdminCall, 'method' | 'query'>,
): Promise<unknown> {
  const text = await (await send(t, { ...c, path: bucket }, undefined, `/${encodeURIComponent(bucket)}`)).text();
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Sends a signed request (to the admin API unless `path` names another); a failed answer throws with the
 * server's code and message.
 */
async function send(
  t: AdminTarget,
  c: AdminCall,
  signal?: AbortSignal,
  path = `/minio/admin/v3/${c.path}`,
): Promise<Response> {
  const url = new URL(path, t.endpoint);
  for (const [k, v] of Object.entries(c.query ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, x);
  }
  // Query strings are signed as sent: %20 for spaces, as canonicalQuery writes them.
  url.search = url.search.replace(/\+/g, '%20');
  let body: Buffer = Buffer.alloc(0);
  if (Buffer.isBuffer(c.body)) {
    body = c.body;
  } else if (c.body !== undefined) {
    const text = Buffer.from(typeof c.body === 'string' ? c.body : JSON.stringify(c.body), 'utf8');
    body = c.encrypt ? await encryptData(t.secretKey, text) : text;
  }
  const res = await fetch(url, {
    method: c.method,
    headers: sign(t, c.method, url, body),
    body: body.length ? body : undefined,
    signal,
  });
  if (!res.ok) {
    let message = await res.text();
    try {
      const e = JSON.parse(message) as { Code?: string; Message?: string };
      message = `${e.Code}: ${e.Message}`;
    } catch {
      // not JSON: an S3 XML error shows its code and message, anything else as it came
      const code = /<Code>([^<]*)<\/Code>/.exec(message)?.[1];
      if (code) message = `${code}: ${/<Message>([^<]*)<\/Message>/.exec(message)?.[1] ?? ''}`;
    }
    throw new Error(`${c.path}: ${res.status} ${message}`);
  }
  return res;
}
