// The AWS IAM query API (Action=CreateUser&UserName=..., signed for service `iam`), so that `aws iam`, boto3
// and the AWS SDKs manage Cairn's users, access keys, groups, roles and policies unchanged. Each action is
// authorized as `iam:<Action>` on the ARN of the entity it names (root may do everything), then done by
// manage.ts. Answers are IAM's XML; policy documents go out URL-encoded, as IAM sends them.
import { S3Error } from '../../errors.js';
import { isAllowedOutsideBuckets } from '../authorize.js';
import type { ConditionContext } from '../policy-conditions.js';
import type { ApiContext, Caller, S3Response } from '../types.js';
import type { XmlValue } from '../xml.js';
import { requestedTagKeys, requestedTags, requestTagKeys, resourceTagKeys } from './iam-tags.js';
import * as m from './manage.js';
import {
  createOidcProvider,
  deleteOidcProvider,
  getOidcProvider,
  normalizeIssuerUrl,
  oidcProviderArn,
  tagOidcProvider,
  updateOidcProvider,
  type OidcProviderRecord,
} from './oidc-providers.js';
import { groupArn, policyArn, ROOT_ARN, roleArn, userArn } from './principal.js';
import type { GroupRecord, ManagedPolicyRecord, RoleRecord, UserRecord } from './records.js';
import { queryAnswer, type ServiceRequest } from './service.js';
import type { IamStore } from './store.js';

type Result = { [k: string]: XmlValue } | undefined;
type Handler = (c: CallContext) => Promise<Result> | Result;

interface CallContext {
  store: IamStore;
  params: URLSearchParams;
  caller: Caller;
  /** Refuses with AccessDenied unless the caller may do the action on `resource` (`extra`: condition keys). */
  authorize(resource: string, extra?: ConditionContext): void;
  /** A required parameter (ValidationError when absent). */
  need(name: string): string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const encoded = (doc: string) => encodeURIComponent(doc);

const userXml = (u: UserRecord, root: string): { [k: string]: XmlValue } => ({
  Path: u.path,
  UserName: u.name,
  UserId: u.id,
  Arn: u.static && u.name === root ? ROOT_ARN : userArn(u.path, u.name),
  CreateDate: iso(u.created),
  Tags: Object.keys(u.tags).length ? { member: tagsXml(u.tags) } : undefined,
});
const groupXml = (g: GroupRecord) => ({
  Path: g.path,
  GroupName: g.name,
  GroupId: g.id,
  Arn: groupArn(g.path, g.name),
  CreateDate: iso(g.created),
});
const roleXml = (r: RoleRecord) => ({
  Path: r.path,
  RoleName: r.name,
  RoleId: r.id,
  Arn: roleArn(r.path, r.name),
  CreateDate: iso(r.created),
  AssumeRolePolicyDocument: encoded(r.trust),
  Description: r.description,
  MaxSessionDuration: r.maxSessionDuration,
  Tags: Object.keys(r.tags).length ? { member: tagsXml(r.tags) } : undefined,
});
const policyXml = (store: IamStore, p: ManagedPolicyRecord) => {
  const a = m.attachmentsOf(store, p.name);
  return {
    PolicyName: p.name,
    PolicyId: p.id,
    Arn: policyArn(p.path, p.name),
    Path: p.path,
    DefaultVersionId: p.defaultVersion,
    AttachmentCount: a.users.length + a.groups.length + a.roles.length,
    IsAttachable: true,
    Description: p.description,
    CreateDate: iso(p.created),
    UpdateDate: iso(p.updated),
  };
};
const tagsXml = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const attachedXml = (store: IamStore, names: string[]) =>
  names.flatMap((n) => {
    const p = store.managedPolicy(n);
    return p ? [{ PolicyName: p.name, PolicyArn: policyArn(p.path, p.name) }] : [];
  });

/**
 * The Marker of a truncated list: the last name given, base64url, so it stays within IAM's Marker pattern
 * (U+0020 to U+00FF) whatever the name (tag keys may be any letter) and clients treat it as opaque, as IAM's.
 */
const markerOf = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
/** The name a Marker stands for; one Cairn did not give (empty, not base64url, not UTF-8) is IAM's error. */
function markerName(marker: string): string {
  const name = marker.length <= 1024 ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  if (name === '' || markerOf(name) !== marker) throw new S3Error('ValidationError', 'Invalid Marker.');
  return name.toLowerCase();
}

/**
 * Marker/MaxItems paging over a list sorted by name without case. A MaxItems that is not a whole number from 1
 * to 1000 is ValidationError, as in IAM.
 */
function page<T>(c: CallContext, items: T[], nameOf: (t: T) => string): { items: T[]; more: Result } {
  const maxItems = c.params.get('MaxItems');
  const max = maxItems === null ? 100 : /^\d{1,4}$/.test(maxItems) ? Number(maxItems) : 0;
  if (max < 1 || max > 1000) throw new S3Error('ValidationError', 'MaxItems must be a whole number from 1 to 1000');
  const marker = c.params.get('Marker');
  const after = marker === null ? undefined : markerName(marker);
  const keyed = items.map((t) => [nameOf(t).toLowerCase(), t] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const from = after === undefined ? keyed : keyed.filter(([k]) => k > after);
  const out = from.slice(0, max).map(([, t]) => t);
  const truncated = from.length > out.length;
  return {
    items: out,
    more: { IsTruncated: truncated, Marker: truncated ? markerOf(nameOf(out[out.length - 1])) : undefined },
  };
}

const prefixed = <T extends { path: string }>(c: CallContext, items: T[]) => {
  const prefix = c.params.get('PathPrefix') ?? '/';
  return items.filter((x) => x.path.startsWith(prefix));
};

function members(p: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${name}.member.${i}`); i++) out.push(p.get(`${name}.member.${i}`)!);
  return out;
}

const user = (c: CallContext) => m.getUser(c.store, c.need('UserName'));
const userRes = (u: UserRecord) => userArn(u.path, u.name);
const role = (c: CallContext) => m.getRole(c.store, c.need('RoleName'));
/** An action on an existing user or role: its tags are the resource's (aws:ResourceTag, iam:ResourceTag). */
const onUser = (c: CallContext, u: UserRecord, extra: ConditionContext = {}) =>
  c.authorize(userRes(u), { ...resourceTagKeys(u.tags), ...extra });
const onRole = (c: CallContext, r: RoleRecord, extra: ConditionContext = {}) =>
  c.authorize(roleArn(r.path, r.name), { ...resourceTagKeys(r.tags), ...extra });
/**
 * An action on an existing OpenID Connect provider (OpenIDConnectProviderArn): judged with its tags as
 * aws:ResourceTag/<key>. A caller without the right is refused before it learns whether the provider exists.
 */
function onProvider(c: CallContext, extra: ConditionContext = {}): OidcProviderRecord {
  const arn = c.need('OpenIDConnectProviderArn');
  let p: OidcProviderRecord | undefined;
  try {
    p = getOidcProvider(c.store, arn);
  } catch (e) {
    c.authorize(arn, extra);
    throw e;
  }
  c.authorize(arn, { ...resourceTagKeys(p.tags), ...extra });
  return p;
}
/** Tags a request sets (TagUser, TagRole, TagOpenIDConnectProvider: required). */
function tagsToSet(c: CallContext): Record<string, string> {
  const tags = requestedTags(c.params);
  if (!tags) throw new S3Error('ValidationError', 'The parameter Tags is required');
  return tags;
}
/** The user a key call is about: UserName, or the caller's own. */
const keyUser = (c: CallContext) => m.userOrSelf(c.store, c.params.get('UserName') ?? undefined, c.caller.iam.user);

const HANDLERS: Record<string, Handler> = {
  // Users
  CreateUser: async (c) => {
    const name = c.need('UserName');
    const tags = requestedTags(c.params);
    c.authorize(userArn(c.params.get('Path') ?? '/', name), requestTagKeys(tags));
    const u = await m.createUser(c.store, { name, path: c.params.get('Path') ?? undefined, tags });
    return { User: userXml(u, c.store.rootKey) };
  },
  GetUser: (c) => {
    const name = c.params.get('UserName');
    if (!name && c.caller.iam.kind === 'root') {
      return {
        User: {
          UserName: c.caller.accessKey,
          UserId: c.caller.iam.userId,
          Arn: ROOT_ARN,
          Path: '/',
          CreateDate: iso(0),
        },
      };
    }
    const u = m.userOrSelf(c.store, name ?? undefined, c.caller.iam.user);
    onUser(c, u);
    return { User: userXml(u, c.store.rootKey) };
  },
  ListUsers: (c) => {
    c.authorize(userArn('/', '*'));
    const { items, more } = page(c, prefixed(c, [...c.store.users.values()]), (u) => u.name);
    return { Users: { member: items.map((u) => userXml(u, c.store.rootKey)) }, ...more };
  },
  UpdateUser: async (c) => {
    const u = user(c);
    onUser(c, u);
    await m.updateUser(c.store, u.name, {
      newName: c.params.get('NewUserName') ?? undefined,
      newPath: c.params.get('NewPath') ?? undefined,
    });
    return undefined;
  },
  DeleteUser: async (c) => {
    const u = user(c);
    onUser(c, u);
    await m.deleteUser(c.store, u.name, false);
    return undefined;
  },
  TagUser: async (c) => {
    const u = user(c);
    const tags = tagsToSet(c);
    onUser(c, u, requestTagKeys(tags));
    await m.tagHolder(c.store, 'user', u.name, tags, []);
    return undefined;
  },
  UntagUser: async (c) => {
    const u = user(c);
    const keys = requestedTagKeys(c.params);
    onUser(c, u, requestTagKeys(undefined, keys));
    await m.tagHolder(c.store, 'user', u.name, {}, keys);
    return undefined;
  },
  ListUserTags: (c) => {
    const u = user(c);
    onUser(c, u);
    const { items, more } = page(c, tagsXml(u.tags), (t) => t.Key);
    return { Tags: { member: items }, ...more };
  },
  // Access keys
  CreateAccessKey: async (c) => {
    const u = keyUser(c);
    onUser(c, u);
    const k = await m.createAccessKey(c.store, u.name);
    return {
      AccessKey: {
        UserName: u.name,
        AccessKeyId: k.id,
        Status: 'Active',
        SecretAccessKey: k.secret,
        CreateDate: iso(k.created),
      },
    };
  },
  UpdateAccessKey: async (c) => {
    const u = keyUser(c);
    onUser(c, u);
    const status = c.need('Status');
    if (status !== 'Active' && status !== 'Inactive')
      throw new S3Error('ValidationError', 'Status must be Active or Inactive');
    await m.updateAccessKey(c.store, u.name, c.need('AccessKeyId'), status);
    return undefined;
  },
  DeleteAccessKey: async (c) => {
    const u = keyUser(c);
    onUser(c, u);
    await m.deleteAccessKey(c.store, u.name, c.need('AccessKeyId'));
    return undefined;
  },
  ListAccessKeys: (c) => {
    const u = keyUser(c);
    onUser(c, u);
    const keys = u.static ? [] : u.keys;
    const list = keys.map((k) => ({
      UserName: u.name,
      AccessKeyId: k.id,
      Status: k.status,
      CreateDate: iso(k.created),
    }));
    return { AccessKeyMetadata: { member: list }, IsTruncated: false };
  },
  // Groups
  CreateGroup: async (c) => {
    const name = c.need('GroupName');
    c.authorize(groupArn(c.params.get('Path') ?? '/', name));
    return { Group: groupXml(await m.createGroup(c.store, { name, path: c.params.get('Path') ?? undefined })) };
  },
  GetGroup: (c) => {
    const g = m.getGroup(c.store, c.need('GroupName'));
    c.authorize(groupArn(g.path, g.name));
    const users = g.members.flatMap((k) => {
      const u = c.store.users.get(k);
      return u ? [userXml(u, c.store.rootKey)] : [];
    });
    return { Group: groupXml(g), Users: { member: users }, IsTruncated: false };
  },
  ListGroups: (c) => {
    c.authorize(groupArn('/', '*'));
    const { items, more } = page(c, prefixed(c, [...c.store.groups.values()]), (g) => g.name);
    return { Groups: { member: items.map(groupXml) }, ...more };
  },
  UpdateGroup: async (c) => {
    const g = m.getGroup(c.store, c.need('GroupName'));
    c.authorize(groupArn(g.path, g.name));
    await m.updateGroup(c.store, g.name, {
      newName: c.params.get('NewGroupName') ?? undefined,
      newPath: c.params.get('NewPath') ?? undefined,
    });
    return undefined;
  },
  DeleteGroup: async (c) => {
    const g = m.getGroup(c.store, c.need('GroupName'));
    c.authorize(groupArn(g.path, g.name));
    await m.deleteGroup(c.store, g.name);
    return undefined;
  },
  AddUserToGroup: async (c) => {
    const g = m.getGroup(c.store, c.need('GroupName'));
    c.authorize(groupArn(g.path, g.name));
    await m.changeMembers(c.store, g.name, [c.need('UserName')], true);
    return undefined;
  },
  RemoveUserFromGroup: async (c) => {
    const g = m.getGroup(c.store, c.need('GroupName'));
    c.authorize(groupArn(g.path, g.name));
    await m.changeMembers(c.store, g.name, [c.need('UserName')], false);
    return undefined;
  },
  ListGroupsForUser: (c) => {
    const u = user(c);
    onUser(c, u);
    return { Groups: { member: c.store.groupsOf(u.name.toLowerCase()).map(groupXml) }, IsTruncated: false };
  },
  // Roles
  CreateRole: async (c) => {
    const name = c.need('RoleName');
    const tags = requestedTags(c.params);
    c.authorize(roleArn(c.params.get('Path') ?? '/', name), requestTagKeys(tags));
    const max = c.params.get('MaxSessionDuration');
    const r = await m.createRole(c.store, {
      name,
      path: c.params.get('Path') ?? undefined,
      trust: c.need('AssumeRolePolicyDocument'),
      description: c.params.get('Description') ?? undefined,
      maxSessionDuration: max === null ? undefined : Number(max),
      tags,
    });
    return { Role: roleXml(r) };
  },
  GetRole: (c) => {
    const r = role(c);
    onRole(c, r);
    return { Role: roleXml(r) };
  },
  ListRoles: (c) => {
    c.authorize(roleArn('/', '*'));
    const { items, more } = page(c, prefixed(c, [...c.store.roles.values()]), (r) => r.name);
    return { Roles: { member: items.map(roleXml) }, ...more };
  },
  UpdateRole: async (c) => {
    const r = role(c);
    onRole(c, r);
    const max = c.params.get('MaxSessionDuration');
    await m.updateRole(c.store, r.name, {
      description: c.params.get('Description') ?? undefined,
      maxSessionDuration: max === null ? undefined : Number(max),
    });
    return undefined;
  },
  UpdateRoleDescription: async (c) => {
    const r = role(c);
    onRole(c, r);
    await m.updateRole(c.store, r.name, { description: c.need('Description') });
    return { Role: roleXml(m.getRole(c.store, r.name)) };
  },
  UpdateAssumeRolePolicy: async (c) => {
    const r = role(c);
    onRole(c, r);
    await m.updateRole(c.store, r.name, { trust: c.need('PolicyDocument') });
    return undefined;
  },
  DeleteRole: async (c) => {
    const r = role(c);
    onRole(c, r);
    await m.deleteRole(c.store, r.name);
    return undefined;
  },
  TagRole: async (c) => {
    const r = role(c);
    const tags = tagsToSet(c);
    onRole(c, r, requestTagKeys(tags));
    await m.tagHolder(c.store, 'role', r.name, tags, []);
    return undefined;
  },
  UntagRole: async (c) => {
    const r = role(c);
    const keys = requestedTagKeys(c.params);
    onRole(c, r, requestTagKeys(undefined, keys));
    await m.tagHolder(c.store, 'role', r.name, {}, keys);
    return undefined;
  },
  ListRoleTags: (c) => {
    const r = role(c);
    onRole(c, r);
    const { items, more } = page(c, tagsXml(r.tags), (t) => t.Key);
    return { Tags: { member: items }, ...more };
  },
  // OpenID Connect providers (oidc-providers.ts)
  CreateOpenIDConnectProvider: async (c) => {
    const requested = requestedTags(c.params);
    c.authorize(oidcProviderArn(normalizeIssuerUrl(c.need('Url')).url), requestTagKeys(requested));
    const p = await createOidcProvider(c.store, {
      url: c.need('Url'),
      clientIds: members(c.params, 'ClientIDList'),
      thumbprints: members(c.params, 'ThumbprintList'),
      tags: requested ?? {},
    });
    const tags = Object.keys(p.tags).length ? { member: tagsXml(p.tags) } : undefined;
    return { OpenIDConnectProviderArn: oidcProviderArn(p.url), Tags: tags };
  },
  GetOpenIDConnectProvider: (c) => {
    const p = onProvider(c);
    return {
      // IAM answers the URL without its scheme.
      Url: p.url,
      ClientIDList: { member: p.clientIds },
      ThumbprintList: { member: p.thumbprints },
      CreateDate: iso(p.created),
      Tags: Object.keys(p.tags).length ? { member: tagsXml(p.tags) } : undefined,
    };
  },
  ListOpenIDConnectProviders: (c) => {
    c.authorize(oidcProviderArn('*'));
    const arns = [...c.store.oidcProviders.values()].map((p) => oidcProviderArn(p.url)).sort();
    return { OpenIDConnectProviderList: { member: arns.map((Arn) => ({ Arn })) } };
  },
  DeleteOpenIDConnectProvider: async (c) => {
    const p = onProvider(c);
    await deleteOidcProvider(c.store, oidcProviderArn(p.url));
    return undefined;
  },
  AddClientIDToOpenIDConnectProvider: async (c) => {
    const p = onProvider(c);
    await updateOidcProvider(c.store, oidcProviderArn(p.url), { addClientId: c.need('ClientID') });
    return undefined;
  },
  RemoveClientIDFromOpenIDConnectProvider: async (c) => {
    const p = onProvider(c);
    await updateOidcProvider(c.store, oidcProviderArn(p.url), { removeClientId: c.need('ClientID') });
    return undefined;
  },
  UpdateOpenIDConnectProviderThumbprint: async (c) => {
    const p = onProvider(c);
    await updateOidcProvider(c.store, oidcProviderArn(p.url), { thumbprints: members(c.params, 'ThumbprintList') });
    return undefined;
  },
  TagOpenIDConnectProvider: async (c) => {
    const tags = tagsToSet(c);
    const p = onProvider(c, requestTagKeys(tags));
    await tagOidcProvider(c.store, oidcProviderArn(p.url), tags, []);
    return undefined;
  },
  UntagOpenIDConnectProvider: async (c) => {
    const keys = requestedTagKeys(c.params);
    const p = onProvider(c, requestTagKeys(undefined, keys));
    await tagOidcProvider(c.store, oidcProviderArn(p.url), {}, keys);
    return undefined;
  },
  ListOpenIDConnectProviderTags: (c) => {
    const p = onProvider(c);
    const { items, more } = page(c, tagsXml(p.tags), (t) => t.Key);
    return { Tags: { member: items }, ...more };
  },
  // Managed policies
  CreatePolicy: async (c) => {
    const name = c.need('PolicyName');
    c.authorize(policyArn(c.params.get('Path') ?? '/', name));
    const p = await m.createPolicy(c.store, {
      name,
      document: c.need('PolicyDocument'),
      path: c.params.get('Path') ?? undefined,
      description: c.params.get('Description') ?? undefined,
    });
    return { Policy: policyXml(c.store, p) };
  },
  GetPolicy: (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    return { Policy: policyXml(c.store, p) };
  },
  ListPolicies: (c) => {
    c.authorize(policyArn('/', '*'));
    const scope = c.params.get('Scope') ?? 'All';
    const attached = c.params.get('OnlyAttached') === 'true';
    let all = prefixed(c, [...c.store.policies.values()]).filter(
      (p) => scope === 'All' || (scope === 'AWS') === !!p.builtin,
    );
    if (attached) all = all.filter((p) => policyXml(c.store, p).AttachmentCount > 0);
    const { items, more } = page(c, all, (p) => p.name);
    return { Policies: { member: items.map((p) => policyXml(c.store, p)) }, ...more };
  },
  DeletePolicy: async (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    await m.deletePolicy(c.store, p.name);
    return undefined;
  },
  CreatePolicyVersion: async (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    const makeDefault = c.params.get('SetAsDefault') === 'true';
    const id = await m.createPolicyVersion(c.store, p.name, c.need('PolicyDocument'), makeDefault);
    return { PolicyVersion: { VersionId: id, IsDefaultVersion: makeDefault, CreateDate: iso(c.store.now()) } };
  },
  GetPolicyVersion: (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    const v = p.versions.find((x) => x.id === c.need('VersionId'));
    if (!v) throw new S3Error('NoSuchEntity', 'Policy version does not exist.');
    return {
      PolicyVersion: {
        Document: encoded(v.document),
        VersionId: v.id,
        IsDefaultVersion: v.id === p.defaultVersion,
        CreateDate: iso(v.created),
      },
    };
  },
  ListPolicyVersions: (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    const list = p.versions.map((v) => ({
      VersionId: v.id,
      IsDefaultVersion: v.id === p.defaultVersion,
      CreateDate: iso(v.created),
    }));
    return { Versions: { member: list }, IsTruncated: false };
  },
  DeletePolicyVersion: async (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    await m.deletePolicyVersion(c.store, p.name, c.need('VersionId'));
    return undefined;
  },
  SetDefaultPolicyVersion: async (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    await m.setDefaultPolicyVersion(c.store, p.name, c.need('VersionId'));
    return undefined;
  },
  ListEntitiesForPolicy: (c) => {
    const p = m.getPolicy(c.store, c.need('PolicyArn'));
    c.authorize(policyArn(p.path, p.name));
    const a = m.attachmentsOf(c.store, p.name);
    const ids = <T extends { name: string; id: string }>(map: Map<string, T>, names: string[], tag: string) =>
      names.map((n) => ({ [`${tag}Name`]: n, [`${tag}Id`]: map.get(n.toLowerCase())?.id ?? '' }));
    return {
      PolicyUsers: { member: ids(c.store.users, a.users, 'User') },
      PolicyGroups: { member: ids(c.store.groups, a.groups, 'Group') },
      PolicyRoles: { member: ids(c.store.roles, a.roles, 'Role') },
      IsTruncated: false,
    };
  },
  GetAccountSummary: (c) => {
    c.authorize('*');
    const s = c.store;
    const entries = {
      Users: s.users.size,
      Groups: s.groups.size,
      Roles: s.roles.size,
      Policies: [...s.policies.values()].filter((p) => !p.builtin).length,
      AccessKeysPerUserQuota: 2,
      PolicyVersionsInUseQuota: 10000,
      AttachedPoliciesPerUserQuota: 10,
    };
    return { SummaryMap: { entry: Object.entries(entries).map(([key, value]) => ({ key, value })) } };
  },
};

// Inline and attached policies of users, groups and roles: one family of handlers per holder kind. `on`
// authorizes the action on the holder (a user's or role's tags are the resource's; groups have none).
for (const [kind, Kind, on] of [
  ['user', 'User', (c: CallContext, extra?: ConditionContext) => onUser(c, user(c), extra)],
  [
    'group',
    'Group',
    (c: CallContext, extra?: ConditionContext) => {
      const g = m.getGroup(c.store, c.need('GroupName'));
      c.authorize(groupArn(g.path, g.name), extra);
    },
  ],
  ['role', 'Role', (c: CallContext, extra?: ConditionContext) => onRole(c, role(c), extra)],
] as const) {
  const name = (c: CallContext) => c.need(`${Kind}Name`);
  /** The user, group or role the request names, with its inline and attached policies. */
  const holder = (c: CallContext) =>
    kind === 'user'
      ? m.getUser(c.store, name(c))
      : kind === 'group'
        ? m.getGroup(c.store, name(c))
        : m.getRole(c.store, name(c));
  HANDLERS[`Put${Kind}Policy`] = async (c) => {
    on(c);
    await m.putInlinePolicy(c.store, kind, name(c), c.need('PolicyName'), c.need('PolicyDocument'));
    return undefined;
  };
  HANDLERS[`Get${Kind}Policy`] = (c) => {
    on(c);
    const doc = m.getInlinePolicy(c.store, kind, name(c), c.need('PolicyName'));
    return { [`${Kind}Name`]: name(c), PolicyName: c.need('PolicyName'), PolicyDocument: encoded(doc) };
  };
  HANDLERS[`Delete${Kind}Policy`] = async (c) => {
    on(c);
    await m.deleteInlinePolicy(c.store, kind, name(c), c.need('PolicyName'));
    return undefined;
  };
  HANDLERS[`List${Kind}Policies`] = (c) => {
    on(c);
    const h = holder(c);
    return { PolicyNames: { member: Object.keys(h.inline) }, IsTruncated: false };
  };
  HANDLERS[`Attach${Kind}Policy`] = async (c) => {
    on(c, { 'iam:policyarn': c.need('PolicyArn') });
    await m.attachPolicy(c.store, kind, name(c), c.need('PolicyArn'));
    return undefined;
  };
  HANDLERS[`Detach${Kind}Policy`] = async (c) => {
    on(c, { 'iam:policyarn': c.need('PolicyArn') });
    await m.detachPolicy(c.store, kind, name(c), c.need('PolicyArn'));
    return undefined;
  };
  HANDLERS[`ListAttached${Kind}Policies`] = (c) => {
    on(c);
    const h = holder(c);
    return { AttachedPolicies: { member: attachedXml(c.store, h.attached) }, IsTruncated: false };
  };
}

export async function iamQuery(
  ctx: ApiContext,
  req: ServiceRequest,
  action: string,
  params: URLSearchParams,
): Promise<S3Response> {
  const handler = Object.hasOwn(HANDLERS, action) ? HANDLERS[action] : undefined;
  if (!handler) throw new S3Error('InvalidAction', `The action ${action.slice(0, 64)} is not valid for this endpoint.`);
  const caller = req.caller;
  if (!caller) throw new S3Error('AccessDenied', 'IAM requests must be signed');
  const access = {
    caller,
    headers: req.headers,
    query: req.query,
    sourceIp: req.sourceIp,
    secure: req.secure,
    auth: req.auth,
  };
  const c: CallContext = {
    store: ctx.iam!,
    params,
    caller,
    authorize: (resource, extra) => {
      if (!isAllowedOutsideBuckets(ctx, access, `iam:${action}`, resource, extra)) {
        throw new S3Error(
          'AccessDenied',
          `${caller.iam.arn} is not authorized to perform iam:${action} on resource ${resource}`,
        );
      }
    },
    need: (name) => {
      const v = params.get(name);
      if (v === null || v === '') throw new S3Error('ValidationError', `The parameter ${name} is required`);
      return v;
    },
  };
  return queryAnswer('iam', action, await handler(c), req.requestId);
}
