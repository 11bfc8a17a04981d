// Every change to IAM, whichever API asks for it (the AWS IAM query API, MinIO's admin API and so the
// `cairn admin` command): the rules (names, limits, what may be deleted), then one stored record per
// entity changed. Errors are IAM's (NoSuchEntity, EntityAlreadyExists, DeleteConflict, LimitExceeded,
// MalformedPolicyDocument); the admin API renames the few MinIO spells otherwise. Each change runs alone
// (store.exclusive), and records referring to others are changed first when an entity goes away, so a
// change cut short never leaves a reference that a new entity of the same name would inherit.
import { S3Error, isS3Error } from '../../errors.js';
import type { PolicyKind } from '../policy-document.js';
import {
  checkName,
  checkPath,
  newId,
  newSecret,
  type GroupRecord,
  type LdapMappingRecord,
  type ManagedPolicyRecord,
  type PolicyHolder,
  type RoleRecord,
  type ServiceAccountRecord,
  type Status,
  type UserRecord,
} from './records.js';
import { changedTags } from './iam-tags.js';
import { normalizeDn } from './ldap.js';
import { ldapMappingId, type IamStore } from './store.js';

export type HolderKind = 'user' | 'group' | 'role';

const noSuch = (what: string, name: string) =>
  new S3Error('NoSuchEntity', `The ${what} with name ${name.slice(0, 128)} cannot be found.`);
const exists = (what: string, name: string) =>
  new S3Error('EntityAlreadyExists', `${what} with name ${name.slice(0, 128)} already exists.`);

/** Compiles a document as a check: MalformedPolicyDocument saying where, nothing stored. */
export function checkDocument(store: IamStore, text: string, kind: PolicyKind): void {
  try {
    store.compile(text, kind);
  } catch (e) {
    if (isS3Error(e) && e.code === 'MalformedPolicy') throw new S3Error('MalformedPolicyDocument', e.message);
    throw e;
  }
}

export function getUser(store: IamStore, name: string): UserRecord {
  const u = store.users.get(name.toLowerCase());
  if (!u) throw noSuch('user', name);
  return u;
}

export function getGroup(store: IamStore, name: string): GroupRecord {
  const g = store.groups.get(name.toLowerCase());
  if (!g) throw noSuch('group', name);
  return g;
}

export function getRole(store: IamStore, name: string): RoleRecord {
  const r = store.roles.get(name.toLowerCase());
  if (!r) throw noSuch('role', name);
  return r;
}

export function getPolicy(store: IamStore, nameOrArn: string): ManagedPolicyRecord {
  const p = store.managedPolicy(nameOrArn);
  if (!p) throw new S3Error('NoSuchEntity', `Policy ${nameOrArn.slice(0, 256)} does not exist or is not attachable.`);
  return p;
}

const notStatic = (u: UserRecord) => {
  if (u.static)
    throw new S3Error('InvalidInput', `The user ${u.name} is defined by CAIRN_USERS and cannot be changed here`);
};

// Users

export function createUser(
  store: IamStore,
  a: { name: string; path?: string; tags?: Record<string, string>; key?: { id: string; secret: string } },
): Promise<UserRecord> {
  const name = checkName('userName', a.name);
  const path = checkPath(a.path);
  return store.exclusive(async () => {
    if (store.users.has(name.toLowerCase())) throw exists('User', name);
    if (a.key && store.keyInUse(a.key.id)) throw exists('Access key', a.key.id);
    const now = store.now();
    const keys = a.key ? [{ id: a.key.id, secret: a.key.secret, status: 'Active' as const, created: now }] : [];
    const u: UserRecord = {
      name,
      path,
      id: newId('AIDA'),
      created: now,
      status: 'enabled',
      keys,
      tags: a.tags ?? {},
      inline: {},
      attached: [],
    };
    await store.put('user', name, u);
    return u;
  });
}

/** MinIO's add-user: a user named by its access key, created or given a new secret and status. */
export function setMinioUser(store: IamStore, accessKey: string, secret: string, status: Status): Promise<void> {
  if (accessKey.length < 3 || secret.length < 8) {
    throw new S3Error(
      'XMinioAdminInvalidArgument',
      'The access key needs 3 characters or more and the secret 8 or more',
    );
  }
  const name = checkName('accessKey', accessKey, 128);
  return store.exclusive(async () => {
    const u = store.users.get(name.toLowerCase());
    if (!u) {
      if (store.keyInUse(name)) throw exists('Access key', name);
      const now = store.now();
      const rec: UserRecord = {
        name,
        path: '/',
        id: newId('AIDA'),
        created: now,
        status,
        keys: [{ id: name, secret, status: 'Active', created: now }],
        tags: {},
        inline: {},
        attached: [],
      };
      await store.put('user', name, rec);
      return;
    }
    notStatic(u);
    const keys = [
      ...u.keys.filter((k) => k.id !== u.name),
      { id: u.name, secret, status: 'Active' as const, created: store.now() },
    ];
    await store.put('user', u.name, { ...u, status, keys });
  });
}

export function setUserStatus(store: IamStore, name: string, status: Status): Promise<void> {
  return store.exclusive(async () => {
    const u = getUser(store, name);
    notStatic(u);
    await store.put('user', u.name, { ...u, status });
  });
}

export function updateUser(store: IamStore, name: string, a: { newName?: string; newPath?: string }): Promise<void> {
  return store.exclusive(async () => {
    const u = getUser(store, name);
    notStatic(u);
    const newName = a.newName === undefined ? u.name : checkName('newUserName', a.newName);
    const path = a.newPath === undefined ? u.path : checkPath(a.newPath);
    const renamed = newName.toLowerCase() !== u.name.toLowerCase();
    if (renamed && store.users.has(newName.toLowerCase())) throw exists('User', newName);
    await store.put('user', newName, { ...u, name: newName, path });
    if (!renamed) return;
    for (const g of store.groupsOf(u.name.toLowerCase())) {
      const members = g.members.map((m) => (m === u.name.toLowerCase() ? newName.toLowerCase() : m));
      await store.put('group', g.name, { ...g, members });
    }
    for (const sa of store.serviceAccounts.values()) {
      if (!sa.parentIsRoot && sa.parent === u.name.toLowerCase()) {
        await store.put('service-account', sa.accessKey, { ...sa, parent: newName.toLowerCase() });
      }
    }
    await store.drop('user', u.name);
  });
}

/**
 * Deletes a user. As IAM: refused (DeleteConflict) while it has access keys, policies or groups, unless
 * `force` (MinIO's remove-user), which removes its service accounts and memberships first.
 */
export function deleteUser(store: IamStore, name: string, force: boolean): Promise<void> {
  return store.exclusive(async () => {
    const u = getUser(store, name);
    notStatic(u);
    const key = u.name.toLowerCase();
    const groups = store.groupsOf(key);
    const svc = [...store.serviceAccounts.values()].filter((s) => !s.parentIsRoot && s.parent === key);
    const minioKeyOnly = u.keys.length === 1 && u.keys[0].id === u.name;
    if (!force) {
      const what =
        (u.keys.length > 0 && !minioKeyOnly && 'access keys') ||
        ((Object.keys(u.inline).length > 0 || u.attached.length > 0) && 'policies') ||
        (groups.length > 0 && 'groups') ||
        (svc.length > 0 && 'service accounts');
      if (what) throw new S3Error('DeleteConflict', `Cannot delete entity, must remove ${what} first.`);
    }
    for (const s of svc) await store.drop('service-account', s.accessKey);
    for (const g of groups) await store.put('group', g.name, { ...g, members: g.members.filter((m) => m !== key) });
    await store.drop('user', u.name);
  });
}

/** The user an IAM call names, or the caller's own when it names none (as IAM does). */
export function userOrSelf(store: IamStore, name: string | undefined, self: string | undefined): UserRecord {
  if (name) return getUser(store, name);
  if (!self) throw new S3Error('ValidationError', 'UserName is required for this caller');
  return getUser(store, self);
}

export function createAccessKey(
  store: IamStore,
  userName: string,
): Promise<{ id: string; secret: string; created: number }> {
  return store.exclusive(async () => {
    const u = getUser(store, userName);
    notStatic(u);
    if (u.keys.length >= 2) throw new S3Error('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    let id = newId('AKIA').slice(0, 20);
    while (store.keyInUse(id)) id = newId('AKIA').slice(0, 20);
    const k = { id, secret: newSecret(), status: 'Active' as const, created: store.now() };
    await store.put('user', u.name, { ...u, keys: [...u.keys, k] });
    return k;
  });
}

export function updateAccessKey(
  store: IamStore,
  userName: string,
  keyId: string,
  status: 'Active' | 'Inactive',
): Promise<void> {
  return store.exclusive(async () => {
    const u = getUser(store, userName);
    notStatic(u);
    if (!u.keys.some((k) => k.id === keyId))
      throw new S3Error('NoSuchEntity', `The Access Key with id ${keyId.slice(0, 128)} cannot be found.`);
    await store.put('user', u.name, { ...u, keys: u.keys.map((k) => (k.id === keyId ? { ...k, status } : k)) });
  });
}

export function deleteAccessKey(store: IamStore, userName: string, keyId: string): Promise<void> {
  return store.exclusive(async () => {
    const u = getUser(store, userName);
    notStatic(u);
    if (!u.keys.some((k) => k.id === keyId))
      throw new S3Error('NoSuchEntity', `The Access Key with id ${keyId.slice(0, 128)} cannot be found.`);
    await store.put('user', u.name, { ...u, keys: u.keys.filter((k) => k.id !== keyId) });
  });
}

// Policies of users, groups and roles

function holder(store: IamStore, kind: HolderKind, name: string): PolicyHolder & { name: string } {
  return kind === 'user' ? getUser(store, name) : kind === 'group' ? getGroup(store, name) : getRole(store, name);
}

export function putInlinePolicy(
  store: IamStore,
  kind: HolderKind,
  name: string,
  policyName: string,
  doc: string,
): Promise<void> {
  checkName('policyName', policyName, 128);
  checkDocument(store, doc, 'identity');
  return store.exclusive(async () => {
    const h = holder(store, kind, name);
    await store.put(kind, h.name, { ...h, inline: { ...h.inline, [policyName]: doc } });
  });
}

export function getInlinePolicy(store: IamStore, kind: HolderKind, name: string, policyName: string): string {
  const doc = holder(store, kind, name).inline[policyName];
  if (doc === undefined) throw noSuch('policy', policyName);
  return doc;
}

export function deleteInlinePolicy(store: IamStore, kind: HolderKind, name: string, policyName: string): Promise<void> {
  return store.exclusive(async () => {
    const h = holder(store, kind, name);
    if (!Object.hasOwn(h.inline, policyName)) throw noSuch('policy', policyName);
    const inline = { ...h.inline };
    delete inline[policyName];
    await store.put(kind, h.name, { ...h, inline });
  });
}

export function attachPolicy(store: IamStore, kind: HolderKind, name: string, policy: string): Promise<void> {
  return store.exclusive(async () => {
    const h = holder(store, kind, name);
    const p = getPolicy(store, policy);
    if (h.attached.some((a) => a.toLowerCase() === p.name.toLowerCase())) return;
    await store.put(kind, h.name, { ...h, attached: [...h.attached, p.name] });
  });
}

export function detachPolicy(store: IamStore, kind: HolderKind, name: string, policy: string): Promise<void> {
  return store.exclusive(async () => {
    const h = holder(store, kind, name);
    const p = getPolicy(store, policy);
    if (!h.attached.some((a) => a.toLowerCase() === p.name.toLowerCase())) {
      throw new S3Error('NoSuchEntity', `Policy ${p.name} is not attached to ${name.slice(0, 128)}.`);
    }
    await store.put(kind, h.name, {
      ...h,
      attached: h.attached.filter((a) => a.toLowerCase() !== p.name.toLowerCase()),
    });
  });
}

/** Attaches (or detaches) managed policies to an LDAP DN; the names changed. The DN is not looked up in LDAP. */
export function mapLdapPolicies(
  store: IamStore,
  isGroup: boolean,
  dn: string,
  policies: string[],
  attach: boolean,
): Promise<string[]> {
  const normalized = normalizeDn(dn);
  if (normalized === '' || normalized.length > 1024) throw new S3Error('InvalidInput', 'The DN is not valid');
  return store.exclusive(async () => {
    const id = ldapMappingId(isGroup, normalized);
    const old = store.ldapMappings.get(id)?.attached ?? [];
    const has = (p: string) => old.some((a) => a.toLowerCase() === p.toLowerCase());
    const changed = [...new Set(policies)].filter((p) => has(p) !== attach);
    if (changed.length === 0) return changed;
    const lower = new Set(changed.map((p) => p.toLowerCase()));
    const attached = attach ? [...old, ...changed] : old.filter((a) => !lower.has(a.toLowerCase()));
    if (attached.length === 0) await store.drop('ldap-mapping', id);
    else await store.put('ldap-mapping', id, { dn: normalized, isGroup, attached } satisfies LdapMappingRecord);
    return changed;
  });
}

/** Who has a managed policy attached. */
export function attachmentsOf(
  store: IamStore,
  policyName: string,
): { users: string[]; groups: string[]; roles: string[] } {
  const has = (h: PolicyHolder) => h.attached.some((a) => a.toLowerCase() === policyName.toLowerCase());
  return {
    users: [...store.users.values()].filter(has).map((u) => u.name),
    groups: [...store.groups.values()].filter(has).map((g) => g.name),
    roles: [...store.roles.values()].filter(has).map((r) => r.name),
  };
}

// Managed policies

const MAX_VERSIONS = 5;

export function createPolicy(
  store: IamStore,
  a: { name: string; document: string; path?: string; description?: string },
): Promise<ManagedPolicyRecord> {
  const name = checkName('policyName', a.name, 128);
  const path = checkPath(a.path);
  checkDocument(store, a.document, 'identity');
  return store.exclusive(async () => {
    if (store.policies.has(name.toLowerCase())) throw exists('A policy', name);
    const now = store.now();
    const p: ManagedPolicyRecord = {
      name,
      path,
      id: newId('ANPA'),
      created: now,
      updated: now,
      description: a.description,
      versions: [{ id: 'v1', document: a.document, created: now }],
      defaultVersion: 'v1',
    };
    await store.put('policy', name, p);
    return p;
  });
}

const notBuiltin = (p: ManagedPolicyRecord) => {
  if (p.builtin) throw new S3Error('InvalidInput', `${p.name} is one of MinIO's canned policies and cannot be changed`);
};

/** A new version of a policy (IAM keeps five); `makeDefault` makes it the one in force. */
export function createPolicyVersion(
  store: IamStore,
  policy: string,
  document: string,
  makeDefault: boolean,
): Promise<string> {
  checkDocument(store, document, 'identity');
  return store.exclusive(async () => {
    const p = getPolicy(store, policy);
    notBuiltin(p);
    if (p.versions.length >= MAX_VERSIONS)
      throw new S3Error('LimitExceeded', 'A managed policy can have up to 5 versions');
    const id = `v${Math.max(...p.versions.map((v) => Number(v.id.slice(1)))) + 1}`;
    const now = store.now();
    const versions = [{ id, document, created: now }, ...p.versions];
    await store.put('policy', p.name, {
      ...p,
      versions,
      updated: now,
      defaultVersion: makeDefault ? id : p.defaultVersion,
    });
    return id;
  });
}

/** MinIO's add-canned-policy: create the policy, or make this document its default (dropping the oldest). */
export function putMinioPolicy(store: IamStore, name: string, document: string): Promise<void> {
  checkName('policyName', name, 128);
  checkDocument(store, document, 'identity');
  return store.exclusive(async () => {
    const p = store.policies.get(name.toLowerCase());
    const now = store.now();
    if (!p) {
      const rec: ManagedPolicyRecord = {
        name,
        path: '/',
        id: newId('ANPA'),
        created: now,
        updated: now,
        versions: [{ id: 'v1', document, created: now }],
        defaultVersion: 'v1',
      };
      await store.put('policy', name, rec);
      return;
    }
    notBuiltin(p);
    const id = `v${Math.max(...p.versions.map((v) => Number(v.id.slice(1)))) + 1}`;
    const kept = p.versions.filter((v) => v.id !== p.defaultVersion).slice(0, MAX_VERSIONS - 2);
    const current = p.versions.find((v) => v.id === p.defaultVersion)!;
    await store.put('policy', p.name, {
      ...p,
      updated: now,
      defaultVersion: id,
      versions: [{ id, document, created: now }, current, ...kept],
    });
  });
}

export function setDefaultPolicyVersion(store: IamStore, policy: string, versionId: string): Promise<void> {
  return store.exclusive(async () => {
    const p = getPolicy(store, policy);
    notBuiltin(p);
    if (!p.versions.some((v) => v.id === versionId))
      throw new S3Error('NoSuchEntity', `Policy version ${versionId.slice(0, 16)} does not exist.`);
    await store.put('policy', p.name, { ...p, defaultVersion: versionId, updated: store.now() });
  });
}

export function deletePolicyVersion(store: IamStore, policy: string, versionId: string): Promise<void> {
  return store.exclusive(async () => {
    const p = getPolicy(store, policy);
    notBuiltin(p);
    if (!p.versions.some((v) => v.id === versionId))
      throw new S3Error('NoSuchEntity', `Policy version ${versionId.slice(0, 16)} does not exist.`);
    if (versionId === p.defaultVersion)
      throw new S3Error('DeleteConflict', 'Cannot delete the default version of a policy.');
    await store.put('policy', p.name, { ...p, versions: p.versions.filter((v) => v.id !== versionId) });
  });
}

/** Deletes a managed policy: refused while it is attached (IAM's DeleteConflict). */
export function deletePolicy(store: IamStore, policy: string): Promise<void> {
  return store.exclusive(async () => {
    const p = getPolicy(store, policy);
    notBuiltin(p);
    const a = attachmentsOf(store, p.name);
    const ldap = [...store.ldapMappings.values()].some((l) =>
      l.attached.some((x) => x.toLowerCase() === p.name.toLowerCase()),
    );
    if (a.users.length + a.groups.length + a.roles.length > 0 || ldap) {
      throw new S3Error('DeleteConflict', 'Cannot delete a policy attached to entities.');
    }
    await store.drop('policy', p.name);
  });
}

// Groups

export function createGroup(store: IamStore, a: { name: string; path?: string }): Promise<GroupRecord> {
  const name = checkName('groupName', a.name, 128);
  const path = checkPath(a.path);
  return store.exclusive(async () => {
    if (store.groups.has(name.toLowerCase())) throw exists('Group', name);
    const g: GroupRecord = {
      name,
      path,
      id: newId('AGPA'),
      created: store.now(),
      status: 'enabled',
      members: [],
      inline: {},
      attached: [],
    };
    await store.put('group', name, g);
    return g;
  });
}

export function updateGroup(
  store: IamStore,
  name: string,
  a: { newName?: string; newPath?: string; status?: Status },
): Promise<void> {
  return store.exclusive(async () => {
    const g = getGroup(store, name);
    const newName = a.newName === undefined ? g.name : checkName('newGroupName', a.newName, 128);
    const path = a.newPath === undefined ? g.path : checkPath(a.newPath);
    const renamed = newName.toLowerCase() !== g.name.toLowerCase();
    if (renamed && store.groups.has(newName.toLowerCase())) throw exists('Group', newName);
    await store.put('group', newName, { ...g, name: newName, path, status: a.status ?? g.status });
    if (renamed) await store.drop('group', g.name);
  });
}

/** Adds or removes members (MinIO's update-group-members creates the group for its first members). */
export function changeMembers(
  store: IamStore,
  group: string,
  users: string[],
  add: boolean,
  create = false,
): Promise<void> {
  return store.exclusive(async () => {
    const keys = users.map((u) => getUser(store, u).name.toLowerCase());
    let g = store.groups.get(group.toLowerCase());
    if (!g) {
      if (!create || !add) throw noSuch('group', group);
      checkName('groupName', group, 128);
      g = {
        name: group,
        path: '/',
        id: newId('AGPA'),
        created: store.now(),
        status: 'enabled',
        members: [],
        inline: {},
        attached: [],
      };
    }
    if (!add && !create) for (const k of keys) if (!g.members.includes(k)) throw noSuch('user in the group', k);
    const members = add ? [...new Set([...g.members, ...keys])] : g.members.filter((m) => !keys.includes(m));
    await store.put('group', g.name, { ...g, members });
  });
}

/** Deletes a group: refused while it has members or policies, as IAM does. */
export function deleteGroup(store: IamStore, name: string): Promise<void> {
  return store.exclusive(async () => {
    const g = getGroup(store, name);
    if (g.members.length > 0)
      throw new S3Error('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
    if (Object.keys(g.inline).length > 0 || g.attached.length > 0) {
      throw new S3Error('DeleteConflict', 'Cannot delete entity, must delete policies first.');
    }
    await store.drop('group', g.name);
  });
}

/** MinIO's removal of a group (update-group-members with isRemove and no members): only an empty one. */
export function deleteGroupIfEmpty(store: IamStore, name: string): Promise<void> {
  return store.exclusive(async () => {
    const g = getGroup(store, name);
    if (g.members.length > 0)
      throw new S3Error('DeleteConflict', 'The specified group is not empty - cannot remove it');
    await store.drop('group', g.name);
  });
}

// Roles

export function createRole(
  store: IamStore,
  a: {
    name: string;
    path?: string;
    trust: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: Record<string, string>;
  },
): Promise<RoleRecord> {
  const name = checkName('roleName', a.name, 64);
  const path = checkPath(a.path);
  const max = a.maxSessionDuration ?? 3600;
  if (!Number.isInteger(max) || max < 3600 || max > 43200)
    throw new S3Error('ValidationError', 'MaxSessionDuration must be 3600 to 43200');
  checkDocument(store, a.trust, 'trust');
  return store.exclusive(async () => {
    if (store.roles.has(name.toLowerCase())) throw exists('Role', name);
    const r: RoleRecord = {
      name,
      path,
      id: newId('AROA'),
      created: store.now(),
      trust: a.trust,
      description: a.description,
      maxSessionDuration: max,
      tags: a.tags ?? {},
      inline: {},
      attached: [],
    };
    await store.put('role', name, r);
    return r;
  });
}

export function updateRole(
  store: IamStore,
  name: string,
  a: { description?: string; maxSessionDuration?: number; trust?: string },
): Promise<void> {
  if (
    a.maxSessionDuration !== undefined &&
    !(Number.isInteger(a.maxSessionDuration) && a.maxSessionDuration >= 3600 && a.maxSessionDuration <= 43200)
  ) {
    throw new S3Error('ValidationError', 'MaxSessionDuration must be 3600 to 43200');
  }
  if (a.trust !== undefined) checkDocument(store, a.trust, 'trust');
  return store.exclusive(async () => {
    const r = getRole(store, name);
    await store.put('role', r.name, {
      ...r,
      description: a.description ?? r.description,
      maxSessionDuration: a.maxSessionDuration ?? r.maxSessionDuration,
      trust: a.trust ?? r.trust,
    });
  });
}

export function deleteRole(store: IamStore, name: string): Promise<void> {
  return store.exclusive(async () => {
    const r = getRole(store, name);
    if (Object.keys(r.inline).length > 0 || r.attached.length > 0) {
      throw new S3Error('DeleteConflict', 'Cannot delete entity, must delete policies first.');
    }
    await store.drop('role', r.name);
  });
}

export function tagHolder(
  store: IamStore,
  kind: 'user' | 'role',
  name: string,
  set: Record<string, string>,
  remove: string[],
): Promise<void> {
  return store.exclusive(async () => {
    const h = kind === 'user' ? getUser(store, name) : getRole(store, name);
    await store.put(kind, h.name, { ...h, tags: changedTags(h.tags, set, remove) });
  });
}

// Service accounts

export interface ServiceAccountInput {
  accessKey?: string;
  secretKey?: string;
  policy?: string;
  name?: string;
  description?: string;
  expiration?: number;
  status?: Status;
}

export function addServiceAccount(
  store: IamStore,
  parent: { user?: string; root: boolean },
  a: ServiceAccountInput,
): Promise<ServiceAccountRecord> {
  const accessKey = a.accessKey ?? newId('SVCA').slice(0, 20);
  if (!/^[\w+=,.@-]{3,128}$/.test(accessKey)) throw new S3Error('XMinioAdminInvalidArgument', 'Invalid access key');
  const secret = a.secretKey ?? newSecret();
  if (secret.length < 8 || secret.length > 128)
    throw new S3Error('XMinioAdminInvalidArgument', 'The secret key needs 8 to 128 characters');
  if (a.policy !== undefined) checkDocument(store, a.policy, 'identity');
  return store.exclusive(async () => {
    if (store.keyInUse(accessKey)) throw exists('Access key', accessKey);
    if (a.expiration !== undefined && a.expiration <= store.now())
      throw new S3Error('XMinioAdminInvalidArgument', 'The expiration is in the past');
    const parentKey = parent.root ? store.rootKey : getUser(store, parent.user!).name.toLowerCase();
    const sa: ServiceAccountRecord = {
      accessKey,
      secret,
      parent: parentKey,
      parentIsRoot: parent.root,
      policy: a.policy,
      name: a.name,
      description: a.description,
      expiration: a.expiration,
      status: a.status ?? 'enabled',
      created: store.now(),
    };
    await store.put('service-account', accessKey, sa);
    return sa;
  });
}

export function getServiceAccount(store: IamStore, accessKey: string): ServiceAccountRecord {
  const sa = store.serviceAccounts.get(accessKey);
  if (!sa) throw new S3Error('XMinioAdminNoSuchServiceAccount');
  return sa;
}

export function updateServiceAccount(
  store: IamStore,
  accessKey: string,
  a: ServiceAccountInput & { removePolicy?: boolean },
): Promise<void> {
  if (a.policy !== undefined) checkDocument(store, a.policy, 'identity');
  if (a.secretKey !== undefined && (a.secretKey.length < 8 || a.secretKey.length > 128)) {
    throw new S3Error('XMinioAdminInvalidArgument', 'The secret key needs 8 to 128 characters');
  }
  return store.exclusive(async () => {
    const sa = getServiceAccount(store, accessKey);
    await store.put('service-account', accessKey, {
      ...sa,
      secret: a.secretKey ?? sa.secret,
      policy: a.removePolicy ? undefined : (a.policy ?? sa.policy),
      name: a.name ?? sa.name,
      description: a.description ?? sa.description,
      expiration: a.expiration ?? sa.expiration,
      status: a.status ?? sa.status,
    });
  });
}

export function deleteServiceAccount(store: IamStore, accessKey: string): Promise<void> {
  return store.exclusive(async () => {
    getServiceAccount(store, accessKey);
    await store.drop('service-account', accessKey);
  });
}
