// Moving a key from one server pool to another (a pool being drained, storage/decommission.ts): every version
// copied as it is (id, time, metadata, parts, encryption, lock, replication state; a delete marker as a
// marker, a transitioned version as its remote reference), its data read verified from the source and
// erasure-coded anew for the target's set, then the versions removed from the source. The caller holds the
// key (ServerPools' key lock), so no write of it comes between.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VersionRecord } from '../meta/meta-file.js';
import { newerFirst, newVersionId, toObjectInfo, versionKey } from '../meta/versions.js';
import type { ErasureObjects } from './erasure-objects.js';
import type { ErasureSet } from './erasure-set.js';
import { type Opened, readBody } from './get.js';
import { stagePart } from './put.js';

/** What one move did: versions copied (and removed from the source) and their bytes as listings give them. */
export interface Moved {
  versions: number;
  bytes: number;
}

export async function moveKey(from: ErasureObjects, to: ErasureObjects, bucket: string, key: string): Promise<Moved> {
  const src = from.setOf(key);
  const dst = to.setOf(key);
  const { metas, resolved } = await src.resolveForRead(bucket, key);
  if (resolved.versions.length === 0) return { versions: 0, bytes: 0 };
  // A version the target already has by id was written there after the drain began (an unversioned key
  // written again, a delete marker of a suspended bucket): the target's is the newer; the source's is dropped.
  const there = new Set((await dst.resolveForRead(bucket, key)).resolved.versions.map((v) => v.id));
  let bytes = 0;
  let versions = 0;
  // Oldest first, so that the key's latest version is the last one the target takes.
  for (const v of [...resolved.versions].reverse()) {
    if (there.has(v.id)) continue;
    const opened: Opened = {
      version: v,
      info: toObjectInfo(bucket, key, v, v === resolved.versions[0]),
      metas,
      resolved,
    };
    bytes += await copyVersion(src, dst, bucket, key, opened);
    versions++;
  }
  // Removed from the source; remote tier data stays (the copies name it).
  const gone = new Set(resolved.versions.map(versionKey));
  await src.mutate(bucket, key, { apply: (cur) => cur.filter((v) => !gone.has(versionKey(v))), keepRemotes: true });
  return { versions, bytes };
}

/**
 * Writes one version of the source into the target set as it is; the bytes copied as listings count them
 * (plaintext size; 0 for a delete marker or a version whose data is on a remote tier).
 */
async function copyVersion(src: ErasureSet, dst: ErasureSet, bucket: string, key: string, o: Opened): Promise<number> {
  const v = o.version;
  const { inline: _i, dataDir: _d, ec: _e, ...rest } = v;
  const base: VersionRecord = rest;
  if (v.type === 'delete' || v.tier || !v.ec) {
    await dst.mutate(bucket, key, { apply: (cur) => placed(cur, base) });
    return 0;
  }
  const ec = dst.newErasure(key, v.storageClass);
  const tmp = dst.newTemp();
  const dataDir = newVersionId();
  let inline: Buffer[][] | null = null;
  let ok = dst.drives.map(() => true);
  try {
    let offset = 0;
    for (const p of v.parts) {
      const body =
        p.size === 0
          ? Readable.from([])
          : await readBody(src, bucket, key, o, { start: offset, end: offset + p.size - 1 });
      // Only a single-part version may live inline (as a PUT would keep it).
      const limit = v.parts.length === 1 ? dst.deps.ctx.inlineLimit : 0;
      const staged = await stagePart(dst, ec, body, `${tmp}/${dataDir}/part.${p.number}`, { size: p.size }, limit);
      ok = ok.map((x, i) => x && staged.ok[i]);
      if (staged.inline) inline = staged.inline.map((b) => [b]);
      offset += p.size;
    }
    await testHold(bucket, key);
    const version: VersionRecord = inline ? { ...base, ec } : { ...base, ec, dataDir };
    const shards = inline;
    await dst.mutate(bucket, key, {
      slots: ok,
      apply: (cur, slot) => placed(cur, shards && slot >= 0 ? { ...version, inline: shards[slot] } : version),
      stage: shards
        ? undefined
        : (d, _slot, objRel, fresh) => d.renameInto(`${tmp}/${dataDir}`, `${objRel}/${dataDir}`, fresh),
      unstage: shards ? undefined : (d, _slot, objRel) => d.remove(`${objRel}/${dataDir}`),
    });
    return o.info.size;
  } finally {
    if (!inline) await Promise.all(dst.writeDrives().map((d) => d?.remove(tmp).catch(() => {})));
  }
}

/**
 * Tests only (CAIRN_TEST_HOLD_MOVES=<folder>): the move of a key whose `<name>.hold` is in the folder (name:
 * encodeURIComponent of `bucket/key`) stops once a version's data is staged in the target, says so with
 * `<name>.held`, and goes on once the test removes the .hold file: a write of the key raced with a move under
 * way, or the mover killed mid-move, without timing.
 */
async function testHold(bucket: string, key: string): Promise<void> {
  const dir = process.env.CAIRN_TEST_HOLD_MOVES;
  if (!dir) return;
  const name = join(dir, encodeURIComponent(`${bucket}/${key}`));
  const held = () =>
    access(`${name}.hold`).then(
      () => true,
      () => false,
    );
  if (!(await held())) return;
  await writeFile(`${name}.held`, '');
  while (await held()) await sleep(20);
}

/**
 * The target's versions with `v` among them, unless the target has a newer version of the same id (a PUT of
 * an unversioned key that went there while the move ran): that one stays, and `v` is dropped.
 */
function placed(cur: VersionRecord[], v: VersionRecord): VersionRecord[] {
  if (cur.some((x) => x.id === v.id && x.mtime > v.mtime)) return cur;
  return [v, ...cur.filter((x) => x.id !== v.id)].sort(newerFirst);
}
