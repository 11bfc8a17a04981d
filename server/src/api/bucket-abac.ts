// Attribute-based access control on a bucket (PutBucketAbac / GetBucketAbac, `?abac`): off by default, as in
// S3. While it is on, the bucket's tags are the resource tags policies read as `aws:ResourceTag/<key>` for
// requests on the bucket and its objects (authorize.ts), and PutBucketTagging / DeleteBucketTagging are refused:
// AWS then manages bucket tags only through S3 Control's TagResource / UntagResource (whose aws:RequestTag and
// aws:TagKeys conditions govern who may set which tag), which Cairn does not serve. While it is off, no request
// has aws:ResourceTag keys, as in S3 (a policy naming them matches as for any absent key).
import { S3Error } from '../errors.js';
import { bucketSettings } from './bucket-settings.js';
import { readDocument } from './request-body.js';
import { parseTaggingXml } from './tags.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { parseXml, str, toXml } from './xml.js';

export async function bucketAbacOp(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  method: string,
): Promise<S3Response> {
  if (method === 'GET') {
    const s = await bucketSettings(ctx, bucket);
    return xmlResponse(toXml('AbacStatus', { Status: s.config.abac ? 'Enabled' : 'Disabled' }));
  }
  if (method !== 'PUT') throw new S3Error('MethodNotAllowed');
  const status = str(parseXml(await readDocument(req), 'AbacStatus').Status);
  if (status !== 'Enabled' && status !== 'Disabled') {
    throw new S3Error('MalformedXML', 'AbacStatus/Status must be Enabled or Disabled');
  }
  await ctx.storage.updateBucketConfig(bucket, { abac: status === 'Enabled' ? true : null });
  return emptyResponse(200);
}

/** The resource tags of a bucket's requests (aws:ResourceTag/<key>): its tags while ABAC is on, else none. */
export function resourceTagsOf(config: { abac?: boolean; tagging?: string }): Record<string, string> | undefined {
  if (!config.abac) return undefined;
  const out: Record<string, string> = {};
  for (const t of config.tagging ? parseTaggingXml(config.tagging, 'bucket') : []) out[t.Key] = t.Value;
  return out;
}

/** PutBucketTagging / DeleteBucketTagging: refused while ABAC is on (S3 takes only TagResource then). */
export async function refuseTaggingUnderAbac(ctx: ApiContext, bucket: string): Promise<void> {
  if ((await bucketSettings(ctx, bucket)).config.abac) {
    throw new S3Error(
      'InvalidRequest',
      'ABAC is enabled for this bucket: its tags change only through TagResource/UntagResource, which this server \
does not serve; disable ABAC (PutBucketAbac) to change them',
    );
  }
}
