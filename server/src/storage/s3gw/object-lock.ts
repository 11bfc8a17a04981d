// Object lock through the S3 gateway: the backend keeps each version's retention and legal hold, and the
// bucket's lock configuration; the gateway passes them on. The rules (who may delete or shorten what, and who
// may bypass GOVERNANCE retention) are Cairn's API layer's (api/object-lock.ts), checked against the version as
// the backend shows it and against the client's rights in Cairn; only then does a request go to the backend,
// with x-amz-bypass-governance-retention only where Cairn's check needed (and so granted) it. The backend checks
// again with its own rules (its lock, the gateway's backend credentials). A backend without object lock refuses
// the bucket (its error is the answer) or is found not to keep the lock (NotImplemented; the bucket removed).
import { S3Error } from '../../errors.js';
import type { KeyedMutex } from '../coordination.js';
import type * as L from '../object-layer.js';
import type { Sdk } from './backend.js';

type Call = <T>(cmd: object, notFound?: 'NoSuchBucket') => Promise<T>;

/** The request fields of a new version's object lock (PutObject, CreateMultipartUpload). */
export function lockFields(lock: L.ObjectLock | undefined) {
  if (!lock) return {};
  return {
    ObjectLockMode: lock.mode,
    ObjectLockRetainUntilDate: lock.mode ? lock.retainUntil : undefined,
    ObjectLockLegalHoldStatus:
      lock.legalHold === undefined ? undefined : lock.legalHold ? ('ON' as const) : ('OFF' as const),
  };
}

/** Whether a new version's lock asks for anything (the backend then wants a digest of the PUT). */
export function asksLock(lock: L.ObjectLock | undefined): boolean {
  return lock !== undefined && (lock.mode !== undefined || lock.legalHold !== undefined);
}

/** A version retained in GOVERNANCE mode now, and not held: its removal needed Cairn's bypass check. */
export function governed(lock: L.ObjectLock | undefined, now: number): boolean {
  return lock?.mode === 'GOVERNANCE' && (lock.retainUntil?.getTime() ?? 0) > now && !lock.legalHold;
}

/** Changing `current` retention to `next` needs the bypass (api/object-lock.ts checkRetentionChange's rule). */
function needsBypass(current: L.ObjectLock | undefined, next: L.ObjectLock, now: number): boolean {
  const until = current?.retainUntil?.getTime() ?? 0;
  if (current?.mode !== 'GOVERNANCE' || until <= now) return false;
  return next.mode !== 'GOVERNANCE' || (next.retainUntil?.getTime() ?? 0) < until;
}

/**
 * The SDK's ObjectLockConfiguration from the canonical document the API layer stored (api/lock-config.ts
 * lockConfigurationXml: validated, one rule at most), read with anchored patterns on that short text.
 */
function lockConfiguration(xml: string | undefined) {
  const mode = xml === undefined ? undefined : /<Mode>(GOVERNANCE|COMPLIANCE)<\/Mode>/.exec(xml)?.[1];
  const days = xml === undefined ? undefined : /<Days>(\d{1,10})<\/Days>/.exec(xml)?.[1];
  const years = xml === undefined ? undefined : /<Years>(\d{1,10})<\/Years>/.exec(xml)?.[1];
  const rule =
    mode === undefined
      ? undefined
      : {
          DefaultRetention: {
            Mode: mode as 'GOVERNANCE' | 'COMPLIANCE',
            Days: days === undefined ? undefined : Number(days),
            Years: years === undefined ? undefined : Number(years),
          },
        };
  return { ObjectLockEnabled: 'Enabled' as const, Rule: rule };
}

export class BackendLocks {
  constructor(
    private readonly call: Call,
    private readonly sdk: () => Sdk,
    /** Per object: a lock change or a guarded delete through this gateway at a time. */
    private readonly objects: KeyedMutex,
  ) {}

  /**
   * After CreateBucket with ObjectLockEnabledForBucket: the backend must show the lock on; a backend that took
   * the request and ignored the flag gets its new bucket removed, and the answer is NotImplemented.
   */
  async checkCreated(bucket: string): Promise<void> {
    const sdk = this.sdk();
    const out = await this.call<{ ObjectLockConfiguration?: { ObjectLockEnabled?: string } }>(
      new sdk.GetObjectLockConfigurationCommand({ Bucket: bucket }),
    ).catch(() => undefined);
    if (out?.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled') return;
    await this.call(new sdk.DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    throw new S3Error('NotImplemented', 'Not available: the S3 gateway’s backend does not keep object lock.');
  }

  /** PutObjectLockConfiguration on the backend (turns the lock on; the default retention as `xml` says). */
  async putConfiguration(bucket: string, xml: string | undefined): Promise<void> {
    const sdk = this.sdk();
    await this.call(
      new sdk.PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: lockConfiguration(xml) }),
      'NoSuchBucket',
    );
  }

  /** `fn` alone among this gateway's lock changes and guarded deletes of the object. */
  guarded<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.objects.run(`${bucket}\0${key}`, fn);
  }

  /**
   * A version's new lock (retention and legal hold, from `update`, which runs the API layer's rules on the
   * version as the backend has it now): PutObjectRetention and PutObjectLegalHold for what changed.
   */
  async update(
    bucket: string,
    key: string,
    head: () => Promise<L.ObjectInfo>,
    versionParam: (versionId: string) => Promise<string | undefined>,
    versionAsked: boolean,
    update: (current: L.ObjectInfo) => L.ObjectLock,
  ): Promise<L.ObjectInfo> {
    return this.objects.run(`${bucket}\0${key}`, async () => {
      const info = await head();
      if (info.deleteMarker) throw new S3Error(versionAsked ? 'MethodNotAllowed' : 'NoSuchKey');
      const was = info.lock ?? {};
      const next = update(info);
      const sdk = this.sdk();
      const target = { Bucket: info.bucket, Key: info.key, VersionId: await versionParam(info.versionId) };
      if (next.mode !== was.mode || next.retainUntil?.getTime() !== was.retainUntil?.getTime()) {
        const bypass = needsBypass(was, next, Date.now());
        await this.call(
          new sdk.PutObjectRetentionCommand({
            ...target,
            Retention: next.mode ? { Mode: next.mode, RetainUntilDate: next.retainUntil } : {},
            BypassGovernanceRetention: bypass || undefined,
          }),
        );
      }
      if (next.legalHold !== undefined && next.legalHold !== was.legalHold) {
        await this.call(
          new sdk.PutObjectLegalHoldCommand({ ...target, LegalHold: { Status: next.legalHold ? 'ON' : 'OFF' } }),
        );
      }
      return { ...info, lock: next };
    });
  }
}
