// IAM's state in memory: users, groups, managed policies, roles and service accounts, loaded from the drives
// at start-up (persist.ts) and changed only through `put`/`drop` (manage.ts decides what to change), one
// change at a time. Authentication asks it for the secret and caller of an access key or an STS session
// token; authorization asks it for the statements of a caller's identity policies that name an action.
//
// What is derived is cached and dropped on any change: callers per access key, the
// compiled form of every policy document (once per document text), and per user or role the statements of
// all its policies (its own, its groups', attached managed ones) indexed by action. With several processes
// serving the same drives, changes run under their shared lock and a change in another process arrives
// through `reload` (notify.ts).
import { createHash } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { ObjectLayer } from '../../storage/object-layer.js';
import {
  compilePolicy,
  StatementIndex,
  unionOf,
  type CompiledPolicy,
  type PolicyKind,
  type PolicyStatement,
} from '../policy-document.js';
import type { Accounts, ApiLogger, Caller } from '../types.js';
import { normalizeDn } from './ldap.js';
import { iamAlone, type IamChange, type IamSharing } from './notify.js';
import { oidcProviderId, type OidcProviderRecord, webIdentityKeys } from './oidc-providers.js';
import { IamPersistence, type RecordKind } from './persist.js';
import {
  derivedCaller,
  ldapSessionCaller,
  openIdSessionCaller,
  rootCaller,
  roleSessionCaller,
  staticCaller,
  userCaller,
  type IamIdentity,
} from './principal.js';
import {
  CANNED_POLICIES,
  type GroupRecord,
  type LdapMappingRecord,
  type ManagedPolicyRecord,
  type PolicyHolder,
  type RoleRecord,
  type ServiceAccountRecord,
  type UserRecord,
} from './records.js';
import { Sealer } from './seal.js';
import { openToken, type SessionClaims } from './session-token.js';

export type { IamIdentity } from './principal.js';

/** The key of an LDAP DN's mapping (a hash: DNs hold characters object names should not). */
export const ldapMappingId = (isGroup: boolean, dn: string): string =>
  `${isGroup ? 'group' : 'user'}-${createHash('sha256').update(normalizeDn(dn)).digest('hex')}`;

export interface IamStoreOptions {
  storage: ObjectLayer;
  root: { accessKey: string; secretKey: string };
  /** CAIRN_USERS / CAIRN_USERS_FILE. */
  staticUsers: { accessKey: string; secretKey: string }[];
  accounts: Accounts;
  now(): number;
  log?: ApiLogger;
  /** The other processes serving the same drives (cairn server --workers); none by default. */
  sharing?: IamSharing;
}

/** What authentication gets for an access key: the secret to check the signature with, and the caller. */
export interface Credential {
  secret: string;
  caller: Caller;
}

/** The statements of a user's or role's identity policies, per action and indexed by resource (built on first use). */
class EffectivePolicies {
  private readonly memo = new Map<string, StatementIndex>();
  /** Some condition reads the object's own tags (s3:ExistingObjectTag/...). */
  readonly readsObjectTags: boolean;
  constructor(readonly policies: readonly CompiledPolicy[]) {
    this.readsObjectTags = policies.some((p) => p.readsObjectTags);
  }
  forAction(action: string): StatementIndex {
    let hit = this.memo.get(action);
    if (!hit) {
      if (this.policies.length === 1) hit = this.policies[0].forAction(action);
      else {
        const statements: PolicyStatement[] = [];
        for (const p of this.policies) for (const st of p.forAction(action).statements) statements.push(st);
        hit = new StatementIndex(statements);
      }
      this.memo.set(action, hit);
    }
    return hit;
  }
}

const COMPILED_LIMIT = 50_000;
const SESSION_CACHE_LIMIT = 10_000;

export class IamStore {
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly policies = new Map<string, ManagedPolicyRecord>();
  readonly roles = new Map<string, RoleRecord>();
  readonly serviceAccounts = new Map<string, ServiceAccountRecord>();
  /** Policies mapped to LDAP DNs, by ldapMappingId. */
  readonly ldapMappings = new Map<string, LdapMappingRecord>();
  /** IAM's OpenID Connect provider objects, by oidcProviderId. */
  readonly oidcProviders = new Map<string, OidcProviderRecord>();
  readonly sealer: Sealer;
  readonly rootKey: string;
  private readonly rootSecret: string;
  /** Access key -> the user (lower-cased name) it belongs to. */
  private readonly keyOwner = new Map<string, string>();
  private readonly staticSecrets = new Map<string, string>();
  private readonly persistence: IamPersistence;
  private readonly callers = new Map<string, Credential>();
  private readonly effective = new Map<string, EffectivePolicies>();
  /**
   * The same, by the caller's identity object (kept per access key and per session token): a request finds
   * its policies without building and hashing the key of `effective`. Replaced on any change.
   */
  private byIdentity = new WeakMap<IamIdentity, EffectivePolicies | null>();
  private readonly compiled = new Map<PolicyKind, Map<string, CompiledPolicy>>();
  private readonly sessions = new Map<string, { claims: SessionClaims; policy?: CompiledPolicy }>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sharing: IamSharing;
  /** The load under way: another process's change waits for it, then reads its record over the snapshot. */
  private loading: Promise<void> = Promise.resolve();

  constructor(readonly opts: IamStoreOptions) {
    this.rootKey = opts.root.accessKey;
    this.rootSecret = opts.root.secretKey;
    this.sealer = new Sealer(opts.root.accessKey, opts.root.secretKey, opts.storage.deploymentId);
    this.persistence = new IamPersistence(opts.storage, this.sealer, opts.log);
    for (const u of opts.staticUsers) this.staticSecrets.set(u.accessKey, u.secretKey);
    this.reset();
    this.sharing = opts.sharing ?? iamAlone;
    this.sharing.subscribe(
      (change) => this.reload(change),
      () => this.load(),
    );
  }

  now(): number {
    return this.opts.now();
  }

  /** The in-memory state without anything stored: the canned policies and the static users. */
  private reset(): void {
    for (const m of [
      this.users,
      this.groups,
      this.policies,
      this.roles,
      this.serviceAccounts,
      this.ldapMappings,
      this.oidcProviders,
    ])
      m.clear();
    this.keyOwner.clear();
    for (const [name, doc] of Object.entries(CANNED_POLICIES)) {
      const text = JSON.stringify(doc);
      this.policies.set(name.toLowerCase(), {
        name,
        path: '/',
        id: `ANPA${name.toUpperCase().padEnd(17, 'X').slice(0, 17)}`,
        created: 0,
        updated: 0,
        versions: [{ id: 'v1', document: text, created: 0 }],
        defaultVersion: 'v1',
        builtin: true,
      });
    }
    for (const key of this.staticSecrets.keys()) this.applyUser(key.toLowerCase(), this.staticUser(key));
    this.changed();
  }

  private staticUser(key: string, stored?: UserRecord): UserRecord {
    return {
      name: key,
      path: '/',
      id: key,
      created: stored?.created ?? 0,
      status: 'enabled',
      keys: [{ id: key, secret: this.staticSecrets.get(key)!, status: 'Active', created: 0 }],
      tags: stored?.tags ?? {},
      inline: stored?.inline ?? {},
      attached: stored?.attached ?? [],
      static: true,
    };
  }

  /** Reads everything stored (start-up). */
  load(): Promise<void> {
    this.loading = this.loadAll();
    return this.loading;
  }

  private async loadAll(): Promise<void> {
    const snap = await this.persistence.readAll();
    this.reset();
    for (const u of snap.users) {
      const key = u.name.toLowerCase();
      const env = [...this.staticSecrets.keys()].find((k) => k.toLowerCase() === key);
      this.applyUser(key, env ? this.staticUser(env, u) : u);
    }
    for (const g of snap.groups) this.groups.set(g.name.toLowerCase(), g);
    for (const p of snap.policies)
      if (!this.policies.get(p.name.toLowerCase())?.builtin) this.policies.set(p.name.toLowerCase(), p);
    for (const r of snap.roles) this.roles.set(r.name.toLowerCase(), r);
    for (const s of snap.serviceAccounts) this.serviceAccounts.set(s.accessKey, s);
    for (const l of snap.ldapMappings) this.ldapMappings.set(ldapMappingId(l.isGroup, l.dn), l);
    for (const o of snap.oidcProviders) this.oidcProviders.set(oidcProviderId(o.url), o);
    this.changed();
  }

  /**
   * Runs `fn` with no other change running, in this process or another sharing the drives (read-modify-write of
   * several records stays consistent: every change made elsewhere was applied here before the lock passed on).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const locked = async () => {
      const release = await this.sharing.lock();
      try {
        return await fn();
      } finally {
        release();
      }
    };
    const run = this.queue.then(locked, locked);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Stores a record and applies it (the write first: a failed write changes nothing in memory). */
  async put(kind: RecordKind, id: string, record: object): Promise<void> {
    await this.persistence.write(
      kind,
      id,
      kind === 'user' && (record as UserRecord).static ? { ...record, keys: [] } : record,
    );
    this.apply(kind, id, record);
    await this.sharing.publish({ kind, id });
  }

  async drop(kind: RecordKind, id: string): Promise<void> {
    await this.persistence.remove(kind, id);
    this.apply(kind, id, undefined);
    await this.sharing.publish({ kind, id });
  }

  /** A change made by another process: read the record again (the IAM-changed notification, notify.ts). */
  async reload(change: IamChange): Promise<void> {
    await this.loading.catch(() => {});
    const record = await this.persistence.read(change.kind, change.id);
    const env = [...this.staticSecrets.keys()].find((k) => k.toLowerCase() === change.id.toLowerCase());
    if (change.kind === 'user' && env) this.apply('user', change.id, this.staticUser(env, record as UserRecord));
    else this.apply(change.kind, change.id, record);
  }

  private applyUser(key: string, u: UserRecord | undefined): void {
    const old = this.users.get(key);
    for (const k of old?.keys ?? []) this.keyOwner.delete(k.id);
    if (u) {
      this.users.set(key, u);
      for (const k of u.keys) this.keyOwner.set(k.id, key);
    } else this.users.delete(key);
  }

  /** Takes a record already stored (or gone: undefined) into memory; put, drop, reload and bench setups use it. */
  apply(kind: RecordKind, id: string, record: object | undefined): void {
    const key =
      kind === 'service-account' || kind === 'ldap-mapping' || kind === 'oidc-provider' ? id : id.toLowerCase();
    const maps: Record<Exclude<RecordKind, 'user'>, Map<string, object>> = {
      group: this.groups,
      policy: this.policies,
      role: this.roles,
      'service-account': this.serviceAccounts,
      'ldap-mapping': this.ldapMappings,
      'oidc-provider': this.oidcProviders,
    };
    if (kind === 'user') this.applyUser(key, record as UserRecord | undefined);
    else if (record) maps[kind].set(key, record);
    else maps[kind].delete(key);
    this.changed();
  }

  private changed(): void {
    this.callers.clear();
    this.effective.clear();
    this.byIdentity = new WeakMap();
    this.sessions.clear();
  }

  /** The compiled form of a document (cached by its text); MalformedPolicy when it is not a valid policy. */
  compile(text: string, kind: PolicyKind): CompiledPolicy {
    // Keyed by the text itself (not a string built from it): V8 keeps a string's hash, so a stored document
    // is hashed once, not once per lookup.
    let byText = this.compiled.get(kind);
    if (!byText) this.compiled.set(kind, (byText = new Map()));
    let p = byText.get(text);
    if (!p) {
      if (byText.size >= COMPILED_LIMIT) byText.clear();
      p = compilePolicy(text, { kind });
      byText.set(text, p);
    }
    return p;
  }

  /** Is this access key taken by anyone (root, a user, a service account)? */
  keyInUse(accessKey: string): boolean {
    return accessKey === this.rootKey || this.keyOwner.has(accessKey) || this.serviceAccounts.has(accessKey);
  }

  /** The groups a user is in (enabled or not). */
  groupsOf(userKey: string): GroupRecord[] {
    return [...this.groups.values()].filter((g) => g.members.includes(userKey));
  }

  /** The managed policy a name or ARN refers to. */
  managedPolicy(nameOrArn: string): ManagedPolicyRecord | undefined {
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
    return this.policies.get(name.toLowerCase());
  }

  private holderPolicies(h: PolicyHolder): CompiledPolicy[] {
    const out: CompiledPolicy[] = [];
    for (const text of Object.values(h.inline)) out.push(this.compile(text, 'identity'));
    for (const name of h.attached) {
      const p = this.policies.get(name.toLowerCase());
      const v = p?.versions.find((x) => x.id === p.defaultVersion);
      if (v) out.push(this.compile(v.document, 'identity'));
    }
    return out;
  }

  /** The identity policies of a user or role, per action; undefined for root (and unknown principals). */
  identityPolicies(iam: IamIdentity): EffectivePolicies | undefined {
    const known = this.byIdentity.get(iam);
    if (known !== undefined) return known ?? undefined;
    const eff = this.identityPoliciesById(iam);
    this.byIdentity.set(iam, eff ?? null);
    return eff;
  }

  private identityPoliciesById(iam: IamIdentity): EffectivePolicies | undefined {
    const id =
      iam.role !== undefined
        ? `role:${iam.role}`
        : iam.user !== undefined
          ? `user:${iam.user}`
          : iam.ldap !== undefined
            ? `ldap:${[iam.ldap.user, ...iam.ldap.groups].join('\n')}`
            : iam.openid !== undefined
              ? `openid:${iam.openid.policies.join('\n')}`
              : undefined;
    if (id === undefined) return undefined;
    let eff = this.effective.get(id);
    if (!eff) {
      const policies: CompiledPolicy[] = [];
      if (iam.role !== undefined) {
        const r = this.roles.get(iam.role);
        if (r) policies.push(...this.holderPolicies(r));
      } else if (iam.openid !== undefined) {
        // Looked up on every use: a policy deleted since the login gives nothing, a changed one its new rights.
        policies.push(...this.holderPolicies({ inline: {}, attached: [...iam.openid.policies] }));
      } else if (iam.ldap !== undefined) {
        for (const m of this.ldapMappingsOf(iam.ldap.user, iam.ldap.groups))
          policies.push(...this.holderPolicies({ inline: {}, attached: m.attached }));
      } else {
        const u = this.users.get(iam.user!);
        if (u) policies.push(...this.holderPolicies(u));
        for (const g of this.groupsOf(iam.user!)) if (g.status === 'enabled') policies.push(...this.holderPolicies(g));
      }
      eff = new EffectivePolicies(policies);
      this.effective.set(id, eff);
    }
    return eff;
  }

  /** The mappings of an LDAP user's DN and group DNs (normalized) that exist. */
  ldapMappingsOf(userDn: string, groupDns: readonly string[]): LdapMappingRecord[] {
    const ids = [ldapMappingId(false, userDn), ...groupDns.map((g) => ldapMappingId(true, g))];
    return ids.flatMap((id) => this.ldapMappings.get(id) ?? []);
  }

  private canonicalId(key: string): string {
    return this.opts.accounts.idOf(key);
  }

  /** The caller a long-term access key stands for, and its secret; undefined for keys no one has (or disabled). */
  credential(accessKey: string): Credential | undefined {
    let found = this.callers.get(accessKey);
    if (!found) {
      found = this.findCredential(accessKey);
      if (found) this.callers.set(accessKey, found);
    }
    // A service account's expiry is checked on every use (the cache outlives it).
    const expires = found?.caller.iam.expires;
    return expires !== undefined && this.now() >= expires ? undefined : found;
  }

  private findCredential(accessKey: string): Credential | undefined {
    if (accessKey === this.rootKey) {
      return { secret: this.rootSecret, caller: rootCaller(accessKey, this.canonicalId(accessKey)) };
    }
    const owner = this.keyOwner.get(accessKey);
    if (owner !== undefined) {
      const u = this.users.get(owner)!;
      const k = u.keys.find((x) => x.id === accessKey)!;
      if (u.status !== 'enabled' || k.status !== 'Active') return undefined;
      return { secret: k.secret, caller: this.userCallerOf(u, accessKey) };
    }
    const sa = this.serviceAccounts.get(accessKey);
    if (sa) {
      if (sa.status !== 'enabled') return undefined;
      const parent = this.parentCaller(sa);
      if (!parent) return undefined;
      const restrictions = sa.policy ? [this.compile(sa.policy, 'identity')] : [];
      return {
        secret: sa.secret,
        caller: derivedCaller(parent, accessKey, 'service-account', restrictions, sa.expiration),
      };
    }
    return undefined;
  }

  private userCallerOf(u: UserRecord, accessKey: string): Caller {
    return u.static ? staticCaller(u.name, this.canonicalId(u.name), u.tags) : userCaller(accessKey, this.rootKey, u);
  }

  /** The caller a service account acts for: its parent user (enabled), or root. */
  private parentCaller(sa: ServiceAccountRecord): Caller | undefined {
    if (sa.parentIsRoot) return rootCaller(this.rootKey, this.canonicalId(this.rootKey));
    const u = this.users.get(sa.parent);
    if (u?.status !== 'enabled') return undefined;
    return this.userCallerOf(u, u.keys[0]?.id ?? u.name);
  }

  /**
   * The caller of STS credentials: the token must open (InvalidToken), belong to this access key (InvalidToken),
   * be unexpired to the second (ExpiredToken), and its parent and role must still exist and be enabled
   * (AccessDenied), so disabling or deleting them ends their sessions at once.
   */
  session(accessKey: string, token: string): Credential {
    let s = this.sessions.get(token);
    if (!s) {
      const claims = openToken(this.sealer, token);
      if (!claims) throw new S3Error('InvalidToken');
      s = { claims, policy: this.sessionRestriction(claims) };
      if (this.sessions.size >= SESSION_CACHE_LIMIT) this.sessions.clear();
      this.sessions.set(token, s);
    }
    const c = s.claims;
    if (c.ak !== accessKey) throw new S3Error('InvalidToken');
    if (this.now() >= c.exp * 1000) throw new S3Error('ExpiredToken');
    const restrictions = s.policy ? [s.policy] : [];
    // An LDAP session's rights are the policies mapped to its DNs now (a mapping removed cuts them at once).
    if (c.ldap) {
      return { secret: c.sk, caller: ldapSessionCaller(accessKey, this.rootKey, c.ldap, restrictions, c.exp * 1000) };
    }
    if (c.openid) {
      return {
        secret: c.sk,
        caller: openIdSessionCaller(accessKey, this.rootKey, c.openid, restrictions, c.exp * 1000),
      };
    }
    // A web identity login into a role has no parent credential: the role alone must still be there; so must
    // the role of such a login at the start of a role chain.
    const webRole = c.parent.webRole;
    if (webRole && this.roles.get(webRole.name)?.id !== webRole.id) {
      throw new S3Error('AccessDenied', 'The role the web identity login of this role chain assumed is gone');
    }
    if (!c.web && !webRole) {
      const parent = this.sessionParent(c);
      if (!parent)
        throw new S3Error('AccessDenied', 'The credentials these temporary credentials came from are gone or disabled');
      if (!c.role)
        return { secret: c.sk, caller: derivedCaller(parent, accessKey, 'session', restrictions, c.exp * 1000) };
    }
    const role = c.role && this.roles.get(c.role.name);
    if (!role || role.id !== c.role!.id) throw new S3Error('AccessDenied', 'The role of these credentials is gone');
    const claims = c.web && webIdentityKeys(c.web.provider, c.web.claims);
    const caller = roleSessionCaller(
      accessKey,
      this.rootKey,
      role,
      c.role!.session,
      restrictions,
      c.exp * 1000,
      claims,
      { tags: c.tags, sourceIdentity: c.sourceIdentity },
    );
    return { secret: c.sk, caller };
  }

  /** The claims of a session's token, once it is valid now (else the error `session` gives). */
  sessionClaims(accessKey: string, token: string): SessionClaims {
    this.session(accessKey, token);
    return this.sessions.get(token)!.claims;
  }

  /**
   * A session's policies as one restriction: its inline Policy and the managed policies its PolicyArns named,
   * as they are now (a managed policy deleted since narrows the session to what is left).
   */
  private sessionRestriction(c: SessionClaims): CompiledPolicy | undefined {
    if (c.policy === undefined && c.policyArns === undefined) return undefined;
    const parts = c.policy === undefined ? [] : [this.compile(c.policy, 'session')];
    parts.push(...this.holderPolicies({ inline: {}, attached: c.policyArns ?? [] }));
    return unionOf('session', parts);
  }

  private sessionParent(c: SessionClaims): Caller | undefined {
    const p = c.parent;
    if (p.kind === 'root')
      return p.key === this.rootKey ? rootCaller(this.rootKey, this.canonicalId(this.rootKey)) : undefined;
    if (p.kind === 'service-account') {
      const sa = this.serviceAccounts.get(p.key);
      return sa ? this.credential(p.key)?.caller : undefined;
    }
    const u = this.users.get(p.user ?? '');
    if (!u || u.id !== p.userId || u.status !== 'enabled') return undefined;
    return this.userCallerOf(u, p.key);
  }
}
