// Access control lists (api/acl.ts) without a server: canned ACLs, x-amz-grant-* headers, AccessControlPolicy
// documents, their XML, the stored form on objects, what the bucket's settings refuse and the ACL a new object
// gets. test/s3/acl*.test.ts prove the same over HTTP; this file is what mutation runs (--quick) can afford.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Acl,
  ALL_USERS,
  AUTHENTICATED_USERS,
  accounts,
  accountsOf,
  aclXml,
  cannedAcl,
  checkAclAllowed,
  hasForeignGrants,
  hasPublicGrant,
  newObjectAcl,
  OBJECT_ACL_META,
  objectAcl,
  parseAclDocument,
  requestedAcl,
  withObjectAcl,
} from '../../src/api/acl.js';
import { bucketSettings } from '../../src/api/bucket-settings.js';
import { canonicalId } from '../../src/api/canonical-id.js';
import { staticCaller } from '../../src/api/iam/principal.js';
import type { ApiContext, Caller, S3Request } from '../../src/api/types.js';
import { isS3Error } from '../../src/errors.js';
import type { BucketConfig, ErasureObjects } from '../../src/storage/index.js';
import { drives, open } from '../storage/helpers.js';

const acc = accountsOf({
  root: { accessKey: 'root' },
  users: [{ accessKey: 'alice', canonicalId: 'alice-id', displayName: 'Alice A.' }, { accessKey: 'bob' }],
});

/** The S3 error code `fn` throws, or 'ok'. */
function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
}

describe('accounts', () => {
  it('canonical ids and display names: configured ones, else the SHA-256 of the key and the key', () => {
    expect(acc.rootKey).toBe('root');
    expect(acc.idOf('alice')).toBe('alice-id');
    expect(acc.idOf('bob')).toBe(canonicalId('bob'));
    expect(acc.idOf('stranger')).toBe(canonicalId('stranger'));
    expect(acc.nameOf('alice')).toBe('Alice A.');
    expect(acc.nameOf('bob')).toBe('bob');
    expect(acc.keyOf('alice-id')).toBe('alice');
    expect(acc.keyOf(canonicalId('bob'))).toBe('bob');
    expect(acc.keyOf(canonicalId('root'))).toBe('root');
    expect(acc.keyOf(canonicalId('alice'))).toBeUndefined();
  });

  it('a context without accounts has the root alone, as its owner says', () => {
    const ctx = { owner: { id: 'owner-id', displayName: 'owner' } } as ApiContext;
    const a = accounts(ctx);
    expect(a.rootKey).toBe('owner');
    expect(a.idOf('owner')).toBe('owner-id');
    expect(a.keyOf('owner-id')).toBe('owner');
    expect(accounts({ ...ctx, accounts: acc })).toBe(acc);
  });
});

describe('canned ACLs', () => {
  it('each canned ACL’s grants, the owner’s FULL_CONTROL last but for the bucket owner’s', () => {
    const own = { key: 'bob', permission: 'FULL_CONTROL' };
    expect(cannedAcl('private', 'bob', 'alice')).toEqual({ owner: 'bob', grants: [own] });
    expect(cannedAcl('public-read', 'bob', 'alice').grants).toEqual([{ uri: ALL_USERS, permission: 'READ' }, own]);
    expect(cannedAcl('public-read-write', 'bob', 'alice').grants).toEqual([
      { uri: ALL_USERS, permission: 'READ' },
      { uri: ALL_USERS, permission: 'WRITE' },
      own,
    ]);
    expect(cannedAcl('authenticated-read', 'bob', 'alice').grants).toEqual([
      { uri: AUTHENTICATED_USERS, permission: 'READ' },
      own,
    ]);
    expect(cannedAcl('bucket-owner-read', 'bob', 'alice').grants).toEqual([own, { key: 'alice', permission: 'READ' }]);
    expect(cannedAcl('bucket-owner-full-control', 'bob', 'alice').grants).toEqual([
      own,
      { key: 'alice', permission: 'FULL_CONTROL' },
    ]);
    // The bucket owner writing its own object: no second grant.
    expect(cannedAcl('bucket-owner-read', 'alice', 'alice').grants).toEqual([
      { key: 'alice', permission: 'FULL_CONTROL' },
    ]);
    expect(cannedAcl('bucket-owner-full-control', 'alice', 'alice').grants).toHaveLength(1);
    expect(cannedAcl('aws-exec-read', 'bob', 'alice').grants).toEqual([own]);
    expect(code(() => cannedAcl('public', 'bob', 'alice'))).toBe('InvalidArgument');
    expect(code(() => cannedAcl('Private', 'bob', 'alice'))).toBe('InvalidArgument');
  });
});

describe('x-amz-grant-* headers', () => {
  const grants = (h: Record<string, string | string[]>) => requestedAcl(h, 'bob', 'alice', acc);
  it('each header its permission; ids and group uris, quoted or not, several per header', () => {
    expect(
      grants({
        'x-amz-grant-full-control': 'id="alice-id"',
        'x-amz-grant-read': `uri="${ALL_USERS}", id=${canonicalId('bob')}`,
        'x-amz-grant-write': ` ID = "${canonicalId('root')}" `,
        'x-amz-grant-read-acp': `URI=${AUTHENTICATED_USERS}`,
        'x-amz-grant-write-acp': 'id="alice-id"',
      }),
    ).toEqual({
      owner: 'bob',
      grants: [
        { key: 'alice', permission: 'FULL_CONTROL' },
        { uri: ALL_USERS, permission: 'READ' },
        { key: 'bob', permission: 'READ' },
        { key: 'root', permission: 'WRITE' },
        { uri: AUTHENTICATED_USERS, permission: 'READ_ACP' },
        { key: 'alice', permission: 'WRITE_ACP' },
      ],
    });
  });

  it('none asked: undefined; x-amz-acl alone: the canned ACL; both: InvalidRequest', () => {
    expect(grants({})).toBeUndefined();
    expect(grants({ 'x-amz-grant-read': ['id="alice-id"', 'id="alice-id"'] })).toBeUndefined();
    expect(grants({ 'x-amz-acl': 'bucket-owner-read' })).toEqual(cannedAcl('bucket-owner-read', 'bob', 'alice'));
    expect(code(() => grants({ 'x-amz-acl': 'private', 'x-amz-grant-read': 'id="alice-id"' }))).toBe('InvalidRequest');
    expect(code(() => grants({ 'x-amz-acl': 'nonsense' }))).toBe('InvalidArgument');
  });

  it('refused: emails, unknown grantee types, unknown ids and groups, stray quotes, no =', () => {
    expect(code(() => grants({ 'x-amz-grant-read': 'emailAddress="a@example.com"' }))).toBe(
      'UnresolvableGrantByEmailAddress',
    );
    for (const v of [
      'name="alice"',
      'alice-id',
      'id="ali"ce-id"',
      'id="unknown-id"',
      'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
      'id="alice-id",',
    ]) {
      expect(
        code(() => grants({ 'x-amz-grant-write': v })),
        v,
      ).toBe('InvalidArgument');
    }
  });
});

describe('AccessControlPolicy documents', () => {
  const xml = (list: string) =>
    `<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList>${list}</AccessControlList></AccessControlPolicy>`;
  const grant = (grantee: string, permission: string) =>
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;
  const parse = (doc: string) => parseAclDocument(doc, 'alice', acc);

  it('grants to ids and groups; the owner stays; an empty list revokes every grant', () => {
    expect(parse(xml(grant('<ID>alice-id</ID>', 'FULL_CONTROL') + grant(`<URI>${ALL_USERS}</URI>`, 'READ')))).toEqual({
      owner: 'alice',
      grants: [
        { key: 'alice', permission: 'FULL_CONTROL' },
        { uri: ALL_USERS, permission: 'READ' },
      ],
    });
    expect(parse(xml(grant(`<ID>${canonicalId('bob')}</ID>`, 'WRITE_ACP')))).toEqual({
      owner: 'alice',
      grants: [{ key: 'bob', permission: 'WRITE_ACP' }],
    });
    expect(parse(xml(''))).toEqual({ owner: 'alice', grants: [] });
    expect(parse(xml('  \n '))).toEqual({ owner: 'alice', grants: [] });
  });

  it('refused: no list, text in it, unknown permissions, grantees without id or uri, emails, unknown ids', () => {
    const refused = (doc: string) => code(() => parse(doc));
    expect(refused('<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>')).toBe('MalformedACLError');
    expect(refused(xml('text'))).toBe('MalformedACLError');
    expect(refused(xml(grant('<ID>alice-id</ID>', 'EVERYTHING')))).toBe('MalformedACLError');
    expect(refused(xml(grant('<ID>alice-id</ID>', '')))).toBe('MalformedACLError');
    expect(refused(xml(grant('<DisplayName>a</DisplayName>', 'READ')))).toBe('MalformedACLError');
    expect(refused(xml('<Grant><Permission>READ</Permission></Grant>'))).toBe('MalformedACLError');
    expect(refused(xml(grant('<EmailAddress>a@example.com</EmailAddress>', 'READ')))).toBe(
      'UnresolvableGrantByEmailAddress',
    );
    expect(refused(xml(grant('<ID>nobody-id</ID>', 'READ')))).toBe('InvalidArgument');
    expect(refused(xml(grant('<URI>http://example.com/group</URI>', 'READ')))).toBe('InvalidArgument');
  });

  it('rendered: the owner, group grants first, each grantee with its xsi:type; read back the same', () => {
    const a: Acl = {
      owner: 'alice',
      grants: [
        { key: 'alice', permission: 'FULL_CONTROL' },
        { uri: ALL_USERS, permission: 'READ' },
        { key: 'bob', permission: 'WRITE' },
      ],
    };
    const out = aclXml(a, acc);
    expect(out).toContain('<Owner><ID>alice-id</ID><DisplayName>Alice A.</DisplayName></Owner>');
    const grantees = [...out.matchAll(/<Grantee [^>]*xsi:type="(\w+)">(.*?)<\/Grantee><Permission>(\w+)</g)].map(
      (m) => [m[1], m[2], m[3]],
    );
    expect(grantees).toEqual([
      ['Group', `<URI>${ALL_USERS}</URI>`, 'READ'],
      ['CanonicalUser', '<ID>alice-id</ID><DisplayName>Alice A.</DisplayName>', 'FULL_CONTROL'],
      ['CanonicalUser', `<ID>${canonicalId('bob')}</ID><DisplayName>bob</DisplayName>`, 'WRITE'],
    ]);
    expect(out).toContain('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"');
    expect(parseAclDocument(out, 'alice', acc).grants).toEqual([a.grants[1], a.grants[0], a.grants[2]]);
  });
});

describe('stored with objects', () => {
  it('the ACL is a reserved metadata entry: set, replaced, removed, unreadable as none', () => {
    const a: Acl = { owner: 'bob', grants: [{ key: 'bob', permission: 'FULL_CONTROL' }] };
    const meta = withObjectAcl({ 'x-amz-meta-a': '1' }, a);
    expect(meta).toEqual({ 'x-amz-meta-a': '1', [OBJECT_ACL_META]: JSON.stringify(a) });
    expect(objectAcl(meta)).toEqual(a);
    expect(withObjectAcl(meta, undefined)).toEqual({ 'x-amz-meta-a': '1' });
    expect(objectAcl({ 'x-amz-meta-a': '1' })).toBeUndefined();
    expect(objectAcl({ [OBJECT_ACL_META]: '{' })).toBeUndefined();
  });

  it('public grants and grants to others than the owner', () => {
    const own = { key: 'bob', permission: 'FULL_CONTROL' } as const;
    expect(hasPublicGrant({ owner: 'bob', grants: [own, { uri: ALL_USERS, permission: 'READ' }] })).toBe(true);
    expect(hasPublicGrant({ owner: 'bob', grants: [{ uri: AUTHENTICATED_USERS, permission: 'READ' }] })).toBe(true);
    expect(hasPublicGrant({ owner: 'bob', grants: [own, { key: 'alice', permission: 'READ' }] })).toBe(false);
    expect(hasPublicGrant(undefined)).toBe(false);
    expect(hasForeignGrants({ owner: 'bob', grants: [own] })).toBe(false);
    expect(hasForeignGrants({ owner: 'bob', grants: [own, { key: 'alice', permission: 'READ' }] })).toBe(true);
    expect(hasForeignGrants({ owner: 'bob', grants: [{ uri: ALL_USERS, permission: 'READ' }] })).toBe(true);
    expect(hasForeignGrants(undefined)).toBe(false);
  });
});

describe('what the bucket’s settings allow, and the ACL of a new object', () => {
  let d: Awaited<ReturnType<typeof drives>>;
  let storage: ErasureObjects;
  let ctx: ApiContext;
  let n = 0;
  beforeAll(async () => {
    d = await drives(1); // one drive: the decisions read storage, they do not test it
    storage = await open(d.paths);
    ctx = {
      storage,
      region: 'us-east-1',
      owner: { id: canonicalId('root'), displayName: 'root' },
      accounts: acc,
      now: () => Date.now(),
    };
  });
  afterAll(async () => {
    await storage.close();
    await d.cleanup();
  });
  const bucket = async (config: BucketConfig) => {
    const name = `acl-${++n}`;
    await storage.makeBucket(name, { owner: 'alice', ...config });
    return name;
  };
  const ownership = (rule: string) =>
    `<OwnershipControls><Rule><ObjectOwnership>${rule}</ObjectOwnership></Rule></OwnershipControls>`;
  const blockAcls =
    '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>';
  const bob = staticCaller('bob', canonicalId('bob'));
  const alice = staticCaller('alice', 'alice-id');
  async function created(b: string, caller: Caller | undefined, headers: Record<string, string> = {}) {
    const req = { caller, headers, query: new URLSearchParams(), sourceIp: '127.0.0.1', secure: false, auth: {} };
    try {
      return await newObjectAcl(ctx, req as unknown as S3Request, b);
    } catch (e) {
      if (isS3Error(e)) return e.code;
      throw e;
    }
  }

  it('checkAclAllowed: none under BucketOwnerEnforced; no group grants under BlockPublicAcls', async () => {
    const mine: Acl = { owner: 'alice', grants: [{ key: 'bob', permission: 'READ' }] };
    const pub: Acl = { owner: 'alice', grants: [{ uri: AUTHENTICATED_USERS, permission: 'READ' }] };
    const settings = async (config: BucketConfig) => bucketSettings(ctx, await bucket(config));
    const enforced = await settings({ ownershipControls: ownership('BucketOwnerEnforced') });
    expect(code(() => checkAclAllowed(enforced, mine))).toBe('AccessControlListNotSupported');
    const blocked = await settings({ publicAccessBlock: blockAcls });
    expect(code(() => checkAclAllowed(blocked, pub))).toBe('AccessDenied');
    expect(code(() => checkAclAllowed(blocked, mine))).toBe('ok');
    const plain = await settings({});
    expect(code(() => checkAclAllowed(plain, pub))).toBe('ok');
  });

  it('a new object: the bucket owner’s stores none, another writer’s is private to it, asked ones are checked', async () => {
    const b = await bucket({});
    expect(await created(b, alice)).toBeUndefined();
    expect(await created(b, undefined)).toBeUndefined();
    expect(await created(b, bob)).toEqual(cannedAcl('private', 'bob', 'alice'));
    expect(await created(b, bob, { 'x-amz-acl': 'public-read' })).toEqual(cannedAcl('public-read', 'bob', 'alice'));
    expect(await created(b, alice, { 'x-amz-grant-read': 'id="alice-id"' })).toEqual({
      owner: 'alice',
      grants: [{ key: 'alice', permission: 'READ' }],
    });
    // BucketOwnerPreferred: bucket-owner-full-control makes it the bucket owner's.
    const preferred = await bucket({ ownershipControls: ownership('BucketOwnerPreferred') });
    expect(await created(preferred, bob, { 'x-amz-acl': 'bucket-owner-full-control' })).toEqual({
      owner: 'alice',
      grants: [{ key: 'alice', permission: 'FULL_CONTROL' }],
    });
    expect(await created(preferred, bob, { 'x-amz-acl': 'bucket-owner-read' })).toEqual(
      cannedAcl('bucket-owner-read', 'bob', 'alice'),
    );
    expect(await created(b, bob, { 'x-amz-acl': 'bucket-owner-full-control' })).toEqual(
      cannedAcl('bucket-owner-full-control', 'bob', 'alice'),
    );
    // BucketOwnerEnforced: only bucket-owner-full-control (or nothing) is accepted, and nothing is stored.
    const enforced = await bucket({ ownershipControls: ownership('BucketOwnerEnforced') });
    expect(await created(enforced, bob)).toBeUndefined();
    expect(await created(enforced, bob, { 'x-amz-acl': 'bucket-owner-full-control' })).toBeUndefined();
    expect(await created(enforced, bob, { 'x-amz-acl': 'private' })).toBe('AccessControlListNotSupported');
    expect(await created(enforced, alice, { 'x-amz-grant-read': 'id="alice-id"' })).toBe(
      'AccessControlListNotSupported',
    );
    // BlockPublicAcls refuses group grants asked for.
    const blocked = await bucket({ publicAccessBlock: blockAcls });
    expect(await created(blocked, bob, { 'x-amz-acl': 'public-read' })).toBe('AccessDenied');
    expect(await created(blocked, bob, { 'x-amz-acl': 'private' })).toEqual(cannedAcl('private', 'bob', 'alice'));
  });
});
