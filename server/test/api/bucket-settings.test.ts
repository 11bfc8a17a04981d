// Bucket configuration is parsed once per change: storage hands out one frozen configuration object until it
// changes, and the API's typed settings (compiled policy, ACL, public access block, ownership, CORS) are kept
// against it. Real storage on temporary drives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketSettings } from '../../src/api/bucket-settings.js';
import type { ApiContext } from '../../src/api/types.js';
import type { ErasureObjects } from '../../src/storage/index.js';
import { drives, open } from '../storage/helpers.js';

describe('bucket settings', () => {
  let d: Awaited<ReturnType<typeof drives>>;
  let storage: ErasureObjects;
  let ctx: ApiContext;
  beforeAll(async () => {
    d = await drives(4);
    storage = await open(d.paths);
    ctx = { storage, region: 'us-east-1', owner: { id: 'root-id', displayName: 'root' }, now: () => Date.now() };
    await storage.makeBucket('cfg');
  });
  afterAll(async () => {
    await storage.close();
    await d.cleanup();
  });

  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cfg/*' }],
  });

  it('are derived once per configuration and again after every change', async () => {
    const first = await bucketSettings(ctx, 'cfg');
    expect(await bucketSettings(ctx, 'cfg')).toBe(first);
    expect(Object.isFrozen(await storage.getBucketConfig('cfg'))).toBe(true);

    await storage.updateBucketConfig('cfg', {
      policy,
      publicAccessBlock:
        '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>',
      ownershipControls:
        '<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>',
      cors:
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>' +
        '<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
      acl: JSON.stringify({ owner: 'root', grants: [{ key: 'root', permission: 'FULL_CONTROL' }] }),
    });
    const second = await bucketSettings(ctx, 'cfg');
    expect(second).not.toBe(first);
    expect(await bucketSettings(ctx, 'cfg')).toBe(second);
    // Typed, ready to use: nothing is parsed again per request.
    expect(second.policy?.isPublic).toBe(true);
    expect(second.policy?.statements[0].resources?.[0]('arn:aws:s3:::cfg/any/key', () => ({}))).toBe(true);
    expect(second.publicAccessBlock).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
    expect(second.ownership).toBe('BucketOwnerPreferred');
    expect(second.cors?.[0].origins).toEqual(['*']);
    expect(second.acl?.grants).toEqual([{ key: 'root', permission: 'FULL_CONTROL' }]);

    await storage.updateBucketConfig('cfg', { policy: null });
    const third = await bucketSettings(ctx, 'cfg');
    expect(third).not.toBe(second);
    expect(third.policy).toBeUndefined();
    expect(third.ownership).toBe('BucketOwnerPreferred');
  });

  it('a configuration storage does not promise to keep is parsed each time, never cached', async () => {
    const fresh: ApiContext = {
      ...ctx,
      storage: Object.create(storage, { getBucketConfig: { value: async () => ({ policy }) } }),
    };
    const a = await bucketSettings(fresh, 'cfg');
    expect(await bucketSettings(fresh, 'cfg')).not.toBe(a);
  });
});
