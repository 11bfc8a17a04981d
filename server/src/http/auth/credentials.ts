// Who may sign requests. The root user (CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD, else documented development
// credentials with a loud warning) and static users (CAIRN_USERS="ak:sk,ak2:sk2" or a JSON file
// [{"accessKey": "...", "secretKey": "...", "canonicalId"?: "...", "displayName"?: "..."}] named by
// CAIRN_USERS_FILE; the root's id and name from CAIRN_ROOT_CANONICAL_ID / CAIRN_ROOT_DISPLAY_NAME) come from
// the environment; IAM users, service accounts and STS credentials from the IAM store (api/iam/store.ts),
// which authentication asks through `CredentialSource`.
import { readFile } from 'node:fs/promises';
import { canonicalId } from '../../api/canonical-id.js';
import { rootCaller, staticCaller } from '../../api/iam/principal.js';
import type { IamStore } from '../../api/iam/store.js';
import type { Caller } from '../../api/types.js';
import { S3Error } from '../../errors.js';

/** A verified signer: the secret its signature is checked with and the caller the API authorizes. */
export interface Identity {
  accessKey: string;
  secretKey: string;
  caller: Caller;
}

export interface CredentialSource {
  /** A long-term access key (root, static user, IAM user, service account); undefined when unknown or disabled. */
  lookup(accessKey: string): Identity | undefined;
  /** Temporary credentials with their session token: ExpiredToken, InvalidToken or AccessDenied when unusable. */
  session(accessKey: string, token: string): Identity;
}

/** The signer of a request: `token` is its x-amz-security-token (header or presigned parameter). */
export function resolveSigner(source: CredentialSource, accessKey: string, token: string | undefined): Identity {
  if (token !== undefined) return source.session(accessKey, token);
  const id = source.lookup(accessKey);
  if (!id) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
  return id;
}

/** Credentials from the IAM store: everything a running server knows. */
export function iamCredentials(store: IamStore): CredentialSource {
  return {
    lookup: (accessKey) => {
      const c = store.credential(accessKey);
      return c && { accessKey, secretKey: c.secret, caller: c.caller };
    },
    session: (accessKey, token) => {
      const c = store.session(accessKey, token);
      return { accessKey, secretKey: c.secret, caller: c.caller };
    },
  };
}

export const DEV_ROOT_USER = 'cairnadmin';
export const DEV_ROOT_PASSWORD = 'cairnadmin';

/** canonicalId / displayName: what S3 shows as Owner and Grantee (default: derived from the access key). */
export interface UserCredential {
  accessKey: string;
  secretKey: string;
  canonicalId?: string;
  displayName?: string;
}

export interface CredentialConfig {
  root: UserCredential;
  users?: UserCredential[];
}

/** Root and static users alone, without IAM (signature tests that need no storage). */
export function credentialStore(cfg: CredentialConfig): CredentialSource {
  const byKey = new Map<string, Identity>();
  const root = cfg.root;
  byKey.set(root.accessKey, {
    accessKey: root.accessKey,
    secretKey: root.secretKey,
    caller: rootCaller(root.accessKey, root.canonicalId ?? canonicalId(root.accessKey)),
  });
  for (const u of cfg.users ?? []) {
    const caller = staticCaller(u.accessKey, u.canonicalId ?? canonicalId(u.accessKey));
    byKey.set(u.accessKey, { accessKey: u.accessKey, secretKey: u.secretKey, caller });
  }
  return {
    lookup: (accessKey) => byKey.get(accessKey),
    session: () => {
      throw new S3Error('InvalidToken');
    },
  };
}

/** Reads credentials from the environment. `warnings` receives the messages to print loudly. */
export async function credentialsFromEnv(env: NodeJS.ProcessEnv, warnings: string[] = []): Promise<CredentialConfig> {
  let root = { accessKey: env.CAIRN_ROOT_USER ?? '', secretKey: env.CAIRN_ROOT_PASSWORD ?? '' };
  if (!root.accessKey || !root.secretKey) {
    warnings.push(
      `WARNING: CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD are not set; using the development credentials ` +
        `${DEV_ROOT_USER} / ${DEV_ROOT_PASSWORD}. Anyone who reads the documentation can use this server.`,
    );
    root = { accessKey: DEV_ROOT_USER, secretKey: DEV_ROOT_PASSWORD };
  } else if (root.accessKey.length < 3 || root.secretKey.length < 8) {
    throw new Error('CAIRN_ROOT_USER needs at least 3 characters and CAIRN_ROOT_PASSWORD at least 8');
  }
  const users: UserCredential[] = [];
  for (const pair of (env.CAIRN_USERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = pair.indexOf(':');
    if (i <= 0 || i === pair.length - 1) throw new Error(`CAIRN_USERS: expected accessKey:secretKey, got '${pair}'`);
    users.push({ accessKey: pair.slice(0, i), secretKey: pair.slice(i + 1) });
  }
  if (env.CAIRN_USERS_FILE) {
    const list = JSON.parse(await readFile(env.CAIRN_USERS_FILE, 'utf8')) as UserCredential[];
    if (!Array.isArray(list))
      throw new Error('CAIRN_USERS_FILE must hold a JSON array of {accessKey, secretKey, canonicalId?, displayName?}');
    for (const u of list) {
      users.push({
        accessKey: String(u.accessKey),
        secretKey: String(u.secretKey),
        ...(u.canonicalId ? { canonicalId: String(u.canonicalId) } : {}),
        ...(u.displayName ? { displayName: String(u.displayName) } : {}),
      });
    }
  }
  const names = new Set([root.accessKey.toLowerCase()]);
  for (const u of users) {
    if (names.has(u.accessKey.toLowerCase())) throw new Error(`the access key '${u.accessKey}' is given twice`);
    names.add(u.accessKey.toLowerCase());
  }
  const rootAccount = {
    ...(env.CAIRN_ROOT_CANONICAL_ID ? { canonicalId: env.CAIRN_ROOT_CANONICAL_ID } : {}),
    ...(env.CAIRN_ROOT_DISPLAY_NAME ? { displayName: env.CAIRN_ROOT_DISPLAY_NAME } : {}),
  };
  return { root: { ...root, ...rootAccount }, users };
}
