// The format file on every drive: which deployment it belongs to, the layout of the sets and this drive's
// id. Drives are matched to slots by id, so a drive moved to another position on the command line is
// recognised; an empty drive takes a vacant slot (and is healed); a drive of another deployment is refused.
import { randomUUID } from 'node:crypto';
import type { DriveLayout } from '../context.js';
import { type Drive, MULTIPART_DIR, SYS_DIR, TMP_DIR } from './drive.js';
import { LocalDrive } from './local-drive.js';
import { guardUnmounted } from './mount-guard.js';

export const FORMAT_FILE = `${SYS_DIR}/format.json`;

export interface FormatFile {
  format: 'cairn-erasure';
  version: 1;
  deploymentId: string;
  /** This drive's id. */
  driveId: string;
  /** sets[i][j] = id of the drive in slot j of set i. */
  sets: string[][];
  /** Default STANDARD parity chosen at first start. */
  parity: number;
}

export interface Formatted {
  deploymentId: string;
  sets: Drive[][];
  parity: number;
  /** Drives that were empty and got formatted now: they need a full heal. */
  fresh: Drive[];
}

export function defaultSetSize(count: number): number {
  if (count === 1) return 1;
  for (let s = Math.min(16, count); s >= 2; s--) if (count % s === 0) return s;
  throw new Error(`cannot split ${count} drives into erasure sets of 2 to 16 drives`);
}

export async function readFormat(drive: Drive): Promise<FormatFile | null> {
  const raw = await drive.read(FORMAT_FILE);
  if (!raw) return null;
  try {
    const f = JSON.parse(raw.toString('utf8')) as FormatFile;
    if (f.format !== 'cairn-erasure' || typeof f.deploymentId !== 'string' || !Array.isArray(f.sets)) return null;
    return f;
  } catch {
    return null; // a torn or corrupt format file: treated like an empty drive and healed
  }
}

export async function writeFormat(drive: Drive, f: Omit<FormatFile, 'driveId'>, driveId: string): Promise<void> {
  await drive.writeAtomic(FORMAT_FILE, JSON.stringify({ ...f, driveId } satisfies FormatFile, null, 1));
}

/**
 * Make the drive's temp area (`tmpDir`: all of TMP_DIR, or one worker's part of it) and empty it: leftovers
 * of writes interrupted by a crash are never visible, and safe to drop when their process starts again.
 */
export async function prepareDrive(drive: Drive, tmpDir = TMP_DIR): Promise<void> {
  drive.tmpDir = tmpDir;
  await drive.mkdirs(tmpDir);
  await drive.mkdirs(MULTIPART_DIR);
  for (const name of (await drive.list(tmpDir)) ?? []) await drive.remove(`${tmpDir}/${name}`);
}

/** A drive by its endpoint: a local folder, unless the caller knows other kinds (remote drives). */
export type OpenDrive = (endpoint: string) => Drive;
const openLocal: OpenDrive = (root) => new LocalDrive(root);

export async function formatDrives(
  roots: string[],
  opts: {
    setSize?: number;
    parity?: number;
    /** The deployment these drives must belong to (a server pool joins its first pool's); new: a fresh id. */
    deploymentId?: string;
  },
  openDrive: OpenDrive = openLocal,
): Promise<Formatted> {
  if (roots.length < 1 || roots.length > 32) throw new Error(`Cairn needs 1 to 32 drives, got ${roots.length}`);
  if (new Set(roots).size !== roots.length) throw new Error('the same drive directory is given twice');
  const drives = roots.map(openDrive);
  // A plain folder among mount points is a disk that did not mount: nothing is written to it (mount-guard.ts).
  const unmounted = new Set(await guardUnmounted(drives, hasFormat));
  await Promise.all(drives.map((d) => (unmounted.has(d) ? undefined : prepareDrive(d))));
  const formats = await Promise.all(drives.map((d) => (unmounted.has(d) ? null : readFormat(d))));

  // A drive without a format must be empty (or ours, with a lost format): never adopt someone's files.
  await Promise.all(
    drives.map(async (d, i) => {
      if (formats[i] || unmounted.has(d)) return;
      const names = ((await d.list('')) ?? []).filter((x) => x !== SYS_DIR && x !== 'lost+found');
      if (names.length > 0) {
        throw new Error(
          `drive ${d.endpoint} is not empty and has no Cairn format (found ${names.slice(0, 3).join(', ')}); refusing to use it`,
        );
      }
    }),
  );
  const found = formats.filter((f): f is FormatFile => f !== null);
  if (found.length === 0 && unmounted.size > 0) throw unmountedAtFormat([...unmounted][0]);
  if (found.length === 0) return freshDeployment(drives, opts);

  // The deployment is the one most drives agree on; anything else is a foreign drive.
  const votes = new Map<string, number>();
  for (const f of found) votes.set(f.deploymentId, (votes.get(f.deploymentId) ?? 0) + 1);
  const deploymentId = [...votes.entries()].sort((a, b) => b[1] - a[1])[0][0];
  if (opts.deploymentId !== undefined && deploymentId !== opts.deploymentId)
    throw new Error(
      `drives ${roots[0]}... belong to another Cairn deployment (${deploymentId}, this one is ${opts.deploymentId}); ` +
        'refusing to use them as a server pool of it',
    );
  const ref = found.find((f) => f.deploymentId === deploymentId)!;
  formats.forEach((f, i) => {
    if (f && f.deploymentId !== deploymentId) {
      throw new Error(
        `drive ${roots[i]} belongs to another Cairn deployment (${f.deploymentId}, this one is ${deploymentId}); ` +
          'refusing to use it. Give an empty directory or the right drive.',
      );
    }
  });
  const total = ref.sets.reduce((n, s) => n + s.length, 0);
  if (total !== roots.length) {
    throw new Error(`this deployment was formatted with ${total} drives, ${roots.length} given`);
  }

  const slotOf = new Map<string, [number, number]>();
  ref.sets.forEach((set, i) => set.forEach((id, j) => slotOf.set(id, [i, j])));
  const sets: (Drive | undefined)[][] = ref.sets.map((s) => new Array(s.length));
  const fresh: Drive[] = [];
  for (let i = 0; i < drives.length; i++) {
    const f = formats[i];
    if (!f) continue;
    const slot = slotOf.get(f.driveId);
    if (!slot) throw new Error(`drive ${roots[i]} has id ${f.driveId}, unknown to deployment ${deploymentId}`);
    if (sets[slot[0]][slot[1]])
      throw new Error(`drives ${sets[slot[0]][slot[1]]!.endpoint} and ${roots[i]} have the same id`);
    place(drives[i], slot, f.driveId, sets);
  }
  // Empty drives take the vacant slots in order.
  const vacant: [number, number][] = [];
  sets.forEach((set, i) => ref.sets[i].forEach((_, j) => !set[j] && vacant.push([i, j])));
  for (let i = 0; i < drives.length; i++) {
    if (formats[i]) continue;
    const slot = vacant.shift()!;
    const id = ref.sets[slot[0]][slot[1]];
    // An unmounted drive keeps its slot, offline: its disk, once mounted, has this slot's format.
    if (!unmounted.has(drives[i])) {
      await writeFormat(drives[i], ref, id);
      fresh.push(drives[i]);
    }
    place(drives[i], slot, id, sets);
  }
  return { deploymentId, sets: sets as Drive[][], parity: ref.parity, fresh };
}

/** A new deployment is not made while one of its drives looks like a disk that did not mount. */
const unmountedAtFormat = (d: Drive) =>
  new Error(
    `drive ${d.endpoint} is a plain folder while other drives are mount points: a disk that did not ` +
      'mount? Mount it (or give every drive as a folder inside its mount point) and start again',
  );

const hasFormat = async (d: Drive): Promise<boolean> => (await readFormat(d)) !== null;

/** A distributed deployment's format is not there yet (or not on enough drives): the caller tries again. */
export class FormatPending extends Error {}

/**
 * The drives of a distributed deployment (`roots` in slot order: set i is roots[i * setSize ...]), some of them
 * other nodes' and maybe unreachable. The node that owns the first endpoint (`formatter`) makes a new
 * deployment once every drive answers and none is formatted (after `allBy`, once a quorum answers: the others'
 * nodes may not start at all); the others wait (FormatPending) until a quorum of drives holds one deployment's
 * format. (A formatter that went ahead with a quorum while the other nodes were still starting left their drives
 * without a format: each of those nodes then started on them, said its own new drives had "no format: the leader
 * rebuilds it", and the leader formatted and rebuilt them.) Drives without a format (new, wiped, or unreachable now) take
 * the slot of their position, which is what the formatter gave them, so every node places every drive alike;
 * the leader's drive monitor formats and rebuilds the empty ones (none is returned as fresh). A plain folder among
 * this node's mount points is a disk that did not mount (mount-guard.ts): neither prepared nor formatted, it keeps
 * its slot offline (the other nodes reach it through this node's storage RPC, which guards it too: rpc/serve.ts).
 */
export async function formatClusterDrives(
  roots: string[],
  opts: {
    setSize: number;
    parity?: number;
    formatter: boolean;
    tmpDir: string;
    /** What the formatter writes on each drive before its format file (the system bucket, engine/buckets.ts). */
    before?: (d: Drive) => Promise<void>;
    /** A later server pool: formatted under the deployment id of the first (refused when it holds another). */
    deploymentId?: string;
    /** Until then (ms since the epoch) a new deployment waits for every drive to answer; unset: a quorum will do. */
    allBy?: number;
  },
  openDrive: OpenDrive,
): Promise<Formatted> {
  const n = roots.length;
  const quorum = Math.floor(n / 2) + 1;
  const drives = roots.map(openDrive);
  // Only this node's own drives are LocalDrives: the rule is per node, over the drives it holds.
  const unmounted = new Set(await guardUnmounted(drives, hasFormat));
  const seen = await Promise.all(
    drives.map((d) =>
      (unmounted.has(d) ? Promise.reject(new Error('unmounted')) : prepareDrive(d, opts.tmpDir))
        .then(() => readFormat(d))
        .then(
          (f) => ({ reached: true, f }),
          () => ({ reached: false, f: null }),
        ),
    ),
  );
  await Promise.all(drives.map((d, i) => (seen[i].reached && !seen[i].f ? mustBeEmpty(d) : undefined)));
  const reached = seen.filter((s) => s.reached).length;
  const found = seen.flatMap((s) => (s.f ? [s.f] : []));
  if (found.length === 0 && opts.formatter && unmounted.size > 0) throw unmountedAtFormat([...unmounted][0]);
  if (found.length === 0) {
    if (!opts.formatter) throw new FormatPending(`no drive is formatted yet (${reached} of ${n} answer)`);
    if (reached < quorum) throw new FormatPending(`${reached} of ${n} drives answer, ${quorum} needed to format`);
    if (reached < n && opts.allBy !== undefined && Date.now() < opts.allBy)
      throw new FormatPending(
        `${reached} of ${n} drives answer: a new deployment waits for all of them until ` +
          `${new Date(opts.allBy).toISOString()}, then formats the ones that answer`,
      );
    const parity = opts.parity ?? Math.floor(opts.setSize / 2);
    const ids = drives.map(() => randomUUID());
    const sets: string[][] = [];
    for (let i = 0; i < n; i += opts.setSize) sets.push(ids.slice(i, i + opts.setSize));
    const deploymentId = opts.deploymentId ?? randomUUID();
    const base = { format: 'cairn-erasure' as const, version: 1 as const, deploymentId, sets, parity };
    // A drive gets its format only after what must be there once the others see the format.
    const write = async (d: Drive, i: number) => {
      await opts.before?.(d);
      await writeFormat(d, base, ids[i]);
    };
    await Promise.all(drives.map((d, i) => (seen[i].reached ? write(d, i).catch(() => {}) : null)));
    const placed: Drive[][] = sets.map(() => []);
    drives.forEach((d, i) => place(d, [Math.floor(i / opts.setSize), i % opts.setSize], ids[i], placed));
    return { deploymentId: base.deploymentId, sets: placed, parity, fresh: [] };
  }
  const votes = new Map<string, number>();
  for (const f of found) votes.set(f.deploymentId, (votes.get(f.deploymentId) ?? 0) + 1);
  const [deploymentId, count] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  if (opts.deploymentId !== undefined && deploymentId !== opts.deploymentId)
    throw new Error(
      `drives ${roots[0]}... belong to another Cairn deployment (${deploymentId}, the first pool's is ` +
        `${opts.deploymentId}); refusing to start. Give empty directories or the right drives.`,
    );
  seen.forEach((s, i) => {
    if (s.f && s.f.deploymentId !== deploymentId)
      throw new Error(
        `drive ${roots[i]} belongs to another Cairn deployment (${s.f.deploymentId}, this one is ${deploymentId}); ` +
          'refusing to start. Give an empty directory or the right drive.',
      );
  });
  if (count < quorum) throw new FormatPending(`${count} of ${n} drives hold the deployment's format, ${quorum} needed`);
  const ref = found.find((f) => f.deploymentId === deploymentId)!;
  const total = ref.sets.reduce((k, s) => k + s.length, 0);
  if (total !== n || ref.sets[0].length !== opts.setSize)
    throw new Error(
      `this deployment was formatted with ${total} drives in sets of ${ref.sets[0].length}; the arguments give ` +
        `${n} in sets of ${opts.setSize}`,
    );
  const sets: (Drive | undefined)[][] = ref.sets.map((s) => new Array(s.length));
  for (let i = 0; i < n; i++) {
    const f = seen[i].f;
    const slot: [number, number] = [Math.floor(i / opts.setSize), i % opts.setSize];
    const id = ref.sets[slot[0]][slot[1]];
    if (f && f.driveId !== id)
      throw new Error(`drive ${roots[i]} has id ${f.driveId}, but its position in the arguments is that of ${id}`);
    place(drives[i], slot, id, sets);
  }
  // An empty drive (new, or wiped) is not formatted here: every worker of every node starts through this, and each
  // would format it and rebuild all of it. The leader's drive monitor formats it into its slot and rebuilds it, once
  // (heal/healer.ts checkDrive); the others leave it to the leader.
  return { deploymentId, sets: sets as Drive[][], parity: ref.parity, fresh: [] };
}

/** A drive without a format must be empty (or ours, with a lost format): never adopt someone's files. */
async function mustBeEmpty(d: Drive): Promise<void> {
  const names = ((await d.list('')) ?? []).filter((x) => x !== SYS_DIR && x !== 'lost+found');
  if (names.length > 0)
    throw new Error(
      `drive ${d.endpoint} is not empty and has no Cairn format (found ${names.slice(0, 3).join(', ')}); refusing to use it`,
    );
}

function place(d: Drive, slot: [number, number], id: string, sets: (Drive | undefined)[][]): void {
  d.setIndex = slot[0];
  d.diskIndex = slot[1];
  d.driveId = id;
  sets[slot[0]][slot[1]] = d;
}

async function freshDeployment(
  drives: Drive[],
  opts: { setSize?: number; parity?: number; deploymentId?: string },
): Promise<Formatted> {
  const n = drives.length;
  const setSize = opts.setSize ?? defaultSetSize(n);
  if (n === 1 ? setSize !== 1 : setSize < 2 || setSize > 16 || n % setSize !== 0) {
    throw new Error(`set size ${setSize} does not divide ${n} drives into sets of 2 to 16`);
  }
  const parity = opts.parity ?? Math.floor(setSize / 2);
  if (parity < 0 || parity > Math.floor(setSize / 2))
    throw new Error(`parity ${parity} is not in 0..${Math.floor(setSize / 2)}`);
  const deploymentId = opts.deploymentId ?? randomUUID();
  const ids = drives.map(() => randomUUID());
  const setIds: string[][] = [];
  for (let i = 0; i < n; i += setSize) setIds.push(ids.slice(i, i + setSize));
  const base = { format: 'cairn-erasure' as const, version: 1 as const, deploymentId, sets: setIds, parity };
  await Promise.all(drives.map((d, i) => writeFormat(d, base, ids[i])));
  const sets: Drive[][] = setIds.map(() => []);
  drives.forEach((d, i) => place(d, [Math.floor(i / setSize), i % setSize], ids[i], sets));
  return { deploymentId, sets, parity, fresh: [] };
}

/** The layout of formatted drives, as plain data (the primary hands it to its workers). */
export function driveLayout(f: Formatted): DriveLayout {
  return {
    deploymentId: f.deploymentId,
    parity: f.parity,
    sets: f.sets.map((set) => set.map((d) => ({ root: d.endpoint, driveId: d.driveId }))),
  };
}

/** The drives of a layout another process formatted, with this process's own temp area made and emptied. */
export async function openLayout(
  layout: DriveLayout,
  tmpDir: string,
  openDrive: OpenDrive = openLocal,
): Promise<Formatted> {
  const sets = layout.sets.map(() => [] as Drive[]);
  layout.sets.forEach((set, i) => set.forEach((d, j) => place(openDrive(d.root), [i, j], d.driveId, sets)));
  const unmounted = new Set(await guardUnmounted(sets.flat(), hasFormat));
  // A drive that fails here is found by the drive monitor like any other (a worker must start despite it).
  await Promise.all(sets.flat().map((d) => (unmounted.has(d) ? undefined : prepareDrive(d, tmpDir).catch(() => {}))));
  return { deploymentId: layout.deploymentId, parity: layout.parity, sets, fresh: [] };
}
