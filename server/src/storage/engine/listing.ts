// Listings over all erasure sets of an ErasureObjects: each set's sorted walk (list/walk.ts) merged in key
// order, cut into S3 pages with common prefixes; version listings read every listed key's metadata, a
// window of keys ahead.
import { compareKeys } from '../meta/key-path.js';
import { toObjectInfo } from '../meta/versions.js';
import type * as L from '../object-layer.js';
import { walkSet, type WalkItem, type WalkOptions } from '../list/walk.js';
import type { ErasureObjects } from './erasure-objects.js';

/** Keys (or common prefixes) of all sets in order, merged; a prefix found in several sets appears once. */
export async function* walk(objects: ErasureObjects, bucket: string, o: WalkOptions): AsyncGenerator<WalkItem> {
  const its = objects.sets.map((s) => walkSet(s, bucket, objects.cache, o));
  const heads = await Promise.all(its.map((it) => it.next()));
  let last: string | undefined;
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h.done) continue;
      if (best < 0 || compareKeys(h.value.key, (heads[best].value as WalkItem).key) < 0) best = i;
    }
    if (best < 0) return;
    const item = heads[best].value as WalkItem;
    heads[best] = await its[best].next();
    if (item.key === last) continue;
    last = item.key;
    yield item;
  }
}

export async function listObjects(objects: ErasureObjects, bucket: string, o: L.ListOptions): Promise<L.ListResult> {
  await objects.buckets.get(bucket);
  const prefix = o.prefix ?? '';
  const delim = o.delimiter || undefined;
  const res: L.ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
  if (o.maxKeys <= 0) return res;
  let count = 0;
  let lastPrefix: string | undefined;
  for await (const item of walk(objects, bucket, { prefix, delimiter: delim, after: o.after })) {
    let cp: string | undefined = item.kind === 'prefix' ? item.key : undefined;
    if (!cp && delim) {
      const i = item.key.indexOf(delim, prefix.length);
      if (i >= 0) cp = item.key.slice(0, i + delim.length);
    }
    if (cp !== undefined && cp === lastPrefix) continue;
    if (count === o.maxKeys) {
      res.isTruncated = true;
      break;
    }
    count++;
    if (cp !== undefined) {
      lastPrefix = cp;
      res.commonPrefixes.push(cp);
      res.nextAfter = cp;
    } else if (item.kind === 'obj') {
      const l = item.latest;
      res.objects.push({
        bucket,
        key: item.key,
        versionId: l.v ?? 'null',
        isLatest: true,
        deleteMarker: false,
        size: l.s,
        etag: l.e,
        lastModified: new Date(l.m),
        storageClass: l.c ?? 'STANDARD',
        contentHeaders: {},
        userMetadata: {},
      });
      res.nextAfter = item.key;
    }
  }
  if (!res.isTruncated) delete res.nextAfter;
  return res;
}

export async function listObjectVersions(
  objects: ErasureObjects,
  bucket: string,
  o: L.ListVersionsOptions,
): Promise<L.ListVersionsResult> {
  await objects.buckets.get(bucket);
  const prefix = o.prefix ?? '';
  const delim = o.delimiter || undefined;
  const res: L.ListVersionsResult = { versions: [], commonPrefixes: [], isTruncated: false };
  if (o.maxKeys <= 0) return res;
  let count = 0;
  let lastPrefix: string | undefined;
  // With a version-id marker the marker key itself still has versions to give.
  const afterInclusive = !!(o.keyMarker && o.versionIdMarker);
  const keys = walk(objects, bucket, {
    prefix,
    delimiter: delim,
    after: o.keyMarker || undefined,
    afterInclusive,
    withDeleted: true,
  });
  const cpOf = (item: WalkItem): string | undefined => {
    if (item.kind === 'prefix') return item.key;
    const i = delim ? item.key.indexOf(delim, prefix.length) : -1;
    return i >= 0 ? item.key.slice(0, i + delim!.length) : undefined;
  };
  // Every key's versions come from its metadata: read those of the next keys concurrently.
  const items = prefetch(keys, VERSIONS_AHEAD, (item) => {
    if (cpOf(item) !== undefined) return undefined;
    const p = objects.setOf(item.key).resolve(bucket, item.key);
    p.catch(() => {});
    return p;
  });
  outer: for await (const [item, pending] of items) {
    const cp = cpOf(item);
    if (cp !== undefined) {
      if (cp === lastPrefix) continue;
      if (count === o.maxKeys) {
        res.isTruncated = true;
        break;
      }
      count++;
      lastPrefix = cp;
      res.commonPrefixes.push(cp);
      res.nextKeyMarker = cp;
      delete res.nextVersionIdMarker;
      continue;
    }
    const { resolved } = await pending!;
    let versions = resolved.versions;
    if (o.keyMarker && o.versionIdMarker && item.key === o.keyMarker) {
      const i = versions.findIndex((v) => v.id === o.versionIdMarker);
      versions = i >= 0 ? versions.slice(i + 1) : versions;
    }
    for (const v of versions) {
      if (count === o.maxKeys) {
        res.isTruncated = true;
        break outer;
      }
      count++;
      res.versions.push(toObjectInfo(bucket, item.key, v, v === resolved.versions[0]));
      res.nextKeyMarker = item.key;
      res.nextVersionIdMarker = v.id;
    }
  }
  if (!res.isTruncated) {
    delete res.nextKeyMarker;
    delete res.nextVersionIdMarker;
  }
  return res;
}

/** True when the bucket holds any key, version or delete marker. */
export async function bucketHasObjects(objects: ErasureObjects, bucket: string): Promise<boolean> {
  for await (const _ of walk(objects, bucket, { prefix: '', withDeleted: true })) return true;
  return false;
}

const VERSIONS_AHEAD = 32;

/** Items of `src` in order, each with work started for it up to `ahead` items before it is reached. */
async function* prefetch<T, R>(
  src: AsyncIterable<T>,
  ahead: number,
  start: (t: T) => R | undefined,
): AsyncGenerator<[T, R | undefined]> {
  const it = src[Symbol.asyncIterator]();
  const window: [T, R | undefined][] = [];
  let done = false;
  try {
    for (;;) {
      while (!done && window.length < ahead) {
        const n = await it.next();
        if (n.done) done = true;
        else window.push([n.value, start(n.value)]);
      }
      const head = window.shift();
      if (!head) return;
      yield head;
    }
  } finally {
    await it.return?.();
  }
}
