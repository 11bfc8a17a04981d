// Tag sets: the x-amz-tagging header form (`a=1&b=2`) and the Tagging XML document, with S3's limits.
import { S3Error } from '../errors.js';
import { many, parseXml, str } from './xml.js';

export type Tag = { Key: string; Value: string };

/** Whose tag set: objects take 10 tags, buckets 50. */
export type TagOwner = 'object' | 'bucket';

function validate(tags: Tag[], owner: TagOwner): void {
  // S3's own answers: BadRequest for an object's 11th tag, InvalidTag for a bucket's 51st.
  if (owner === 'object' && tags.length > 10) throw new S3Error('BadRequest', 'Object tags cannot be greater than 10');
  if (owner === 'bucket' && tags.length > 50) {
    throw new S3Error('InvalidTag', 'Bucket tag count cannot be greater than 50');
  }
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.Key.length === 0 || [...t.Key].length > 128)
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if ([...t.Value].length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (t.Key.startsWith('aws:')) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    if (seen.has(t.Key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(t.Key);
  }
}

export function tagsToQuery(tags: Tag[]): string {
  const q = new URLSearchParams();
  for (const t of tags) q.append(t.Key, t.Value);
  return q.toString();
}

export function queryToTags(s: string | undefined): Tag[] {
  if (!s) return [];
  return [...new URLSearchParams(s)]
    .map(([Key, Value]) => ({ Key, Value }))
    .sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
}

/** Validates a header tag set and returns it normalized (URL-encoded). */
export function parseTagQuery(s: string, owner: TagOwner): string {
  const tags = queryToTags(s);
  validate(tags, owner);
  return tagsToQuery(tags);
}

export function parseTaggingXml(body: string, owner: TagOwner): Tag[] {
  const doc = parseXml(body, 'Tagging');
  if (doc.TagSet === undefined) throw new S3Error('MalformedXML');
  return parseTagList(doc.TagSet, owner);
}

/** The `<Tag>` elements of a Tagging document's `<TagSet>` or of CreateBucketConfiguration's `<Tags>`, checked. */
export function parseTagList(list: unknown, owner: TagOwner): Tag[] {
  if (list === '') return []; // an empty element
  if (typeof list !== 'object' || list === null || Array.isArray(list)) throw new S3Error('MalformedXML');
  const tags = many((list as Record<string, unknown>).Tag).map((t) => {
    if (typeof t !== 'object' || t === null) throw new S3Error('MalformedXML');
    const o = t as Record<string, unknown>;
    const Key = str(o.Key);
    if (Key === undefined) throw new S3Error('MalformedXML');
    return { Key, Value: str(o.Value) ?? '' };
  });
  validate(tags, owner);
  return tags;
}
