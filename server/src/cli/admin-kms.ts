// `cairn admin kms status | key create KEY | key status [KEY] | rewrap [BUCKET[/PREFIX]]`: MinIO's admin KMS
// calls and Cairn's re-wrap job (api/admin/kms.ts, api/sse/rewrap.ts). `rewrap` starts the job and follows it to
// its end with a progress line on a terminal, then lists the versions it could not re-wrap. Ctrl-C leaves the
// job running; running it again later is safe (versions already at the newest key version are left as they are).
import { styleText } from 'node:util';
import { adminCall, type AdminTarget } from './admin-client.js';
import type { Result } from './admin-server.js';

export const KMS_USAGE = `  kms status                    the KMS, its default key and whether it answers
  kms key create KEY | kms key status [KEY]   make a KMS key; make and open a data key with it
  kms rewrap [BUCKET[/PREFIX]]  seal every SSE-S3/SSE-KMS data key under the path (all buckets when none),
                                of versions and of multipart uploads in progress, by the newest version of
                                its KMS key (after a rotation), with progress
`;

interface RewrapStatus {
  id: string;
  summary: string;
  detail: string;
  scanned: number;
  uploadsScanned: number;
  kmsSealed: number;
  rewrapped: number;
  current: number;
  failed: number;
  failures: {
    bucket: string;
    object: string;
    versionId: string;
    uploadId?: string;
    keyId: string;
    code: string;
    message: string;
  }[];
}

/** How often the job is asked for its status. */
const POLL_MS = 250;

export async function kmsCommand(t: AdminTarget, args: string[], asJson: boolean): Promise<Result> {
  const [verb, ...rest] = args;
  if (verb === 'status') {
    const s = (await adminCall(t, { method: 'GET', path: 'kms/status' })) as {
      name: string;
      'default-key-id': string;
      endpoints: Record<string, { state: string }>;
    };
    const rows = Object.entries(s.endpoints).map(([endpoint, e]) => ({ endpoint, state: e.state }));
    const text = `KMS: ${s.name}, default key: ${s['default-key-id']}\n`;
    if (rows.length === 0) return { done: text.trimEnd(), value: s };
    return { text, rows, columns: ['endpoint', 'state'], value: s };
  }
  if (verb === 'key' && rest[0] === 'create') {
    const key = rest[1];
    if (!key) throw new Error('expected: kms key create KEY');
    await adminCall(t, { method: 'POST', path: 'kms/key/create', query: { 'key-id': key } });
    return { done: `KMS key ${key} created` };
  }
  if (verb === 'key' && rest[0] === 'status') {
    const query: Record<string, string> = rest[1] ? { 'key-id': rest[1] } : {};
    const s = (await adminCall(t, { method: 'GET', path: 'kms/key/status', query })) as Record<string, string>;
    const row = {
      key: s['key-id'],
      encryption: s['encryption-error'] ? `failed: ${s['encryption-error']}` : 'ok',
      decryption: s['encryption-error'] ? '-' : s['decryption-error'] ? `failed: ${s['decryption-error']}` : 'ok',
    };
    return { rows: [row], columns: ['key', 'encryption', 'decryption'], value: s };
  }
  if (verb === 'rewrap') return rewrapCommand(t, rest[0] ?? '', asJson);
  throw new Error('expected: kms status | kms key create KEY | kms key status [KEY] | kms rewrap [BUCKET[/PREFIX]]');
}

async function rewrapCommand(t: AdminTarget, target: string, asJson: boolean): Promise<Result> {
  const slash = target.indexOf('/');
  const bucket = slash < 0 ? target : target.slice(0, slash);
  const prefix = slash < 0 ? '' : target.slice(slash + 1);
  const encoded = [bucket, ...(prefix ? prefix.split('/') : [])].map(encodeURIComponent).join('/');
  const path = bucket ? `kms/rewrap/${encoded}` : 'kms/rewrap';
  const started = (await adminCall(t, { method: 'POST', path })) as RewrapStatus;
  const tty = process.stderr.isTTY === true && !asJson;
  let s = started;
  while (s.summary === 'running') {
    await new Promise((r) => setTimeout(r, POLL_MS));
    s = (await adminCall(t, { method: 'GET', path: 'kms/rewrap', query: { id: started.id } })) as RewrapStatus;
    if (tty) process.stderr.write(`\r${s.scanned} versions looked at, ${s.rewrapped} re-wrapped, ${s.failed} failed`);
  }
  if (tty) process.stderr.write('\n');
  const summary =
    `rewrap ${s.summary}: ${s.scanned} versions and ${s.uploadsScanned} uploads in progress looked at, ` +
    `${s.kmsSealed} sealed by the KMS: ` +
    `${s.rewrapped} re-wrapped, ${s.current} already current, ${s.failed} failed` +
    `${s.detail ? ` (${s.detail})` : ''}\n`;
  if (s.failures.length === 0) return { done: summary.trimEnd(), value: s };
  const rows = s.failures.map((f) => ({
    bucket: f.bucket,
    object: f.object,
    version: f.uploadId ? `upload ${f.uploadId}` : f.versionId,
    key: f.keyId,
    error: `${f.code}: ${f.message}`,
  }));
  const red = (cell: string) => styleText('red', cell, { stream: process.stdout });
  return {
    text: summary,
    rows,
    columns: ['bucket', 'object', 'version', 'key', 'error'],
    paint: { error: red },
    value: s,
  };
}
