// Signed calls to this server's S3, STS and IAM APIs with the session's temporary credentials. Errors come
// back as ApiError (S3's code and message); an expired session ends here, sending the user to the login page.
import { currentSession, endSession, EXPIRED_MESSAGE, type Session } from './session.js';
import { type Credentials, encodePath, queryString, sha256Hex, signHeaders, presign } from './sigv4.js';
import { parseXml, text } from './xml.js';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** The region the server expects, when the error is about a wrong one. */
    readonly region = '',
  ) {
    super(message);
  }
}

export const isDenied = (e: unknown): boolean => e instanceof ApiError && e.code === 'AccessDenied';

const BODYLESS: Record<number, string> = { 403: 'AccessDenied', 404: 'NotFound' };

/** The error an S3/STS/IAM answer carries (`<Error><Code>` in any of their formats). */
export async function errorOf(res: Response): Promise<ApiError> {
  const body = await res.text();
  // MinIO's admin API answers its errors in JSON ({"Code", "Message"}); S3 in XML.
  if (res.headers.get('content-type')?.startsWith('application/json')) {
    try {
      const e = JSON.parse(body) as { Code?: unknown; Message?: unknown };
      if (typeof e.Code === 'string' && e.Code !== '')
        return new ApiError(e.Code, typeof e.Message === 'string' ? e.Message : e.Code, res.status);
    } catch {
      // not JSON after all: read as XML below
    }
  }
  const doc = parseXml(body);
  // A HEAD answer has no body: its status says what S3's code would.
  const code = text(doc, 'Code') || BODYLESS[res.status] || `HTTP${res.status}`;
  return new ApiError(code, text(doc, 'Message') || res.statusText || code, res.status, text(doc, 'Region'));
}

const EXPIRED = new Set(['ExpiredToken', 'InvalidToken', 'TokenRefreshRequired']);

export function sessionOrLogin(): Session {
  const s = currentSession();
  if (!s) throw new ApiError('NotLoggedIn', 'Not logged in', 401);
  if (Date.now() >= s.expiresAt) {
    endSession(EXPIRED_MESSAGE);
    throw new ApiError('ExpiredToken', 'Your session has expired', 400);
  }
  return s;
}

/** Ends the session when the server says its credentials are no longer valid. */
export function checkExpired(e: ApiError): ApiError {
  if (EXPIRED.has(e.code)) endSession(EXPIRED_MESSAGE);
  return e;
}

export interface CallOptions {
  method?: string;
  bucket?: string;
  key?: string;
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  service?: 's3' | 'sts' | 'iam';
  /** Aborts the request (and the reading of its answer: the trace stream). */
  signal?: AbortSignal;
}

/** Signs and sends one request; throws ApiError for any answer that is not 2xx. */
export async function call(opts: CallOptions, creds?: Credentials, region?: string): Promise<Response> {
  const session = creds ? undefined : sessionOrLogin();
  const signer = creds ?? session!;
  const path = encodePath(opts.bucket, opts.key);
  const query = opts.query ?? [];
  const method = opts.method ?? 'GET';
  const payloadHash = opts.body === undefined ? await sha256Hex('') : await sha256Hex(opts.body);
  const headers = await signHeaders(signer, {
    method,
    path,
    query,
    headers: opts.headers,
    payloadHash,
    service: opts.service ?? 's3',
    region: region ?? session!.region,
    host: location.host,
  });
  const url = query.length ? `${path}?${queryString(query)}` : path;
  const res = await fetch(url, {
    method,
    headers,
    body: opts.body as BodyInit | undefined,
    credentials: 'omit',
    signal: opts.signal,
  });
  if (!res.ok) throw checkExpired(await errorOf(res));
  return res;
}

/**
 * Reads an answer of newline-separated JSON documents (the admin API's trace and metrics streams) as they come,
 * until it ends or `signal` aborts (then resolves). Blank keep-alive lines are skipped.
 */
export async function readJsonLines(res: Response, signal: AbortSignal, onLine: (doc: unknown) => void) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      rest += value;
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(JSON.parse(line));
    }
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/** A form-encoded IAM/STS query call (`Action=...`), answered in XML. */
export async function query(
  service: 'iam' | 'sts',
  params: Record<string, string>,
  creds?: Credentials,
  region?: string,
): Promise<Document> {
  const version = service === 'iam' ? '2010-05-08' : '2011-06-15';
  const body = new URLSearchParams({ ...params, Version: version }).toString();
  const res = await call(
    {
      method: 'POST',
      service,
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    },
    creds,
    region,
  );
  return parseXml(await res.text());
}

/** A link that downloads (or shows) an object for `seconds`, signed with the session's credentials. */
export async function presignedGet(bucket: string, key: string, seconds: number, attachment?: string) {
  const s = sessionOrLogin();
  const query: [string, string][] = [];
  if (attachment !== undefined) {
    query.push(['response-content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(attachment)}`]);
  }
  return presign(s, {
    method: 'GET',
    path: encodePath(bucket, key),
    query,
    expiresSeconds: seconds,
    service: 's3',
    region: s.region,
    host: location.host,
  });
}

/**
 * The checksum header S3 wants on configuration PUTs that must be digested (lifecycle, object lock, encryption:
 * Content-MD5 or x-amz-checksum-*; WebCrypto has no MD5, so SHA-256).
 */
export async function checksumHeader(body: string): Promise<Record<string, string>> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  return { 'x-amz-checksum-sha256': btoa(String.fromCharCode(...digest)) };
}
