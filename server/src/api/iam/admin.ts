// MinIO's admin API (/minio/admin/v3/...), the IAM part of it, so that minio-py's MinioAdmin, madmin-go and
// `mc admin user|group|policy|svcacct` manage Cairn: users (MinIO's users are named by their access key),
// groups, canned policies and their mapping, service accounts. Each call is authorized as the `admin:` action
// MinIO checks for it; bodies and answers MinIO encrypts with the signer's secret are (madmin-crypto.ts).
import { S3Error, isS3Error } from '../../errors.js';
import { isAllowedOutsideBuckets } from '../authorize.js';
import type { ApiContext, S3Response } from '../types.js';
import { decryptData, encryptData } from './madmin-crypto.js';
import * as m from './manage.js';
import type { ServiceRequest } from './service.js';
import type { IamStore } from './store.js';
import type { ServiceAccountRecord, UserRecord } from './records.js';
import { isTierPath, tierAdmin } from '../tier/admin.js';
import { isQuotaPath, quotaAdmin } from '../quota.js';
import { isReplicationTargetPath, replicationTargetAdmin } from '../replication/admin.js';
import { isServerAdminPath, serverAdmin } from '../admin/index.js';
import { listOpenIdConfigs, openIdConfigInfo } from './admin-idp.js';

interface AdminCall {
  ctx: ApiContext;
  store: IamStore;
  req: ServiceRequest;
  q: URLSearchParams;
  /** The request body decrypted with the signer's secret. */
  decrypted(): Promise<Record<string, unknown>>;
  /** The request body as JSON (not encrypted). */
  json(): Record<string, unknown>;
  /** An answer encrypted with the signer's secret. */
  sealed(value: unknown): Promise<S3Response>;
}

type Route = { method: string; action: string; run: (c: AdminCall) => Promise<S3Response> | S3Response };

const ok = (): S3Response => ({ status: 200, headers: {} });
const json = (value: unknown): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
const need = (q: URLSearchParams, name: string): string => {
  const v = q.get(name);
  if (!v) throw new S3Error('XMinioAdminInvalidArgument', `The parameter ${name} is required`);
  return v;
};
const time = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** MinIO says "no such user/group/policy" in its own words. */
function minioNames<T>(
  fn: () => T,
  code: 'XMinioAdminNoSuchUser' | 'XMinioAdminNoSuchGroup' | 'XMinioAdminNoSuchPolicy',
): T {
  try {
    return fn();
  } catch (e) {
    if (isS3Error(e) && e.code === 'NoSuchEntity') throw new S3Error(code, e.message);
    throw e;
  }
}

function userInfo(store: IamStore, u: UserRecord) {
  return {
    policyName: u.attached.join(',') || undefined,
    status: u.status,
    memberOf: store.groupsOf(u.name.toLowerCase()).map((g) => g.name),
    updatedAt: time(u.created),
  };
}

function serviceAccountInfo(sa: ServiceAccountRecord) {
  return {
    parentUser: sa.parent,
    accountStatus: sa.status === 'enabled' ? 'on' : 'off',
    impliedPolicy: sa.policy === undefined,
    accessKey: sa.accessKey,
    name: sa.name,
    description: sa.description,
    expiration: time(sa.expiration),
  };
}

/** Policies named in a comma-separated list (MinIO maps several at once). */
const policyList = (s: string) =>
  s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

async function setMapping(store: IamStore, kind: 'user' | 'group', name: string, policies: string[]): Promise<void> {
  for (const p of policies) minioNames(() => m.getPolicy(store, p), 'XMinioAdminNoSuchPolicy');
  const h = kind === 'user' ? m.getUser(store, name) : m.getGroup(store, name);
  for (const p of h.attached)
    if (!policies.some((x) => x.toLowerCase() === p.toLowerCase())) await m.detachPolicy(store, kind, name, p);
  for (const p of policies) await m.attachPolicy(store, kind, name, p);
}

function serviceAccountInput(body: Record<string, unknown>, prefix: '' | 'new') {
  const field = (n: string) => body[prefix ? `new${n[0].toUpperCase()}${n.slice(1)}` : n];
  const str = (n: string) => (typeof field(n) === 'string' && field(n) !== '' ? (field(n) as string) : undefined);
  const policy = field('policy');
  const exp = str('expiration');
  const expiration = exp === undefined ? undefined : Date.parse(exp);
  if (expiration !== undefined && Number.isNaN(expiration))
    throw new S3Error('XMinioAdminInvalidArgument', 'Invalid expiration');
  const status = str('status');
  if (status !== undefined && !['on', 'off', 'enabled', 'disabled'].includes(status)) {
    throw new S3Error('XMinioAdminInvalidArgument', 'Invalid status');
  }
  return {
    accessKey: prefix ? undefined : str('accessKey'),
    secretKey: str('secretKey'),
    policy:
      policy === undefined || policy === null || policy === ''
        ? undefined
        : typeof policy === 'string'
          ? policy
          : JSON.stringify(policy),
    name: str('name'),
    description: str('description'),
    expiration: expiration !== undefined && expiration > 0 ? expiration : undefined,
    status:
      status === undefined
        ? undefined
        : status === 'on' || status === 'enabled'
          ? ('enabled' as const)
          : ('disabled' as const),
  };
}

/**
 * The user a caller's own service accounts belong to: itself, or for a service account or session (the console
 * logs in with one) the user or root it derives from, as MinIO does. A role or federated session has none.
 */
function ownParent(c: AdminCall): { root: true } | { root: false; user: string } | undefined {
  const iam = c.req.caller!.iam;
  if (iam.kind === 'root' || (iam.derivedFrom === 'root' && !iam.role && !iam.ldap && !iam.openid))
    return { root: true };
  return iam.user === undefined ? undefined : { root: false, user: iam.user };
}

/** A credential narrowed by a policy (a session policy, a service account's own): judged by that policy. */
function narrowed(c: AdminCall): boolean {
  return c.req.caller!.iam.restrictions.length > 0;
}

/**
 * A caller may manage its own service accounts without admin rights; others' need them. A narrowed credential
 * owns none: its policy must allow the call, or a session narrowed to one bucket could widen, disable or delete
 * its parent's accounts.
 */
function ownsServiceAccount(c: AdminCall, sa: ServiceAccountRecord): boolean {
  const own = ownParent(c);
  if (own === undefined || narrowed(c)) return false;
  return sa.parentIsRoot ? own.root : !own.root && own.user === sa.parent;
}

/** The route of `idp-config/openid/NAME` (the name is read from the path). */
const IDP_CONFIG_NAMED = 'idp-config/openid/{name}';

const ROUTES: Record<string, Route> = {
  'add-user': {
    method: 'PUT',
    action: 'admin:CreateUser',
    run: async (c) => {
      const body = await c.decrypted();
      const status = body.status === 'disabled' ? 'disabled' : 'enabled';
      await m.setMinioUser(c.store, need(c.q, 'accessKey'), String(body.secretKey ?? ''), status);
      return ok();
    },
  },
  'remove-user': {
    method: 'DELETE',
    action: 'admin:DeleteUser',
    run: async (c) => {
      await minioNames(() => m.getUser(c.store, need(c.q, 'accessKey')), 'XMinioAdminNoSuchUser');
      await m.deleteUser(c.store, need(c.q, 'accessKey'), true);
      return ok();
    },
  },
  'set-user-status': {
    method: 'PUT',
    action: 'admin:EnableUser',
    run: async (c) => {
      const status = need(c.q, 'status');
      if (status !== 'enabled' && status !== 'disabled')
        throw new S3Error('XMinioAdminInvalidArgument', 'status must be enabled or disabled');
      minioNames(() => m.getUser(c.store, need(c.q, 'accessKey')), 'XMinioAdminNoSuchUser');
      await m.setUserStatus(c.store, need(c.q, 'accessKey'), status);
      return ok();
    },
  },
  'list-users': {
    method: 'GET',
    action: 'admin:ListUsers',
    run: (c) => {
      const out: Record<string, unknown> = {};
      for (const u of c.store.users.values()) if (!u.static) out[u.name] = userInfo(c.store, u);
      return c.sealed(out);
    },
  },
  'user-info': {
    method: 'GET',
    action: 'admin:GetUser',
    run: (c) =>
      json(
        userInfo(
          c.store,
          minioNames(() => m.getUser(c.store, need(c.q, 'accessKey')), 'XMinioAdminNoSuchUser'),
        ),
      ),
  },
  'add-canned-policy': {
    method: 'PUT',
    action: 'admin:CreatePolicy',
    run: async (c) => {
      await m.putMinioPolicy(c.store, need(c.q, 'name'), c.req.body.toString('utf8'));
      return ok();
    },
  },
  'remove-canned-policy': {
    method: 'DELETE',
    action: 'admin:DeletePolicy',
    run: async (c) => {
      minioNames(() => m.getPolicy(c.store, need(c.q, 'name')), 'XMinioAdminNoSuchPolicy');
      await m.deletePolicy(c.store, need(c.q, 'name'));
      return ok();
    },
  },
  'info-canned-policy': {
    method: 'GET',
    action: 'admin:GetPolicy',
    run: (c) => {
      const p = minioNames(() => m.getPolicy(c.store, need(c.q, 'name')), 'XMinioAdminNoSuchPolicy');
      const doc = JSON.parse(p.versions.find((v) => v.id === p.defaultVersion)!.document) as unknown;
      if (c.q.get('v') !== '2') return json(doc);
      return json({ PolicyName: p.name, Policy: doc, CreateDate: time(p.created), UpdateDate: time(p.updated) });
    },
  },
  'list-canned-policies': {
    method: 'GET',
    action: 'admin:ListUserPolicies',
    run: (c) => {
      const out: Record<string, unknown> = {};
      for (const p of c.store.policies.values())
        out[p.name] = JSON.parse(p.versions.find((v) => v.id === p.defaultVersion)!.document);
      return json(out);
    },
  },
  'set-user-or-group-policy': {
    method: 'PUT',
    action: 'admin:AttachUserOrGroupPolicy',
    run: async (c) => {
      const isGroup = c.q.get('isGroup') === 'true';
      const name = need(c.q, 'userOrGroup');
      await minioNames(
        () => setMapping(c.store, isGroup ? 'group' : 'user', name, policyList(c.q.get('policyName') ?? '')),
        isGroup ? 'XMinioAdminNoSuchGroup' : 'XMinioAdminNoSuchUser',
      );
      return ok();
    },
  },
  'idp/builtin/policy/attach': {
    method: 'POST',
    action: 'admin:UpdatePolicyAssociation',
    run: (c) => attachDetach(c, true),
  },
  'idp/builtin/policy/detach': {
    method: 'POST',
    action: 'admin:UpdatePolicyAssociation',
    run: (c) => attachDetach(c, false),
  },
  'idp/ldap/policy/attach': {
    method: 'POST',
    action: 'admin:UpdatePolicyAssociation',
    run: (c) => ldapAttachDetach(c, true),
  },
  'idp/ldap/policy/detach': {
    method: 'POST',
    action: 'admin:UpdatePolicyAssociation',
    run: (c) => ldapAttachDetach(c, false),
  },
  // MinIO's idp-config API, read-only (admin-idp.ts); MinIO asks admin:ConfigUpdate for reading it too.
  'idp-config/openid': {
    method: 'GET',
    action: 'admin:ConfigUpdate',
    run: (c) => c.sealed(listOpenIdConfigs(c.ctx)),
  },
  [IDP_CONFIG_NAMED]: {
    method: 'GET',
    action: 'admin:ConfigUpdate',
    run: (c) => c.sealed(openIdConfigInfo(c.ctx, c.req.adminPath!.slice('idp-config/openid/'.length))),
  },
  'idp/builtin/policy-entities': {
    method: 'GET',
    action: 'admin:ListUserPolicies',
    run: (c) => {
      const users = c.q.getAll('user');
      const groups = c.q.getAll('group');
      const policies = c.q.getAll('policy');
      const mappings = (kind: 'user' | 'group', names: string[]) =>
        names.map((n) => {
          const h = kind === 'user' ? m.getUser(c.store, n) : m.getGroup(c.store, n);
          return { [kind]: h.name, policies: h.attached };
        });
      const byPolicy = policies.map((p) => {
        const a = m.attachmentsOf(c.store, m.getPolicy(c.store, p).name);
        return { policy: p, users: a.users, groups: a.groups };
      });
      return c.sealed({
        timestamp: new Date(c.store.now()).toISOString(),
        userMappings: mappings('user', users),
        groupMappings: mappings('group', groups),
        policyMappings: byPolicy,
      });
    },
  },
  'update-group-members': {
    method: 'PUT',
    action: 'admin:AddUserToGroup',
    run: async (c) => {
      const body = c.json();
      const group = String(body.group ?? '');
      const members = Array.isArray(body.members) ? body.members.map(String) : [];
      if (body.isRemove === true) {
        if (members.length === 0)
          await minioNames(() => m.deleteGroupIfEmpty(c.store, group), 'XMinioAdminNoSuchGroup');
        else await minioNames(() => m.changeMembers(c.store, group, members, false), 'XMinioAdminNoSuchGroup');
      } else {
        await minioNames(() => m.changeMembers(c.store, group, members, true, true), 'XMinioAdminNoSuchUser');
      }
      return ok();
    },
  },
  group: {
    method: 'GET',
    action: 'admin:GetGroup',
    run: (c) => {
      const g = minioNames(() => m.getGroup(c.store, need(c.q, 'group')), 'XMinioAdminNoSuchGroup');
      const members = g.members.map((k) => c.store.users.get(k)?.name ?? k);
      return json({
        name: g.name,
        status: g.status,
        members,
        policy: g.attached.join(','),
        updatedAt: time(g.created),
      });
    },
  },
  groups: {
    method: 'GET',
    action: 'admin:ListGroups',
    run: (c) => json([...c.store.groups.values()].map((g) => g.name)),
  },
  'set-group-status': {
    method: 'PUT',
    action: 'admin:EnableGroup',
    run: async (c) => {
      const status = need(c.q, 'status');
      if (status !== 'enabled' && status !== 'disabled')
        throw new S3Error('XMinioAdminInvalidArgument', 'status must be enabled or disabled');
      await minioNames(() => m.updateGroup(c.store, need(c.q, 'group'), { status }), 'XMinioAdminNoSuchGroup');
      return ok();
    },
  },
  'add-service-account': {
    method: 'PUT',
    action: 'admin:CreateServiceAccount',
    run: async (c) => {
      const body = await c.decrypted();
      const input = serviceAccountInput(body, '');
      const caller = c.req.caller!;
      const target = typeof body.targetUser === 'string' && body.targetUser !== '' ? body.targetUser : undefined;
      const self = ownParent(c);
      const forSelf =
        target === undefined ||
        (self?.root ? target === caller.accessKey || target === c.store.rootKey : target.toLowerCase() === self?.user);
      if (!forSelf) requireAdmin(c, 'admin:CreateServiceAccount');
      else if (!self)
        throw new S3Error(
          'XMinioAdminInvalidArgument',
          'service accounts cannot be made for credentials without a user',
        );
      // A credential narrowed by a policy (a session policy, a service account's own) would make an account with
      // all of its user's rights: refused, as the narrowing could not be carried over whole.
      else if (narrowed(c))
        throw new S3Error('AccessDenied', 'A credential narrowed by a policy cannot make service accounts');
      const parent = forSelf ? self! : { root: false, user: target! };
      const sa = await minioNames(() => m.addServiceAccount(c.store, parent, input), 'XMinioAdminNoSuchUser');
      return c.sealed({
        credentials: { accessKey: sa.accessKey, secretKey: sa.secret, expiration: time(sa.expiration) },
      });
    },
  },
  'update-service-account': {
    method: 'POST',
    action: 'admin:UpdateServiceAccount',
    run: async (c) => {
      const sa = m.getServiceAccount(c.store, need(c.q, 'accessKey'));
      if (!ownsServiceAccount(c, sa)) requireAdmin(c, 'admin:UpdateServiceAccount');
      const body = await c.decrypted();
      await m.updateServiceAccount(c.store, sa.accessKey, serviceAccountInput(body, 'new'));
      return ok();
    },
  },
  'info-service-account': {
    method: 'GET',
    action: 'admin:ListServiceAccounts',
    run: (c) => {
      const sa = m.getServiceAccount(c.store, need(c.q, 'accessKey'));
      if (!ownsServiceAccount(c, sa)) requireAdmin(c, 'admin:ListServiceAccounts');
      const { accessKey: _, ...info } = serviceAccountInfo(sa);
      return c.sealed({ ...info, policy: sa.policy ?? '' });
    },
  },
  'list-service-accounts': {
    method: 'GET',
    action: 'admin:ListServiceAccounts',
    run: (c) => {
      const named = c.q.get('user');
      const own = ownParent(c);
      const self = own?.root ? c.store.rootKey : own?.user;
      const user = named ? (named === c.store.rootKey ? named : named.toLowerCase()) : self;
      if (user !== self || narrowed(c)) requireAdmin(c, 'admin:ListServiceAccounts');
      const accounts = [...c.store.serviceAccounts.values()].filter((s) => s.parent === user).map(serviceAccountInfo);
      return c.sealed({ accounts });
    },
  },
  'delete-service-account': {
    method: 'DELETE',
    action: 'admin:RemoveServiceAccount',
    run: async (c) => {
      const sa = m.getServiceAccount(c.store, need(c.q, 'accessKey'));
      if (!ownsServiceAccount(c, sa)) requireAdmin(c, 'admin:RemoveServiceAccount');
      await m.deleteServiceAccount(c.store, sa.accessKey);
      return ok();
    },
  },
};

/** Service-account calls about one's own accounts need no admin right; about others', they do. */
const SELF_SERVICE = new Set([
  'add-service-account',
  'update-service-account',
  'info-service-account',
  'list-service-accounts',
  'delete-service-account',
]);

function requireAdmin(c: AdminCall, action: string): void {
  const r = c.req;
  const access = {
    caller: r.caller,
    headers: r.headers,
    query: r.query,
    sourceIp: r.sourceIp,
    secure: r.secure,
    auth: r.auth,
  };
  if (!isAllowedOutsideBuckets(c.ctx, access, action, 'arn:aws:s3:::*')) {
    throw new S3Error('AccessDenied', `Not allowed to perform ${action}`);
  }
}

async function attachDetach(c: AdminCall, attach: boolean): Promise<S3Response> {
  const body = await c.decrypted();
  const policies = Array.isArray(body.policies) ? body.policies.map(String) : [];
  if (policies.length === 0) throw new S3Error('XMinioAdminInvalidArgument', 'No policy names were given');
  const user = typeof body.user === 'string' && body.user !== '' ? body.user : undefined;
  const group = typeof body.group === 'string' && body.group !== '' ? body.group : undefined;
  if ((user === undefined) === (group === undefined))
    throw new S3Error('XMinioAdminInvalidArgument', 'Name a user or a group');
  const kind = user ? 'user' : 'group';
  const name = (user ?? group)!;
  const changed: string[] = [];
  for (const p of policies) {
    const policy = minioNames(() => m.getPolicy(c.store, p), 'XMinioAdminNoSuchPolicy');
    const h = minioNames(
      () => (kind === 'user' ? m.getUser(c.store, name) : m.getGroup(c.store, name)),
      user ? 'XMinioAdminNoSuchUser' : 'XMinioAdminNoSuchGroup',
    );
    const has = h.attached.some((a) => a.toLowerCase() === policy.name.toLowerCase());
    if (attach && !has) await m.attachPolicy(c.store, kind, name, policy.name);
    else if (!attach && has) await m.detachPolicy(c.store, kind, name, policy.name);
    else continue;
    changed.push(policy.name);
  }
  if (changed.length === 0) {
    throw new S3Error(
      'XMinioAdminInvalidArgument',
      attach ? 'The policies are already attached' : 'The policies are not attached',
    );
  }
  const at = new Date(c.store.now()).toISOString();
  return c.sealed(attach ? { policiesAttached: changed, updatedAt: at } : { policiesDetached: changed, updatedAt: at });
}

/** MinIO's policy mapping of LDAP DNs (a user's or a group's): the same body and answer as the builtin one's. */
async function ldapAttachDetach(c: AdminCall, attach: boolean): Promise<S3Response> {
  const body = await c.decrypted();
  const policies = Array.isArray(body.policies) ? body.policies.map(String) : [];
  if (policies.length === 0) throw new S3Error('XMinioAdminInvalidArgument', 'No policy names were given');
  const user = typeof body.user === 'string' && body.user !== '' ? body.user : undefined;
  const group = typeof body.group === 'string' && body.group !== '' ? body.group : undefined;
  if ((user === undefined) === (group === undefined))
    throw new S3Error('XMinioAdminInvalidArgument', 'Name an LDAP user DN or group DN');
  const names = policies.map((p) => minioNames(() => m.getPolicy(c.store, p), 'XMinioAdminNoSuchPolicy').name);
  const changed = await m.mapLdapPolicies(c.store, group !== undefined, (user ?? group)!, names, attach);
  if (changed.length === 0) {
    throw new S3Error(
      'XMinioAdminInvalidArgument',
      attach ? 'The policies are already attached' : 'The policies are not attached',
    );
  }
  const at = new Date(c.store.now()).toISOString();
  return c.sealed(attach ? { policiesAttached: changed, updatedAt: at } : { policiesDetached: changed, updatedAt: at });
}

export async function adminApi(ctx: ApiContext, req: ServiceRequest): Promise<S3Response> {
  if (isTierPath(req.adminPath ?? '')) return tierCall(ctx, req);
  if (isReplicationTargetPath(req.adminPath ?? '')) return replicationTargetCall(ctx, req);
  if (isServerAdminPath(req.adminPath ?? '')) return serverCall(ctx, req);
  if (isQuotaPath(req.adminPath ?? '')) {
    const authorize = adminAuthorizer(ctx, req);
    const body = () => (req.body.length === 0 ? {} : parseJson(req.body));
    return quotaAdmin({ ctx, method: req.method, path: req.adminPath!, q: req.query, body, authorize });
  }
  // idp-config/openid/NAME: one route whatever the name.
  const path = /^idp-config\/openid\/[^/]+$/.test(req.adminPath ?? '') ? IDP_CONFIG_NAMED : (req.adminPath ?? '');
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (!route)
    throw new S3Error('NotImplemented', `The admin API call ${String(req.adminPath).slice(0, 64)} is not implemented`);
  if (req.method !== route.method) throw new S3Error('MethodNotAllowed');
  const caller = req.caller;
  const secret = req.secretKey;
  if (!caller || secret === undefined || req.service !== 's3')
    throw new S3Error('AccessDenied', 'Admin requests must be signed');
  const call: AdminCall = {
    ctx,
    store: ctx.iam!,
    req,
    q: req.query,
    decrypted: async () => parseJson(await decryptData(secret, req.body)),
    json: () => parseJson(req.body),
    sealed: async (value) => ({
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: await encryptData(secret, Buffer.from(JSON.stringify(value), 'utf8')),
    }),
  };
  if (!SELF_SERVICE.has(req.adminPath!)) requireAdmin(call, route.action);
  try {
    return await route.run(call);
  } catch (e) {
    // MinIO answers a policy that does not parse as XMinioMalformedPolicy-like 400s; the IAM name is kept.
    if (isS3Error(e) && e.code === 'NoSuchEntity') throw new S3Error('XMinioAdminNoSuchUser', e.message);
    throw e;
  }
}

/** Refuses an unsigned admin call (or one signed for another service); else who may do what. */
function adminAuthorizer(ctx: ApiContext, req: ServiceRequest): (action: string) => void {
  if (!req.caller || req.secretKey === undefined || req.service !== 's3')
    throw new S3Error('AccessDenied', 'Admin requests must be signed');
  const access = {
    caller: req.caller,
    headers: req.headers,
    query: req.query,
    sourceIp: req.sourceIp,
    secure: req.secure,
    auth: req.auth,
  };
  return (action) => {
    if (!isAllowedOutsideBuckets(ctx, access, action, 'arn:aws:s3:::*'))
      throw new S3Error('AccessDenied', `Not allowed to perform ${action}`);
  };
}

/** Operating the server (api/admin): info, usage, service, trace, top locks. */
function serverCall(ctx: ApiContext, req: ServiceRequest): Promise<S3Response> {
  const authorize = adminAuthorizer(ctx, req);
  if (!ctx.server) throw new S3Error('NotImplemented', 'The server admin API is not available on this server');
  return serverAdmin({
    storage: ctx.storage,
    admin: ctx.server,
    method: req.method,
    path: req.adminPath!,
    q: req.query,
    body: () => (req.body.length === 0 ? {} : parseJson(req.body)),
    rawBody: req.body,
    decrypt: (body) => decryptData(req.secretKey!, body),
    sealed: async (body) => ({
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: await encryptData(req.secretKey!, body),
    }),
    client: req.sourceIp,
    authorize,
  });
}

/** The remote tier calls (api/tier/admin.ts), signed and authorized as the others. */
function tierCall(ctx: ApiContext, req: ServiceRequest): Promise<S3Response> {
  const authorize = adminAuthorizer(ctx, req);
  const secret = req.secretKey!;
  if (!ctx.tiers) throw new S3Error('NotImplemented', 'Remote tiers are not available on this server');
  return tierAdmin({
    tiers: ctx.tiers,
    method: req.method,
    path: req.adminPath!,
    q: req.query,
    decrypted: async () => parseJson(await decryptData(secret, req.body)),
    authorize,
    usage: ctx.server ? () => ctx.server!.usage.count() : undefined,
  });
}

/** The replication target calls (api/replication/admin.ts), signed and authorized as the others. */
function replicationTargetCall(ctx: ApiContext, req: ServiceRequest): Promise<S3Response> {
  const secret = req.secretKey;
  if (!req.caller || secret === undefined || req.service !== 's3')
    throw new S3Error('AccessDenied', 'Admin requests must be signed');
  const access = {
    caller: req.caller,
    headers: req.headers,
    query: req.query,
    sourceIp: req.sourceIp,
    secure: req.secure,
    auth: req.auth,
  };
  const host = req.headers.host;
  return replicationTargetAdmin({
    ctx,
    method: req.method,
    path: req.adminPath!,
    q: req.query,
    host: typeof host === 'string' ? host : '',
    decrypted: async () => parseJson(await decryptData(secret, req.body)),
    authorize: (action) => {
      if (!isAllowedOutsideBuckets(ctx, access, action, 'arn:aws:s3:::*'))
        throw new S3Error('AccessDenied', `Not allowed to perform ${action}`);
    },
  });
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new S3Error('XMinioAdminInvalidArgument', 'The request body is not a JSON object');
}
