// IAM's records on the drives: one object per user, group, policy, role and service account in the system
// bucket (storage's SYSTEM_BUCKET, written through the ObjectLayer: erasure-coded, quorum-written and
// checksummed like any object), so a change rewrites one small object and the state survives restarts and
// the loss of drives. Each object is a JSON document with a format name and version (a later format adds a
// migration here); secrets are sealed with a key derived from the root credentials (seal.ts), bound to the
// record they belong to.
//
//   iam/users/<name>.json  iam/groups/<name>.json  iam/policies/<name>.json  iam/roles/<name>.json
//   iam/service-accounts/<access key>.json          (names lower-cased)
//   iam/ldap-mappings/<user|group>-<sha256 of the DN>.json
//   iam/oidc-providers/<sha256 of the URL>.json
import { Readable } from 'node:stream';
import { isS3Error } from '../../errors.js';
import { SYSTEM_BUCKET, type ObjectLayer } from '../../storage/object-layer.js';
import type { ApiLogger } from '../types.js';
import type {
  GroupRecord,
  LdapMappingRecord,
  ManagedPolicyRecord,
  RoleRecord,
  ServiceAccountRecord,
  UserRecord,
} from './records.js';
import type { OidcProviderRecord } from './oidc-providers.js';
import type { Sealer } from './seal.js';

export type RecordKind = 'user' | 'group' | 'policy' | 'role' | 'service-account' | 'ldap-mapping' | 'oidc-provider';

const FOLDER: Record<RecordKind, string> = {
  user: 'users',
  group: 'groups',
  policy: 'policies',
  role: 'roles',
  'service-account': 'service-accounts',
  'ldap-mapping': 'ldap-mappings',
  'oidc-provider': 'oidc-providers',
};
const FORMAT = 'cairn-iam';
const VERSION = 1;

export interface IamSnapshot {
  users: UserRecord[];
  groups: GroupRecord[];
  policies: ManagedPolicyRecord[];
  roles: RoleRecord[];
  serviceAccounts: ServiceAccountRecord[];
  ldapMappings: LdapMappingRecord[];
  oidcProviders: OidcProviderRecord[];
}

export const objectKey = (kind: RecordKind, id: string): string => `iam/${FOLDER[kind]}/${id.toLowerCase()}.json`;

/** Reads objects a few at a time (a deployment may hold thousands of users). */
const READ_CONCURRENCY = 16;

export class IamPersistence {
  constructor(
    private readonly storage: ObjectLayer,
    private readonly sealer: Sealer,
    private readonly log?: ApiLogger,
  ) {}

  private sealSecret(secret: string, label: string): string {
    return this.sealer.seal('iam-secrets', Buffer.from(secret, 'utf8'), label).toString('base64');
  }

  private openSecret(sealed: unknown, label: string): string | undefined {
    if (typeof sealed !== 'string') return undefined;
    return this.sealer.open('iam-secrets', Buffer.from(sealed, 'base64'), label)?.toString('utf8');
  }

  /** The document stored for a record: secrets sealed, bound to the record's key. */
  private encode(kind: RecordKind, id: string, record: object): Buffer {
    const key = objectKey(kind, id);
    let stored: Record<string, unknown> = { ...record };
    if (kind === 'user') {
      const u = record as UserRecord;
      stored.keys = u.keys.map(({ secret, ...k }) => ({
        ...k,
        sealedSecret: this.sealSecret(secret, `${key}#${k.id}`),
      }));
    } else if (kind === 'service-account') {
      const { secret, ...rest } = record as ServiceAccountRecord;
      stored = { ...rest, sealedSecret: this.sealSecret(secret, key) };
    }
    return Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, kind, record: stored }), 'utf8');
  }

  private decode(key: string, text: string): { kind: RecordKind; record: object } | undefined {
    const doc = JSON.parse(text) as { format?: unknown; version?: unknown; kind?: RecordKind; record?: unknown };
    if (doc.format !== FORMAT || doc.version !== VERSION || !doc.kind || typeof doc.record !== 'object') {
      this.log?.warn({ key }, 'IAM: a stored record of an unknown format is ignored');
      return undefined;
    }
    const r = doc.record as Record<string, unknown>;
    if (doc.kind === 'user') {
      const keys = (r.keys as (Record<string, unknown> & { id: string })[]) ?? [];
      r.keys = keys.flatMap(({ sealedSecret, ...k }) => {
        const secret = this.openSecret(sealedSecret, `${key}#${k.id}`);
        if (secret === undefined) {
          this.log?.warn({ key, accessKey: k.id }, 'IAM: a stored secret cannot be opened (root credentials changed?)');
          return [];
        }
        return [{ ...k, secret }];
      });
    } else if (doc.kind === 'service-account') {
      const secret = this.openSecret(r.sealedSecret, key);
      delete r.sealedSecret;
      if (secret === undefined) {
        this.log?.warn({ key }, 'IAM: a stored secret cannot be opened (root credentials changed?)');
        return undefined;
      }
      r.secret = secret;
    }
    return { kind: doc.kind, record: r };
  }

  async write(kind: RecordKind, id: string, record: object): Promise<void> {
    const body = this.encode(kind, id, record);
    await this.storage.putObject(SYSTEM_BUCKET, objectKey(kind, id), Readable.from([body]), {
      size: body.length,
      contentHeaders: { 'content-type': 'application/json' },
    });
  }

  async remove(kind: RecordKind, id: string): Promise<void> {
    try {
      await this.storage.deleteObject(SYSTEM_BUCKET, objectKey(kind, id));
    } catch (e) {
      if (!isS3Error(e) || e.code !== 'NoSuchKey') throw e;
    }
  }

  /** One record as stored now (another process changed it), or undefined when it is gone. */
  async read(kind: RecordKind, id: string): Promise<object | undefined> {
    const key = objectKey(kind, id);
    try {
      const o = await this.storage.openObject(SYSTEM_BUCKET, key);
      if (o.info.deleteMarker) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of await o.read()) chunks.push(c as Buffer);
      return this.decode(key, Buffer.concat(chunks).toString('utf8'))?.record;
    } catch (e) {
      if (isS3Error(e) && e.code === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  /** Everything stored, read at start-up. */
  async readAll(): Promise<IamSnapshot> {
    const keys: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.storage.listObjects(SYSTEM_BUCKET, { prefix: 'iam/', after, maxKeys: 1000 });
      keys.push(...page.objects.map((o) => o.key));
      if (!page.isTruncated || page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
    const out: IamSnapshot = {
      users: [],
      groups: [],
      policies: [],
      roles: [],
      serviceAccounts: [],
      ldapMappings: [],
      oidcProviders: [],
    };
    const lists: Record<RecordKind, object[]> = {
      user: out.users,
      group: out.groups,
      policy: out.policies,
      role: out.roles,
      'service-account': out.serviceAccounts,
      'ldap-mapping': out.ldapMappings,
      'oidc-provider': out.oidcProviders,
    };
    for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + READ_CONCURRENCY).map(async (key) => {
          const kind = (Object.keys(FOLDER) as RecordKind[]).find((k) => key.startsWith(`iam/${FOLDER[k]}/`));
          if (!kind) return;
          const record = await this.read(kind, key.slice(`iam/${FOLDER[kind]}/`.length, -'.json'.length));
          if (record) lists[kind].push(record);
        }),
      );
    }
    return out;
  }
}
