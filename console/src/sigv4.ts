// AWS Signature Version 4 in the browser (WebCrypto): the Authorization header form for fetch/XMLHttpRequest
// calls and the query form for presigned download links. The console signs only with the temporary
// credentials STS gave it (the long-term secret is used once, to sign the login's AssumeRole call).

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  /** The path as sent: each segment already URI-encoded (see encodePath). */
  path: string;
  query?: [string, string][];
  /** Headers to sign and send (lower-case names); `host` is added. */
  headers?: Record<string, string>;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD. */
  payloadHash: string;
  service: 's3' | 'sts' | 'iam';
  region: string;
  host: string;
}

const encoder = new TextEncoder();

const hex = (buf: ArrayBuffer): string =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export async function sha256Hex(data: string | Uint8Array | ArrayBuffer): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

async function hmac(key: BufferSource, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(data));
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and `/` when `keepSlash`). */
export function uriEncode(text: string, keepSlash = false): string {
  let out = '';
  for (const byte of encoder.encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `/bucket/key` with each part encoded once (S3 does not encode the canonical path twice). */
export function encodePath(bucket?: string, key?: string): string {
  if (bucket === undefined) return '/';
  return key === undefined ? `/${uriEncode(bucket)}` : `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
}

export function queryString(query: [string, string][]): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20261206T023500Z` and `20261206`. */
function stamps(now: Date): { amzDate: string; day: string } {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { amzDate, day: amzDate.slice(0, 8) };
}

async function signature(secret: string, day: string, region: string, service: string, toSign: string) {
  let key = await hmac(encoder.encode(`AWS4${secret}`), day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  return hex(await hmac(key, toSign));
}

async function stringToSign(amzDate: string, scope: string, canonical: string): Promise<string> {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${await sha256Hex(canonical)}`;
}

/** The headers to send (without `host`, which the browser sets): x-amz-date, the token, Authorization, ... */
export async function signHeaders(
  creds: Credentials,
  req: SignInput,
  now = new Date(),
): Promise<Record<string, string>> {
  const { amzDate, day } = stamps(now);
  const headers: Record<string, string> = {
    ...req.headers,
    host: req.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': req.payloadHash,
  };
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const canonical = [
    req.method,
    req.path,
    queryString(req.query ?? []),
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    names.join(';'),
    req.payloadHash,
  ].join('\n');
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const sig = await signature(
    creds.secretAccessKey,
    day,
    req.region,
    req.service,
    await stringToSign(amzDate, scope, canonical),
  );
  delete headers.host;
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
  return headers;
}

/** A presigned GET/PUT URL's path and query (relative to the page's origin). */
export async function presign(
  creds: Credentials,
  req: Omit<SignInput, 'payloadHash' | 'headers'> & { expiresSeconds: number },
  now = new Date(),
): Promise<string> {
  const { amzDate, day } = stamps(now);
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const query: [string, string][] = [
    ...(req.query ?? []),
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${creds.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(req.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (creds.sessionToken) query.push(['X-Amz-Security-Token', creds.sessionToken]);
  const canonical = [req.method, req.path, queryString(query), `host:${req.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const sig = await signature(
    creds.secretAccessKey,
    day,
    req.region,
    req.service,
    await stringToSign(amzDate, scope, canonical),
  );
  return `${req.path}?${queryString(query)}&X-Amz-Signature=${sig}`;
}
