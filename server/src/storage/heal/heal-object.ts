// Heal one object: compare every live drive's metadata and shards with what the quorum says, rebuild the
// shards a drive lacks (or holds corrupt) from the others, and rewrite its metadata. Versions that never
// reached a quorum (left by an interrupted write) are dropped.
import type { HealResult } from '../object-layer.js';
import { basename, dirname } from 'node:path';
import { objectLockName, type ErasureSet } from '../engine/erasure-set.js';
import { withLock } from '../coordination.js';
import { partSources, type Opened } from '../engine/get.js';
import { encodeMeta, META_NAME, type VersionRecord } from '../meta/meta-file.js';
import { resolveVersions, toObjectInfo, versionKey } from '../meta/versions.js';
import type { ShardSink } from '../drive/drive.js';
import { inlineSource, PartReader, shardFileSize } from '../erasure/part-reader.js';
import { latestOf } from '../list/journal.js';

export type { HealResult };

export async function healObject(set: ErasureSet, bucket: string, key: string, deep: boolean): Promise<HealResult> {
  const objRel = set.objRel(bucket, key);
  return withLock(set.deps.locks, objectLockName(set.index, objRel), async () => {
    const result: HealResult = { bucket, key, drivesHealed: 0, state: 'ok' };
    try {
      await healLocked(set, bucket, key, deep, result);
    } catch (e) {
      result.state = 'failed';
      result.error = (e as Error).message;
    }
    return result;
  });
}

async function shardOk(
  set: ErasureSet,
  v: VersionRecord,
  mine: VersionRecord,
  slot: number,
  objRel: string,
  deep: boolean,
): Promise<boolean> {
  const codec = set.deps.ctx.codec;
  const ec = v.ec!;
  for (let p = 0; p < v.parts.length; p++) {
    const size = v.parts[p].size;
    const want = shardFileSize(codec, ec, size);
    if (mine.inline) {
      if ((mine.inline[p]?.length ?? 0) !== want) return false;
    } else if (size > 0) {
      const st = await set.drives[slot].stat(`${objRel}/${mine.dataDir}/part.${v.parts[p].number}`).catch(() => null);
      if (!st || st.size !== want) return false;
    }
    if (deep && size > 0) {
      const sources = new Array(ec.data + ec.parity).fill(null);
      const shard = ec.dist[slot] - 1;
      sources[shard] = mine.inline
        ? inlineSource(mine.inline[p])
        : set.drives[slot].openShard(`${objRel}/${mine.dataDir}/part.${v.parts[p].number}`);
      const r = new PartReader(codec, ec, size, sources);
      r.bad.delete(shard);
      await r.verifyAll();
      await r.close();
      if (r.bad.has(shard)) return false;
    }
  }
  return true;
}

async function healLocked(
  set: ErasureSet,
  bucket: string,
  key: string,
  deep: boolean,
  result: HealResult,
): Promise<void> {
  const objRel = set.objRel(bucket, key);
  const metas = await set.readMetas(bucket, key);
  const resolved = resolveVersions(metas, set.defaultData);
  const live = set.writeDrives(); // only drives that can take a repair
  const codec = set.deps.ctx.codec;
  if (resolved.versions.length === 0) {
    // Nothing reached a quorum: leftovers of an interrupted write. Only judge when every drive answered.
    if (resolved.answered === set.size && metas.some((m) => m.state !== 'missing')) {
      await Promise.all(live.map((d) => d?.remove(objRel).catch(() => {})));
      result.state = 'removed';
    }
    return;
  }
  const wanted = new Set(resolved.versions.map(versionKey));
  // Per slot: which versions it must get rebuilt (missing or bad data), and whether its meta is stale.
  const rebuild = new Map<string, number[]>();
  const stale = new Set<number>();
  for (let slot = 0; slot < set.size; slot++) {
    if (!live[slot]) continue;
    const m = metas[slot];
    const own = new Map((m.meta?.versions ?? []).map((v) => [versionKey(v), v]));
    if (m.state !== 'ok' || own.size !== wanted.size || [...own.keys()].some((k) => !wanted.has(k))) stale.add(slot);
    // A copy older than the quorum's (a missed metadata update: lock, tags) is rewritten too.
    const older = (v: VersionRecord) => (own.get(versionKey(v))?.updated ?? 0) < (v.updated ?? 0);
    if (resolved.versions.some(older)) stale.add(slot);
    for (const v of resolved.versions) {
      if (!v.ec) continue;
      const mine = own.get(versionKey(v));
      if (!mine || !(await shardOk(set, v, mine, slot, objRel, deep))) {
        stale.add(slot);
        const list = rebuild.get(versionKey(v)) ?? [];
        list.push(slot);
        rebuild.set(versionKey(v), list);
      }
    }
  }
  await removeOrphans(
    set,
    objRel,
    metas.map((m, slot) => (m.state === 'ok' && !stale.has(slot) ? m.meta!.versions : null)),
  );
  if (stale.size === 0) return;

  // Rebuild shards version by version: decode from the good drives, re-encode the missing shards.
  const rebuiltInline = new Map<string, Map<number, Buffer[]>>();
  for (const v of resolved.versions) {
    const slots = rebuild.get(versionKey(v));
    if (!slots || !v.ec) continue;
    const exclude = new Set(slots);
    const o: Opened = { version: v, info: toObjectInfo(bucket, key, v, false), metas, resolved };
    const inline = new Map<number, Buffer[]>(slots.map((s) => [s, []]));
    for (let p = 0; p < v.parts.length; p++) {
      const size = v.parts[p].size;
      if (v.dataDir && size === 0) continue;
      const reader = new PartReader(codec, v.ec, size, partSources(set, bucket, key, o, p, exclude));
      // Inline shards are small and go into the metadata; shard files are written block by block.
      const sinks = new Map(slots.map((s) => [s, v.dataDir ? new ShardFileSink(set, s) : null]));
      const chunks = new Map<number, Buffer[]>(slots.map((s) => [s, []]));
      try {
        for (let b = 0; b < reader.blocks; b++) {
          const rebuilt = await reader.rebuildBlock(b);
          for (const s of slots) {
            const frame = rebuilt.get(v.ec.dist[s] - 1)!;
            const sink = sinks.get(s);
            if (sink) await sink.write(frame);
            else chunks.get(s)!.push(frame);
          }
        }
        for (const s of slots) {
          const sink = sinks.get(s);
          if (sink) await sink.commit(`${objRel}/${v.dataDir}/part.${v.parts[p].number}`);
          else inline.get(s)!.push(Buffer.concat(chunks.get(s)!));
        }
      } finally {
        await reader.close();
        for (const sink of sinks.values()) await sink?.discard();
      }
    }
    if (!v.dataDir) rebuiltInline.set(versionKey(v), inline);
  }

  // Rewrite the metadata of every stale drive with the quorum's versions and its own shards.
  const dirRel = dirname(objRel);
  for (const slot of stale) {
    const d = live[slot]!;
    const own = new Map((metas[slot].meta?.versions ?? []).map((v) => [versionKey(v), v]));
    const next = resolved.versions.map((v) => {
      if (!v.ec || v.dataDir) return { ...v, inline: undefined };
      const inl = rebuiltInline.get(versionKey(v))?.get(slot) ?? own.get(versionKey(v))?.inline;
      return { ...v, inline: inl };
    });
    for (const v of next) if (v.inline === undefined) delete v.inline;
    await d.mkdirs(objRel);
    await d.writeAtomic(`${objRel}/${META_NAME}`, encodeMeta({ versions: next }));
    set.metadataChanged();
    const keep = new Set(next.map((v) => v.dataDir));
    for (const v of own.values())
      if (v.dataDir && !keep.has(v.dataDir)) await d.remove(`${objRel}/${v.dataDir}`).catch(() => {});
    const l = latestOf(next);
    if (l) await set.deps.journals.append(d, dirRel, [{ n: basename(objRel), l }]).catch(() => {});
    result.drivesHealed++;
  }
  await set.deps.dirChanged(set.index, bucket, dirRel);
  result.state = 'healed';
}

/** A rebuilt shard file, written to the drive's temp area as it comes and renamed into place. */
class ShardFileSink {
  private readonly tmp: string;
  private fh: ShardSink | null = null;

  constructor(
    private readonly set: ErasureSet,
    private readonly slot: number,
  ) {
    this.tmp = set.newTemp();
  }

  async write(frame: Buffer): Promise<void> {
    const d = this.set.drives[this.slot];
    this.fh ??= await d.createShard(`${this.tmp}/shard`);
    await this.fh.write([frame]);
  }

  async commit(rel: string): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    await this.set.drives[this.slot].renameInto(`${this.tmp}/shard`, rel);
  }

  async discard(): Promise<void> {
    await this.fh?.abort();
    this.fh = null;
    await this.set.drives[this.slot].remove(this.tmp).catch(() => {});
  }
}

/** Data dirs no version refers to (a crash between moving data in and writing metadata), once old. */
const ORPHAN_AGE_MS = 10 * 60 * 1000;
async function removeOrphans(set: ErasureSet, objRel: string, lists: (VersionRecord[] | null)[]): Promise<void> {
  await Promise.all(
    lists.map(async (versions, slot) => {
      const d = set.writeDrives()[slot];
      if (!versions || !d) return;
      const used = new Set(versions.map((v) => v.dataDir));
      for (const name of (await d.list(objRel).catch(() => null)) ?? []) {
        if (name === META_NAME || used.has(name) || !/^[0-9a-f-]{36}$/.test(name)) continue;
        const st = await d.stat(`${objRel}/${name}`).catch(() => null);
        if (st && Date.now() - st.mtimeMs > ORPHAN_AGE_MS) await d.remove(`${objRel}/${name}`).catch(() => {});
      }
    }),
  );
}
