// What IAM keeps: users, groups, managed policies, roles and service accounts, as records in memory and on
// the drives (persist.ts), with the naming rules every API applies to them. Names are unique without regard
// to case (as in AWS): maps are keyed by the lower-cased name, records keep the name as it was given.
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';

export type Status = 'enabled' | 'disabled';

export interface AccessKeyRecord {
  id: string;
  /** The secret in memory; sealed on the drives. */
  secret: string;
  status: 'Active' | 'Inactive';
  created: number;
}

/** Inline policies by name (documents as the client sent them) and managed policies attached, by name. */
export interface PolicyHolder {
  inline: Record<string, string>;
  attached: string[];
}

export interface UserRecord extends PolicyHolder {
  name: string;
  path: string;
  /** Stable unique id (AIDA...): a user re-created under the same name is another user. */
  id: string;
  created: number;
  status: Status;
  keys: AccessKeyRecord[];
  tags: Record<string, string>;
  /** Defined by CAIRN_USERS / CAIRN_USERS_FILE: its key comes from the environment, only its policies are stored. */
  static?: boolean;
}

export interface GroupRecord extends PolicyHolder {
  name: string;
  path: string;
  id: string;
  created: number;
  status: Status;
  /** Member user names, lower-cased. */
  members: string[];
}

export interface ManagedPolicyRecord {
  name: string;
  path: string;
  id: string;
  created: number;
  updated: number;
  description?: string;
  /** Versions, newest first (IAM keeps up to five); one is the default. */
  versions: { id: string; document: string; created: number }[];
  defaultVersion: string;
  /** MinIO's canned policies: always there, never changed or deleted. */
  builtin?: boolean;
}

export interface RoleRecord extends PolicyHolder {
  name: string;
  path: string;
  id: string;
  created: number;
  /** The trust policy (AssumeRolePolicyDocument). */
  trust: string;
  description?: string;
  /** Longest session AssumeRole may give, in seconds (3600 to 43200; default 3600). */
  maxSessionDuration: number;
  tags: Record<string, string>;
}

export interface ServiceAccountRecord {
  accessKey: string;
  secret: string;
  /** The user whose rights it has (lower-cased name), or the root user's access key when `parentIsRoot`. */
  parent: string;
  parentIsRoot: boolean;
  /** Its own policy: narrows the parent's rights (an intersection). */
  policy?: string;
  name?: string;
  description?: string;
  /** Epoch ms after which the key no longer works. */
  expiration?: number;
  status: Status;
  created: number;
}

/** Managed policies mapped to an LDAP user's or group's DN (MinIO's `idp/ldap/policy/attach`). */
export interface LdapMappingRecord {
  /** The DN as normalizeDn (ldap.ts) writes it. */
  dn: string;
  isGroup: boolean;
  /** Managed policy names. */
  attached: string[];
}

const invalid = (message: string) => new S3Error('InvalidInput', message);

/** IAM's rule for user, group, role and policy names: 1 to `max` of letters, digits and `+=,.@_-`. */
export function checkName(kind: string, name: string | undefined, max = 64): string {
  if (name === undefined || name === '') throw new S3Error('ValidationError', `${kind} is required`);
  if (name.length > max || !/^[\w+=,.@-]+$/.test(name)) {
    throw new S3Error(
      'ValidationError',
      `The specified value for ${kind} is invalid: it must be 1 to ${max} characters of letters, digits and +=,.@_-`,
    );
  }
  return name;
}

/** IAM paths: `/` or `/a/b/` (1 to 512 characters). */
export function checkPath(path: string | undefined): string {
  if (path === undefined || path === '') return '/';
  if (path.length > 512 || !/^\/(?:[\x21-\x7e]*\/)?$/.test(path))
    throw invalid('The specified value for path is invalid');
  return path;
}

/** An id in AWS's style: a four-letter prefix and 17 upper-case letters and digits. */
export function newId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(17);
  let out = prefix;
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}

/** A new secret access key: 40 characters of base64 (AWS's length). */
export const newSecret = (): string => randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y');

/** MinIO's canned policies (github.com/minio/pkg policy/constants.go), available by name everywhere. */
export const CANNED_POLICIES: Record<string, object> = {
  readwrite: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }],
  },
  readonly: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetObject'], Resource: ['arn:aws:s3:::*'] },
      { Effect: 'Deny', Action: ['admin:CreateUser'], Resource: ['arn:aws:s3:::*'] },
    ],
  },
  writeonly: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::*'] }],
  },
  diagnostics: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'admin:Profiling',
          'admin:ServerTrace',
          'admin:ConsoleLog',
          'admin:ServerInfo',
          'admin:TopLocksInfo',
          'admin:OBDInfo',
          'admin:BandwidthMonitor',
          'admin:Prometheus',
        ],
        Resource: ['arn:aws:s3:::*'],
      },
    ],
  },
  // MinIO's consoleAdmin is every admin action and every S3 action; Cairn's IAM and STS APIs are the same
  // administration spoken as AWS does, so it grants iam:* and sts:* too.
  consoleAdmin: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['admin:*'] },
      { Effect: 'Allow', Action: ['s3:*', 'iam:*', 'sts:*'], Resource: ['*'] },
    ],
  },
};
