// Who may sign requests: the root user (CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD, else documented development
// credentials with a loud warning) and extra static users (CAIRN_USERS="ak:sk,ak2:sk2" or a JSON file
// [{"accessKey": "...", "secretKey": "...", "canonicalId"?: "...", "displayName"?: "..."}] named by
// CAIRN_USERS_FILE; the root's id and name from CAIRN_ROOT_CANONICAL_ID / CAIRN_ROOT_DISPLAY_NAME). IAM
// users come in a later issue.
import { readFile } from 'node:fs/promises';

export interface Identity {
  accessKey: string;
  secretKey: string;
  root: boolean;
}

export const DEV_ROOT_USER = 'cairnadmin';
export const DEV_ROOT_PASSWORD = 'cairnadmin';

export class CredentialStore {
  private readonly byKey = new Map<string, Identity>();

  constructor(users: Identity[]) {
    for (const u of users) this.byKey.set(u.accessKey, u);
  }

  lookup(accessKey: string): Identity | undefined {
    return this.byKey.get(accessKey);
  }

  get root(): Identity {
    for (const u of this.byKey.values()) if (u.root) return u;
    throw new Error('no root user configured');
  }
}

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
  const rootAccount = {
    ...(env.CAIRN_ROOT_CANONICAL_ID ? { canonicalId: env.CAIRN_ROOT_CANONICAL_ID } : {}),
    ...(env.CAIRN_ROOT_DISPLAY_NAME ? { displayName: env.CAIRN_ROOT_DISPLAY_NAME } : {}),
  };
  return { root: { ...root, ...rootAccount }, users };
}

export function credentialStore(cfg: CredentialConfig): CredentialStore {
  return new CredentialStore([{ ...cfg.root, root: true }, ...(cfg.users ?? []).map((u) => ({ ...u, root: false }))]);
}
