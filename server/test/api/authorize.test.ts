// Authorization's decisions (authorize.ts, acl.ts's aclAllows), asked directly without a server: root, the
// bucket owner's implicit rights, identity policies (a real IamStore), bucket policies, ACLs (bucket and
// object), the public access block, object ownership, narrowed credentials (service accounts), conditions on
// the object's tags, the expected-owner header and what a refused read learns. Real storage on temporary
// drives; the test/s3 authorization suites prove the same rules over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsOf, aclAllows, OBJECT_ACL_META, type Acl } from '../../src/api/acl.js';
import {
  type AccessRequest,
  authorize,
  authorizeOperation,
  checkExpectedOwner,
  isAllowed,
  isAllowedOutsideBuckets,
  type Resource,
} from '../../src/api/authorize.js';
import { canonicalId } from '../../src/api/canonical-id.js';
import { derivedCaller, rootCaller, staticCaller, userCaller } from '../../src/api/iam/principal.js';
import { IamStore } from '../../src/api/iam/store.js';
import type { Operation } from '../../src/api/operation.js';
import { compilePolicy } from '../../src/api/policy-document.js';
import type { ApiContext, Caller } from '../../src/api/types.js';
import { isS3Error } from '../../src/errors.js';
import { SYSTEM_BUCKET, type BucketConfig, type ErasureObjects } from '../../src/storage/index.js';
import { body, drives, open } from '../storage/helpers.js';

const root = rootCaller('root', canonicalId('root'));
const alice = staticCaller('alice', canonicalId('alice'));
const bob = staticCaller('bob', canonicalId('bob'));
const ivan = userCaller('ivan-key', 'root', { name: 'ivan', path: '/', id: 'AIDAIVAN', tags: { team: 'blue' } });
const nobody = userCaller('nobody-key', 'root', { name: 'nobody', path: '/', id: 'AIDANOBODY', tags: {} });

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const narrowed = (parent: Caller, ...statements: object[]) =>
  derivedCaller(parent, `${parent.accessKey}-sa`, 'service-account', [
    compilePolicy(doc(...statements), { kind: 'session' }),
  ]);

function request(caller: Caller | undefined, headers: Record<string, string> = {}): AccessRequest {
  return { caller, headers, query: new URLSearchParams(), sourceIp: '10.1.2.3', secure: false, auth: {} };
}

/** The S3 error code a promise is refused with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
}

describe('authorization decisions', () => {
  let d: Awaited<ReturnType<typeof drives>>;
  let storage: ErasureObjects;
  let ctx: ApiContext;
  let n = 0;
  beforeAll(async () => {
    d = await drives(1); // one drive: the decisions read storage, they do not test it
    storage = await open(d.paths);
    const accounts = accountsOf({ root: { accessKey: 'root' }, users: [{ accessKey: 'alice' }, { accessKey: 'bob' }] });
    const iam = new IamStore({
      storage,
      root: { accessKey: 'root', secretKey: 'root-secret-key' },
      staticUsers: [
        { accessKey: 'alice', secretKey: 'alice-secret-key' },
        { accessKey: 'bob', secretKey: 'bob-secret-key' },
      ],
      accounts,
      now: () => Date.now(),
    });
    await iam.load();
    ctx = {
      storage,
      region: 'us-east-1',
      owner: { id: canonicalId('root'), displayName: 'root' },
      accounts,
      iam,
      now: () => Date.now(),
    };
    const user = (name: string, inline: Record<string, string>, isStatic = false) =>
      iam.put('user', name, {
        name,
        path: '/',
        id: isStatic ? name : `AIDA${name.toUpperCase()}`,
        created: 0,
        status: 'enabled',
        keys: [],
        tags: {},
        inline,
        attached: [],
        ...(isStatic ? { static: true } : {}),
      });
    await user('ivan', {
      read: doc(
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListAllMyBuckets'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::*/tagged/*',
          Condition: { StringEquals: { 's3:ExistingObjectTag/team': 'blue' } },
        },
        { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/secret/*' },
      ),
    });
    await user('nobody', {});
    // alice (a static user, an account) denies herself deleting objects, her bucket policy and buckets tagged env=forbidden.
    await user(
      'alice',
      {
        limits: doc(
          { Effect: 'Deny', Action: ['s3:DeleteObject', 's3:PutBucketPolicy'], Resource: '*' },
          {
            Effect: 'Deny',
            Action: 's3:CreateBucket',
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestTag/env': 'forbidden' } },
          },
        ),
      },
      true,
    );
  });
  afterAll(async () => {
    await storage.close();
    await d.cleanup();
  });

  /** A new bucket of `owner` (absent: root) with that configuration. */
  async function bucket(owner: string | undefined, config: BucketConfig = {}): Promise<string> {
    const name = `b${String(++n).padStart(2, '0')}`;
    await storage.makeBucket(name, { ...(owner ? { owner } : {}), ...config });
    return name;
  }
  const acl = (owner: string, ...grants: Acl['grants']) => JSON.stringify({ owner, grants } satisfies Acl);
  const publicAccessBlock = (flags: Record<string, boolean>) =>
    `<PublicAccessBlockConfiguration>${Object.entries(flags)
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('')}</PublicAccessBlockConfiguration>`;
  const ownership = (rule: string) =>
    `<OwnershipControls><Rule><ObjectOwnership>${rule}</ObjectOwnership></Rule></OwnershipControls>`;
  /**
   * Writes a one-byte object, then waits for the clock to pass its time: storage orders versions written in the
   * same millisecond by their random ids (meta/versions.ts newerFirst), not by write order.
   */
  async function putObject(b: string, key: string, meta: Record<string, string> = {}, tagging?: string) {
    const info = await storage.putObject(b, key, body(Buffer.from('x')), { size: 1, userMetadata: meta, tagging });
    while (Date.now() <= info.lastModified.getTime()) await new Promise((r) => setTimeout(r, 1));
    return info;
  }
  const allowed = (caller: Caller | undefined, action: string, r: Resource) =>
    isAllowed(ctx, request(caller), action, r);

  it('root may do anything, whatever the bucket says; Cairn’s own bucket is no bucket, even for root', async () => {
    const b = await bucket('alice', {
      policy: doc({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::b*`] }),
    });
    expect(await allowed(root, 's3:GetObject', { bucket: b, key: 'k' })).toBe(true);
    expect(await allowed(root, 's3:DeleteBucket', { bucket: b })).toBe(true);
    expect(await outcome(allowed(root, 's3:ListBucket', { bucket: SYSTEM_BUCKET }))).toBe('NoSuchBucket');
    expect(await outcome(allowed(alice, 's3:ListBucket', { bucket: SYSTEM_BUCKET }))).toBe('NoSuchBucket');
    expect(await outcome(allowed(alice, 's3:ListBucket', { bucket: 'no-such-bucket' }))).toBe('NoSuchBucket');
    expect(await outcome(allowed(undefined, 's3:ListBucket', { bucket: 'no-such-bucket' }))).toBe('NoSuchBucket');
    // A root credential narrowed by a policy is not root.
    const rootSa = narrowed(root, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(rootSa.root).toBe(false);
    expect(await allowed(rootSa, 's3:GetObject', { bucket: b, key: 'k' })).toBe(false);
  });

  it('an account owns its buckets: anything on them, nothing on the others; IAM users own nothing', async () => {
    const mine = await bucket('alice');
    const roots = await bucket(undefined);
    expect(await allowed(alice, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(true);
    expect(await allowed(alice, 's3:PutBucketAcl', { bucket: mine })).toBe(true);
    expect(await allowed(bob, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(false);
    expect(await allowed(bob, 's3:ListBucket', { bucket: mine })).toBe(false);
    expect(await allowed(undefined, 's3:ListBucket', { bucket: mine })).toBe(false);
    // A bucket with no recorded owner is root's: root's IAM users act for root but have no owner's rights.
    expect(await allowed(alice, 's3:ListBucket', { bucket: roots })).toBe(false);
    expect(await allowed(nobody, 's3:ListBucket', { bucket: roots })).toBe(false);
    expect(await allowed(nobody, 's3:GetObject', { bucket: roots, key: 'k' })).toBe(false);
  });

  it('identity policies: an Allow reaches any bucket, a Deny beats ownership (but not policy management)', async () => {
    const mine = await bucket('alice');
    const bobs = await bucket('bob');
    expect(await allowed(ivan, 's3:GetObject', { bucket: bobs, key: 'k' })).toBe(true);
    expect(await allowed(ivan, 's3:GetObject', { bucket: bobs, key: 'secret/k' })).toBe(false);
    expect(await allowed(ivan, 's3:PutObject', { bucket: bobs, key: 'k' })).toBe(false);
    expect(await allowed(alice, 's3:DeleteObject', { bucket: mine, key: 'k' })).toBe(false);
    expect(await allowed(alice, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(true);
    expect(await outcome(authorize(ctx, request(alice), 's3:DeleteObject', { bucket: mine, key: 'k' }))).toBe(
      'AccessDenied',
    );
    expect(await outcome(authorize(ctx, request(alice), 's3:PutObject', { bucket: mine, key: 'k' }))).toBe('ok');
    // The owner can always fix its bucket policy.
    expect(await allowed(alice, 's3:PutBucketPolicy', { bucket: mine })).toBe(true);
    expect(await allowed(bob, 's3:PutBucketPolicy', { bucket: mine })).toBe(false);
  });

  it('bucket policies: Allow to a principal or everyone, a Deny that binds even the owner except on its policy', async () => {
    const b = await bucket('alice', {
      policy: doc(
        { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b*/shared/*' },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b*' },
        { Effect: 'Deny', Principal: '*', Action: ['s3:*'], Resource: 'arn:aws:s3:::b*/locked/*' },
        {
          Effect: 'Deny',
          Principal: { AWS: 'alice' },
          Action: ['s3:GetBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicyStatus', 's3:PutBucketTagging'],
          Resource: 'arn:aws:s3:::b*',
        },
      ),
    });
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'shared/k' })).toBe(true);
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'other/k' })).toBe(false);
    expect(await allowed(bob, 's3:ListBucket', { bucket: b })).toBe(true);
    expect(await allowed(undefined, 's3:ListBucket', { bucket: b })).toBe(true);
    expect(await allowed(undefined, 's3:GetObject', { bucket: b, key: 'shared/k' })).toBe(false);
    expect(await allowed(alice, 's3:PutObject', { bucket: b, key: 'locked/k' })).toBe(false);
    expect(await allowed(alice, 's3:PutObject', { bucket: b, key: 'open/k' })).toBe(true);
    expect(await allowed(ivan, 's3:GetObject', { bucket: b, key: 'locked/k' })).toBe(false);
    for (const action of ['s3:GetBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicyStatus']) {
      expect(await allowed(alice, action, { bucket: b }), action).toBe(true);
      expect(await allowed(bob, action, { bucket: b }), action).toBe(false);
    }
    expect(await allowed(alice, 's3:PutBucketTagging', { bucket: b })).toBe(false);
  });

  it('RestrictPublicBuckets: a public policy grants nothing to others; a policy naming principals still does', async () => {
    const pub = doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b*/*' });
    const named = doc({
      Effect: 'Allow',
      Principal: { AWS: 'bob' },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b*/*',
    });
    const restrict = publicAccessBlock({ RestrictPublicBuckets: true });
    const open = await bucket('alice', { policy: pub });
    const restricted = await bucket('alice', { policy: pub, publicAccessBlock: restrict });
    const namedRestricted = await bucket('alice', { policy: named, publicAccessBlock: restrict });
    expect(await allowed(undefined, 's3:GetObject', { bucket: open, key: 'k' })).toBe(true);
    expect(await allowed(bob, 's3:GetObject', { bucket: open, key: 'k' })).toBe(true);
    expect(await allowed(undefined, 's3:GetObject', { bucket: restricted, key: 'k' })).toBe(false);
    expect(await allowed(bob, 's3:GetObject', { bucket: restricted, key: 'k' })).toBe(false);
    expect(await allowed(alice, 's3:GetObject', { bucket: restricted, key: 'k' })).toBe(true);
    expect(await allowed(bob, 's3:GetObject', { bucket: namedRestricted, key: 'k' })).toBe(true);
  });

  it('bucket ACLs: the permission each action needs, groups, FULL_CONTROL; only when no policy decided', async () => {
    const b = await bucket('alice', {
      acl: acl(
        'alice',
        { key: 'alice', permission: 'FULL_CONTROL' },
        { key: 'bob', permission: 'READ' },
        { uri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', permission: 'READ_ACP' },
      ),
      policy: doc({
        Effect: 'Deny',
        Principal: { AWS: 'bob' },
        Action: 's3:ListBucketVersions',
        Resource: 'arn:aws:s3:::b*',
      }),
    });
    for (const action of ['s3:ListBucket', 's3:ListBucketMultipartUploads']) {
      expect(await allowed(bob, action, { bucket: b }), action).toBe(true);
    }
    expect(await allowed(bob, 's3:ListBucketVersions', { bucket: b })).toBe(false); // the policy's Deny wins
    for (const action of [
      's3:PutObject',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:AbortMultipartUpload',
      's3:PutBucketAcl',
    ]) {
      expect(await allowed(bob, action, { bucket: b, key: action.endsWith('Acl') ? undefined : 'k' }), action).toBe(
        false,
      );
    }
    expect(await allowed(bob, 's3:GetBucketAcl', { bucket: b })).toBe(true);
    expect(await allowed(undefined, 's3:GetBucketAcl', { bucket: b })).toBe(false);
    expect(await allowed(undefined, 's3:ListBucket', { bucket: b })).toBe(false);
    // An action no ACL permission covers is never granted by one.
    const full = await bucket('alice', { acl: acl('alice', { key: 'bob', permission: 'FULL_CONTROL' }) });
    for (const action of [
      's3:PutObject',
      's3:DeleteObjectVersion',
      's3:AbortMultipartUpload',
      's3:PutBucketAcl',
      's3:GetBucketAcl',
    ]) {
      expect(await allowed(bob, action, { bucket: full, key: 'k' }), action).toBe(true);
    }
    expect(await allowed(bob, 's3:PutBucketTagging', { bucket: full })).toBe(false);
    expect(await allowed(bob, 's3:DeleteBucket', { bucket: full })).toBe(false);
    // WRITE is not READ.
    const write = await bucket('alice', { acl: acl('alice', { key: 'bob', permission: 'WRITE' }) });
    expect(await allowed(bob, 's3:PutObject', { bucket: write, key: 'k' })).toBe(true);
    expect(await allowed(bob, 's3:ListBucket', { bucket: write })).toBe(false);
  });

  it('ACL grants name accounts: an IAM user gets the group grants only; IgnorePublicAcls and BucketOwnerEnforced', async () => {
    const grants = [
      { key: 'root', permission: 'WRITE' },
      { uri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' },
    ] as const;
    const b = await bucket('alice', { acl: acl('alice', ...grants) });
    expect(await allowed(nobody, 's3:PutObject', { bucket: b, key: 'k' })).toBe(false);
    expect(await allowed(nobody, 's3:ListBucket', { bucket: b })).toBe(true);
    expect(await allowed(undefined, 's3:ListBucket', { bucket: b })).toBe(true);
    // AuthenticatedUsers is every signed request, an IAM user's too; never the anonymous caller.
    const signedOnly = await bucket('alice', {
      acl: acl('alice', { uri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', permission: 'READ' }),
    });
    expect(await allowed(nobody, 's3:ListBucket', { bucket: signedOnly })).toBe(true);
    expect(await allowed(bob, 's3:ListBucket', { bucket: signedOnly })).toBe(true);
    expect(await allowed(undefined, 's3:ListBucket', { bucket: signedOnly })).toBe(false);
    expect(await allowed(nobody, 's3:PutObject', { bucket: signedOnly, key: 'k' })).toBe(false);
    expect(
      await allowed(narrowed(bob, { Effect: 'Allow', Action: 's3:*', Resource: '*' }), 's3:ListBucket', { bucket: b }),
    ).toBe(true);
    const ignoring = await bucket('alice', {
      acl: acl('alice', ...grants, { key: 'bob', permission: 'WRITE' }),
      publicAccessBlock: publicAccessBlock({ IgnorePublicAcls: true }),
    });
    expect(await allowed(undefined, 's3:ListBucket', { bucket: ignoring })).toBe(false);
    expect(await allowed(bob, 's3:ListBucket', { bucket: ignoring })).toBe(false);
    expect(await allowed(bob, 's3:PutObject', { bucket: ignoring, key: 'k' })).toBe(true);
    const enforced = await bucket('alice', {
      acl: acl('alice', ...grants, { key: 'bob', permission: 'WRITE' }),
      ownershipControls: ownership('BucketOwnerEnforced'),
    });
    expect(await allowed(undefined, 's3:ListBucket', { bucket: enforced })).toBe(false);
    expect(await allowed(bob, 's3:PutObject', { bucket: enforced, key: 'k' })).toBe(false);
    expect(await allowed(alice, 's3:PutObject', { bucket: enforced, key: 'k' })).toBe(true);
    const preferred = await bucket('alice', {
      acl: acl('alice', { key: 'bob', permission: 'WRITE' }),
      ownershipControls: ownership('BucketOwnerPreferred'),
    });
    expect(await allowed(bob, 's3:PutObject', { bucket: preferred, key: 'k' })).toBe(true);
  });

  it('object ACLs: read from the object (its version), none for a missing one', async () => {
    const b = await bucket('alice', { versioning: 'Enabled' });
    const first = await putObject(b, 'k', { [OBJECT_ACL_META]: acl('alice', { key: 'bob', permission: 'READ' }) });
    await putObject(b, 'k', { [OBJECT_ACL_META]: acl('alice', { key: 'bob', permission: 'READ_ACP' }) });
    await putObject(b, 'public', {
      [OBJECT_ACL_META]: acl('alice', {
        uri: 'http://acs.amazonaws.com/groups/global/AllUsers',
        permission: 'FULL_CONTROL',
      }),
    });
    await putObject(b, 'broken', { [OBJECT_ACL_META]: '{not json' });
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'k' })).toBe(false);
    expect(await allowed(bob, 's3:GetObjectAcl', { bucket: b, key: 'k' })).toBe(true);
    expect(await allowed(bob, 's3:GetObjectVersionAcl', { bucket: b, key: 'k' })).toBe(true);
    expect(await allowed(bob, 's3:PutObjectAcl', { bucket: b, key: 'k' })).toBe(false);
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'k', versionId: first.versionId })).toBe(true);
    expect(await allowed(bob, 's3:GetObjectVersion', { bucket: b, key: 'k', versionId: first.versionId })).toBe(true);
    expect(await allowed(bob, 's3:GetObjectAcl', { bucket: b, key: 'k', versionId: first.versionId })).toBe(false);
    for (const action of ['s3:GetObject', 's3:PutObjectAcl', 's3:PutObjectVersionAcl', 's3:GetObjectAcl']) {
      expect(await allowed(undefined, action, { bucket: b, key: 'public' }), action).toBe(true);
    }
    expect(await allowed(undefined, 's3:PutObjectTagging', { bucket: b, key: 'public' })).toBe(false);
    // The bucket's grants are not the objects': WRITE on the bucket, READ on an object.
    expect(await allowed(undefined, 's3:PutObject', { bucket: b, key: 'public' })).toBe(false);
    expect(await allowed(undefined, 's3:GetObject', { bucket: b, key: 'broken' })).toBe(false);
    // Missing: no key, no version, or a version that is no version: refused, not an error.
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'missing' })).toBe(false);
    const gone = '00000000-0000-4000-8000-000000000000';
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'k', versionId: gone })).toBe(false);
    expect(await allowed(undefined, 's3:GetObject', { bucket: b, key: 'public', versionId: gone })).toBe(false);
  });

  it('conditions on the object’s tags, in bucket and identity policies, read from the object', async () => {
    const b = await bucket('alice', {
      policy: doc({
        Effect: 'Allow',
        Principal: { AWS: 'bob' },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b*/*',
        Condition: { StringEquals: { 's3:ExistingObjectTag/Team': 'blue' } },
      }),
    });
    await putObject(b, 'blue', {}, 'team=blue&x=1');
    await putObject(b, 'red', {}, 'team=red');
    await putObject(b, 'tagged/blue', {}, 'Team=blue');
    await putObject(b, 'tagged/red', {}, 'team=red');
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'blue' })).toBe(true);
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'red' })).toBe(false);
    expect(await allowed(bob, 's3:GetObject', { bucket: b, key: 'missing' })).toBe(false);
    expect(await allowed(ivan, 's3:PutObject', { bucket: b, key: 'tagged/blue' })).toBe(true);
    expect(await allowed(ivan, 's3:PutObject', { bucket: b, key: 'tagged/red' })).toBe(false);
    expect(await allowed(ivan, 's3:PutObject', { bucket: b, key: 'tagged/none' })).toBe(false);
    // A narrowed credential's own policy may read them too.
    const sa = narrowed(alice, {
      Effect: 'Allow',
      Action: 's3:*',
      Resource: '*',
      Condition: { StringEquals: { 's3:ExistingObjectTag/team': 'blue' } },
    });
    expect(await allowed(sa, 's3:GetObject', { bucket: b, key: 'blue' })).toBe(true);
    expect(await allowed(sa, 's3:GetObject', { bucket: b, key: 'red' })).toBe(false);
  });

  it('a narrowed credential gets what its parent may do and its own policy allows, nothing else', async () => {
    const mine = await bucket('alice');
    const bobs = await bucket('bob', { acl: acl('bob', { key: 'alice', permission: 'READ' }) });
    const getOnly = narrowed(alice, { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' });
    expect(await allowed(getOnly, 's3:GetObject', { bucket: mine, key: 'k' })).toBe(true);
    expect(await allowed(getOnly, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(false);
    expect(await allowed(getOnly, 's3:ListBucket', { bucket: bobs })).toBe(true);
    expect(await allowed(getOnly, 's3:GetObject', { bucket: bobs, key: 'k' })).toBe(false);
    const denyGet = narrowed(
      alice,
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
    );
    expect(await allowed(denyGet, 's3:GetObject', { bucket: mine, key: 'k' })).toBe(false);
    expect(await allowed(denyGet, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(true);
    // Still the owner for its policy, whatever it is narrowed to.
    expect(await allowed(getOnly, 's3:GetBucketPolicy', { bucket: mine })).toBe(true);
    // Narrowing twice: both must allow.
    const twice = derivedCaller(getOnly, 'alice-sa-2', 'session', [
      compilePolicy(doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }), { kind: 'session' }),
    ]);
    expect(await allowed(twice, 's3:GetObject', { bucket: mine, key: 'k' })).toBe(false);
    expect(await allowed(twice, 's3:PutObject', { bucket: mine, key: 'k' })).toBe(false);
  });

  it('outside buckets: accounts list and create their buckets unless denied; IAM users need a policy', () => {
    const outside = (caller: Caller | undefined, action: string, extra = {}) =>
      isAllowedOutsideBuckets(ctx, request(caller), action, 'arn:aws:s3:::*', extra);
    expect(outside(undefined, 's3:ListAllMyBuckets')).toBe(false);
    expect(outside(root, 's3:ListAllMyBuckets')).toBe(true);
    expect(outside(root, 'admin:ServerInfo')).toBe(true);
    expect(outside(bob, 's3:ListAllMyBuckets')).toBe(true);
    expect(outside(bob, 's3:CreateBucket')).toBe(true);
    expect(outside(bob, 's3:ListenNotification')).toBe(false);
    expect(outside(alice, 's3:CreateBucket')).toBe(true);
    expect(outside(alice, 's3:CreateBucket', { 'aws:requesttag/env': 'forbidden' })).toBe(false);
    expect(outside(ivan, 's3:ListAllMyBuckets')).toBe(true);
    expect(outside(nobody, 's3:ListAllMyBuckets')).toBe(false);
    expect(outside(nobody, 's3:CreateBucket')).toBe(false);
    const getOnly = narrowed(bob, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(outside(getOnly, 's3:ListAllMyBuckets')).toBe(false);
    const lister = narrowed(bob, { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' });
    expect(outside(lister, 's3:ListAllMyBuckets')).toBe(true);
    expect(outside(lister, 's3:CreateBucket')).toBe(false);
  });

  it('x-amz-expected-bucket-owner: the owner’s canonical id, root’s for a bucket without one', async () => {
    const mine = await bucket('alice');
    const roots = await bucket(undefined);
    expect(await outcome(checkExpectedOwner(ctx, mine, undefined))).toBe('ok');
    expect(await outcome(checkExpectedOwner(ctx, mine, canonicalId('alice')))).toBe('ok');
    expect(await outcome(checkExpectedOwner(ctx, mine, canonicalId('root')))).toBe('AccessDenied');
    expect(await outcome(checkExpectedOwner(ctx, roots, canonicalId('root')))).toBe('ok');
    expect(await outcome(checkExpectedOwner(ctx, roots, canonicalId('alice')))).toBe('AccessDenied');
  });

  it('operations: what is authorized elsewhere, the resource an operation names, what a refused read learns', async () => {
    const b = await bucket('alice', {
      versioning: 'Enabled',
      policy: doc({ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b*' }),
    });
    await putObject(b, 'there');
    await putObject(b, 'deleted');
    await storage.deleteObject(b, 'deleted');
    const op = async (caller: Caller | undefined, o: Operation, headers: Record<string, string> = {}) =>
      outcome(authorizeOperation(ctx, { ...request(caller, headers), op: o }));
    const mismatched = { 'x-amz-expected-bucket-owner': canonicalId('bob') };
    // Never authenticated or authorized elsewhere.
    expect(await op(undefined, { name: 'Preflight', action: 's3:GetObject', bucket: b })).toBe('ok');
    expect(await op(undefined, { name: 'ServiceQuery', action: 'iam:ListUsers' })).toBe('ok');
    expect(await op(undefined, { name: 'AdminApi', action: 'admin:ServerInfo', path: '/', method: 'GET' })).toBe('ok');
    const list = {
      name: 'ListBuckets',
      action: 's3:ListAllMyBuckets',
      params: { prefix: '', maxBuckets: 10 },
    } as const;
    expect(await op(undefined, list)).toBe('AccessDenied');
    expect(await op(bob, list)).toBe('ok');
    expect(
      await op(bob, {
        name: 'ListenNotification',
        action: 's3:ListenNotification',
        params: { events: [], prefix: '', suffix: '' },
      }),
    ).toBe('AccessDenied');
    expect(await op(undefined, { name: 'CreateBucket', action: 's3:CreateBucket', bucket: 'new' })).toBe('ok');
    expect(await op(root, { name: 'CreateBucket', action: 's3:CreateBucket', bucket: SYSTEM_BUCKET })).toBe(
      'InvalidBucketName',
    );
    // Authorized by their handlers, per key or after reading the body; only the expected owner is checked here.
    for (const name of ['DeleteObjects', 'PutObjectRetention', 'PutObjectLegalHold'] as const) {
      const o = { name, action: 's3:PutObject', bucket: b, key: 'k' } as Operation;
      expect(await op(undefined, o), name).toBe('ok');
      expect(await op(undefined, o, mismatched), name).toBe('AccessDenied');
      expect(await op(alice, o, { 'x-amz-expected-bucket-owner': canonicalId('alice') }), name).toBe('ok');
    }
    // The resource named: allowed, then the expected owner.
    const put = { name: 'PutObject', action: 's3:PutObject', bucket: b, key: 'k' } as const;
    expect(await op(alice, put)).toBe('ok');
    expect(await op(alice, put, mismatched)).toBe('AccessDenied');
    expect(await op(bob, put)).toBe('AccessDenied');
    expect(await op(bob, { name: 'ListObjectsV2', action: 's3:ListBucket', bucket: b } as Operation)).toBe('ok');
    // A refused read of a missing key: NoSuchKey to a caller who may list the bucket, else AccessDenied.
    for (const name of ['GetObject', 'HeadObject'] as const) {
      const read = (key: string, versionId?: string) => ({ name, action: 's3:GetObject', bucket: b, key, versionId });
      expect(await op(bob, read('missing')), name).toBe('NoSuchKey');
      expect(await op(bob, read('deleted')), name).toBe('NoSuchKey');
      expect(await op(bob, read('there')), name).toBe('AccessDenied');
      expect(await op(undefined, read('missing')), name).toBe('AccessDenied');
      expect(await op(alice, read('missing')), name).toBe('ok');
    }
    expect(
      await op(bob, {
        name: 'GetObjectTagging',
        action: 's3:GetObjectTagging',
        bucket: b,
        key: 'missing',
      } as Operation),
    ).toBe('AccessDenied');
  });

  it('aclAllows: FULL_CONTROL implies every permission; AuthenticatedUsers needs a caller', () => {
    const a: Acl = {
      owner: 'alice',
      grants: [
        { key: 'bob', permission: 'FULL_CONTROL' },
        { uri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', permission: 'READ' },
      ],
    };
    expect(aclAllows(a, 'bob', 'WRITE_ACP')).toBe(true);
    expect(aclAllows(a, 'carol', 'READ')).toBe(true);
    expect(aclAllows(a, 'carol', 'READ', true)).toBe(false);
    expect(aclAllows(a, 'bob', 'READ', true)).toBe(true);
    expect(aclAllows(a, 'carol', 'WRITE')).toBe(false);
    expect(aclAllows(a, undefined, 'READ')).toBe(false);
    expect(aclAllows(a, undefined, 'READ', false, true)).toBe(true); // an IAM user: signed, named by no grant
    expect(aclAllows(a, undefined, 'WRITE_ACP', false, true)).toBe(false);
    expect(aclAllows(undefined, 'bob', 'READ')).toBe(false);
    // A grant with neither key nor uri names nobody, not the anonymous caller.
    expect(aclAllows({ owner: 'alice', grants: [{ permission: 'READ' }] }, undefined, 'READ')).toBe(false);
  });

  it('a refused read asks ListBucket with the key as s3:prefix; a version named by the operation is the one read', async () => {
    const b = await bucket('alice', {
      versioning: 'Enabled',
      policy: doc({
        Effect: 'Allow',
        Principal: { AWS: 'bob' },
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::b*',
        Condition: { StringLike: { 's3:prefix': 'public/*' } },
      }),
    });
    const first = await putObject(b, 'public/k', {
      [OBJECT_ACL_META]: acl('alice', { key: 'bob', permission: 'READ' }),
    });
    await putObject(b, 'public/k');
    const op = (key: string, versionId?: string) =>
      outcome(
        authorizeOperation(ctx, {
          ...request(bob),
          op: { name: 'GetObject', action: 's3:GetObject', bucket: b, key, versionId },
        }),
      );
    expect(await op('public/missing')).toBe('NoSuchKey');
    expect(await op('private/missing')).toBe('AccessDenied');
    expect(await op('public/k')).toBe('AccessDenied');
    expect(await op('public/k', first.versionId)).toBe('ok');
  });

  it('ABAC: the bucket’s tags are aws:ResourceTag of the bucket and its objects', async () => {
    const tagging = (team: string) =>
      `<Tagging><TagSet><Tag><Key>Team</Key><Value>${team}</Value></Tag></TagSet></Tagging>`;
    const blue = await bucket('alice', { abac: true, tagging: tagging('blue') });
    const red = await bucket('alice', { abac: true, tagging: tagging('red') });
    const off = await bucket('alice', { tagging: tagging('blue') });
    await ctx.iam!.put('user', 'rita', {
      name: 'rita',
      path: '/',
      id: 'AIDARITA',
      created: 0,
      status: 'enabled',
      keys: [],
      tags: {},
      inline: {
        abac: doc({
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } },
        }),
      },
      attached: [],
    });
    const rita = userCaller('rita-key', 'root', { name: 'rita', path: '/', id: 'AIDARITA', tags: {} });
    expect(await allowed(rita, 's3:GetObject', { bucket: blue, key: 'k' })).toBe(true);
    expect(await allowed(rita, 's3:ListBucket', { bucket: blue })).toBe(true);
    expect(await allowed(rita, 's3:GetObject', { bucket: red, key: 'k' })).toBe(false);
    expect(await allowed(rita, 's3:GetObject', { bucket: off, key: 'k' })).toBe(false);
  });

  it('each action an ACL can grant needs exactly its permission, on the bucket or on the object', async () => {
    // S3's mapping of ACL permissions to actions (Access control list overview, "ACL permissions").
    const needs: Record<string, ['bucket' | 'object', string]> = {
      's3:ListBucket': ['bucket', 'READ'],
      's3:ListBucketVersions': ['bucket', 'READ'],
      's3:ListBucketMultipartUploads': ['bucket', 'READ'],
      's3:PutObject': ['bucket', 'WRITE'],
      's3:DeleteObject': ['bucket', 'WRITE'],
      's3:DeleteObjectVersion': ['bucket', 'WRITE'],
      's3:AbortMultipartUpload': ['bucket', 'WRITE'],
      's3:GetBucketAcl': ['bucket', 'READ_ACP'],
      's3:PutBucketAcl': ['bucket', 'WRITE_ACP'],
      's3:GetObject': ['object', 'READ'],
      's3:GetObjectVersion': ['object', 'READ'],
      's3:GetObjectAcl': ['object', 'READ_ACP'],
      's3:GetObjectVersionAcl': ['object', 'READ_ACP'],
      's3:PutObjectAcl': ['object', 'WRITE_ACP'],
      's3:PutObjectVersionAcl': ['object', 'WRITE_ACP'],
    };
    for (const permission of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const) {
      const onBucket = await bucket('alice', { acl: acl('alice', { key: 'bob', permission }) });
      await putObject(onBucket, 'k');
      const onObject = await bucket('alice');
      await putObject(onObject, 'k', { [OBJECT_ACL_META]: acl('alice', { key: 'bob', permission }) });
      for (const [action, [on, needed]] of Object.entries(needs)) {
        const granted = permission === needed;
        expect(
          await allowed(bob, action, { bucket: onBucket, key: 'k' }),
          `${action} ${permission} on the bucket`,
        ).toBe(granted && on === 'bucket');
        expect(
          await allowed(bob, action, { bucket: onObject, key: 'k' }),
          `${action} ${permission} on the object`,
        ).toBe(granted && on === 'object');
      }
    }
  });

  it('an identity policy’s Deny, or a narrowed credential’s, beats a bucket policy’s Allow', async () => {
    const b = await bucket('alice', {
      policy: doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b*/*' }),
    });
    expect(await allowed(ivan, 's3:GetObject', { bucket: b, key: 'secret/k' })).toBe(false);
    expect(await allowed(ivan, 's3:GetObject', { bucket: b, key: 'open/k' })).toBe(true);
    const denied = narrowed(
      bob,
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
    );
    expect(await allowed(denied, 's3:GetObject', { bucket: b, key: 'open/k' })).toBe(false);
  });

  it('a context without IAM: accounts keep their implicit rights and ACL grants', async () => {
    const bare: ApiContext = { ...ctx, iam: undefined };
    const b = await bucket('alice', { acl: acl('alice', { key: 'bob', permission: 'READ' }) });
    const req = (caller: Caller) => request(caller);
    expect(await isAllowed(bare, req(alice), 's3:PutObject', { bucket: b, key: 'k' })).toBe(true);
    expect(await isAllowed(bare, req(bob), 's3:ListBucket', { bucket: b })).toBe(true);
    expect(await isAllowed(bare, req(bob), 's3:PutObject', { bucket: b, key: 'k' })).toBe(false);
    expect(isAllowedOutsideBuckets(bare, req(bob), 's3:ListAllMyBuckets', 'arn:aws:s3:::*')).toBe(true);
    expect(isAllowedOutsideBuckets(bare, req(bob), 's3:GetObject', 'arn:aws:s3:::*')).toBe(false);
  });

  it('identity and narrowing policies that read the object’s tags get them without a bucket policy asking', async () => {
    const b = await bucket('bob');
    await putObject(b, 'tagged/blue', {}, 'Team=blue');
    await putObject(b, 'tagged/red', {}, 'team=red');
    expect(await allowed(ivan, 's3:PutObject', { bucket: b, key: 'tagged/blue' })).toBe(true);
    expect(await allowed(ivan, 's3:PutObject', { bucket: b, key: 'tagged/red' })).toBe(false);
    const sa = narrowed(bob, {
      Effect: 'Allow',
      Action: 's3:*',
      Resource: '*',
      Condition: { StringEquals: { 's3:ExistingObjectTag/team': 'blue' } },
    });
    expect(await allowed(sa, 's3:GetObject', { bucket: b, key: 'tagged/blue' })).toBe(true);
    expect(await allowed(sa, 's3:GetObject', { bucket: b, key: 'tagged/red' })).toBe(false);
  });

  it('a service request Cairn does not do is refused to anonymous callers before its handler answers', async () => {
    const o = { name: 'UnsupportedServiceOp', action: 's3:ListAllMyBuckets', parameter: 'x', what: 'x' } as const;
    expect(await outcome(authorizeOperation(ctx, { ...request(undefined), op: o }))).toBe('AccessDenied');
    expect(await outcome(authorizeOperation(ctx, { ...request(bob), op: o }))).toBe('ok');
  });
});
