// The merged, sorted view of one key directory of a set: what every live drive's directory holds, voted
// (an object counts when enough drives have it, so one dead or stale drive neither hides nor resurrects
// anything), with each object's latest version taken from the drives' journals, or from its metadata
// file when a journal is missing, pending or in disagreement. Views are cached until a write touches
// the directory (the engine is the only writer of its drives).
// The drives of another node (RemoteDrive) are read by that node: one storage-RPC call `dirView` per node and
// directory, answered with its drives' entries added up (partialView: the counts the vote needs, the journals'
// latest version and whether they disagree), so the node listed through merges one answer per node, not one name
// list per drive, and parses only its own drives' journals. A node that does not know the call (an older version)
// is read drive by drive.
import type { Drive } from '../drive/drive.js';
import type { ErasureSet } from '../engine/erasure-set.js';
import { compareKeys, parseEntry } from '../meta/key-path.js';
import { resolveVersions } from '../meta/versions.js';
import { RemoteDrive } from '../rpc/remote-drive.js';
import type { RpcPeer } from '../rpc/peer.js';
import { latestOf, needsCompaction, type Latest, type ParsedJournal, readJournal } from './journal.js';

export interface ViewEntry {
  /** Full key (objects) or full prefix ending in `/` (directories). */
  name: string;
  kind: 'obj' | 'dir';
  /** Path of a directory entry relative to the drive root ('' for objects: they are found by key). */
  rel: string;
  /** Latest version (objects); null when none could be read. */
  latest?: Latest | null;
}

/** An entry while the drives are read; it becomes the ViewEntry itself (no second object per key). */
interface Seen extends ViewEntry {
  /** The key in `seen`: the file name, after the continuation prefix it is under. */
  id: string;
  drives: number;
  /** Journal lines found for the entry (on drives whose journal was read) and whether they agree. */
  said: number;
  /** Drives whose journal was read and that have the entry. */
  jdrives: number;
  conflict: boolean;
}

/**
 * One node's answer to `dirView`: its drives' entries added up, as
 * [id, name, kind (0 object, 1 directory), rel, drives, said, jdrives, conflict (0/1), latest or null]; per drive
 * asked, whether it says nothing (failed, not served, or lost the bucket) and whether its journal wants compacting
 * (the node listed through compacts it, as for its own drives).
 */
export interface PartialView {
  entries: PartialEntry[];
  dead: (0 | 1)[];
  compact: (0 | 1)[];
}
export type PartialEntry = [string, string, 0 | 1, string, number, number, number, 0 | 1, Latest | null];

const META_READ_CONCURRENCY = 32;
const HIGH = /[\ud800-\uffff]/;

type JournalOf = (d: Drive, dirRel: string) => Promise<ParsedJournal | null>;

/**
 * Adds drive `d`'s entries of `dirRel` to `seen`; `journalOf` (null: the journal is not read) gives its parsed
 * journal, `compact` is told when that journal wants compacting. False: the directory is not there.
 */
async function readDrive(
  d: Drive,
  dirRel: string,
  namePrefix: string,
  seen: Map<string, Seen>,
  journalOf: JournalOf | null,
  compact: () => void,
): Promise<boolean> {
  const [names, journal] = await Promise.all([
    d.list(dirRel),
    journalOf ? journalOf(d, dirRel).catch(() => null) : null,
  ]);
  if (!names) return false;
  if (journal && needsCompaction(journal)) compact();
  const withJournal = journalOf !== null;
  const conts: Promise<boolean>[] = [];
  for (const fsName of names) {
    // Keyed by the file name (its suffix tells the kind); parsed once, on first sight.
    const id = namePrefix ? `${namePrefix}\0${fsName}` : fsName;
    let s = seen.get(id);
    if (!s) {
      // (continuations are never stored in `seen`: every drive descends into its own)
      const e = parseEntry(fsName);
      if (!e) continue;
      if (e.kind === 'cont') {
        conts.push(readDrive(d, `${dirRel}/${fsName}`, namePrefix + e.text, seen, journalOf, compact));
        continue;
      }
      // Only directories need their path (objects are found again by key).
      const rel = e.kind === 'dir' ? `${dirRel}/${fsName}` : '';
      s = {
        id,
        name: namePrefix + e.text,
        kind: e.kind,
        rel,
        latest: undefined,
        drives: 0,
        said: 0,
        jdrives: 0,
        conflict: false,
      };
      seen.set(id, s);
    }
    s.drives++;
    if (s.kind !== 'obj' || !withJournal) continue;
    s.jdrives++;
    const r = journal?.recs.get(fsName);
    if (!r) continue;
    s.said++;
    if (!('l' in r)) s.conflict = true;
    else if (!s.latest) s.latest = r.l;
    else if (!sameLatest(s.latest, r.l)) s.conflict = true;
  }
  await Promise.all(conts);
  return true;
}

const sameLatest = (a: Latest, b: Latest) => a.v === b.v && a.m === b.m && a.e === b.e;

/** Reads drive `d` into `seen`; whether it says nothing of the directory (failed, or lost the whole bucket). */
async function readOrDead(
  d: Drive,
  bucket: string,
  dirRel: string,
  namePrefix: string,
  seen: Map<string, Seen>,
  journalOf: JournalOf | null,
  compact: () => void,
): Promise<boolean> {
  try {
    const found = await readDrive(d, dirRel, namePrefix, seen, journalOf, compact);
    // A drive that lost the whole bucket (replaced, not yet healed) says nothing about its keys.
    return !found && !(await d.exists(bucket));
  } catch {
    return true;
  }
}

/**
 * The serving node's side of `dirView`: drives (null: not usable here) read at once, their entries added up;
 * `journals[i]`: drive i's journal is read.
 */
export async function partialView(
  drives: (Drive | null)[],
  journals: boolean[],
  bucket: string,
  dirRel: string,
  namePrefix: string,
): Promise<PartialView> {
  const seen = new Map<string, Seen>();
  const compact = drives.map((): 0 | 1 => 0);
  const dead = await Promise.all(
    drives.map(async (d, i): Promise<0 | 1> => {
      if (!d) return 1;
      const journalOf = journals[i] ? readJournal : null;
      return (await readOrDead(d, bucket, dirRel, namePrefix, seen, journalOf, () => (compact[i] = 1))) ? 1 : 0;
    }),
  );
  const entries: PartialEntry[] = [];
  for (const s of seen.values())
    entries.push([
      s.id,
      s.name,
      s.kind === 'dir' ? 1 : 0,
      s.rel,
      s.drives,
      s.said,
      s.jdrives,
      s.conflict ? 1 : 0,
      s.latest ?? null,
    ]);
  return { entries, dead, compact };
}

/** A node's partial view added to `seen`, as if its drives had been read here one by one. */
function addPartial(seen: Map<string, Seen>, entries: PartialEntry[]): void {
  for (const [id, name, kind, rel, drives, said, jdrives, conflict, latest] of entries) {
    const s = seen.get(id);
    if (!s) {
      seen.set(id, {
        id,
        name,
        kind: kind === 1 ? 'dir' : 'obj',
        rel,
        latest: latest ?? undefined,
        drives,
        said,
        jdrives,
        conflict: conflict === 1,
      });
      continue;
    }
    s.drives += drives;
    s.said += said;
    s.jdrives += jdrives;
    if (conflict === 1) s.conflict = true;
    if (latest) {
      if (!s.latest) s.latest = latest;
      else if (!sameLatest(s.latest, latest)) s.conflict = true;
    }
  }
}

/** Latest version according to the journals, or undefined when they cannot be trusted for it. */
function fromJournals(s: Seen): Latest | undefined {
  // Every drive read that has the entry must have said the same.
  return !s.conflict && s.said > 0 && s.said === s.jdrives ? (s.latest ?? undefined) : undefined;
}

export async function readDirView(
  set: ErasureSet,
  bucket: string,
  dirRel: string,
  namePrefix: string,
): Promise<ViewEntry[]> {
  const seen = new Map<string, Seen>();
  let dead = 0;
  const { data, parity } = set.layout('STANDARD');
  // A committed write is on a write quorum, so at most n - quorum drives hold a stale journal line:
  // reading the journals of one more drive than that always includes a fresh one, and a disagreement
  // sends the entry to its metadata. Directory contents are read on every drive.
  let journals = set.size - set.writeQuorum(data, parity) + 1;
  const localJournal: JournalOf = (d, rel) => set.deps.journals.read(d, rel);
  const compactOf = (d: Drive) => () => void set.deps.journals.compact(d, dirRel).catch(() => {});
  const read = async (slot: number, withJournal: boolean) => {
    const d = set.drives[slot];
    if (await readOrDead(d, bucket, dirRel, namePrefix, seen, withJournal ? localJournal : null, compactOf(d))) dead++;
  };
  // Other nodes' drives, by node: read there.
  const byNode = new Map<RpcPeer, { slots: number[]; journals: boolean[] }>();
  const local: number[] = [];
  set.drives.forEach((d, slot) => {
    if (!set.online[slot]) return void dead++;
    if (!(d instanceof RemoteDrive)) return void local.push(slot);
    const node = byNode.get(d.peer) ?? { slots: [], journals: [] };
    byNode.set(d.peer, node);
    node.slots.push(slot);
    node.journals.push(false);
  });
  // The journals read (any `journals` drives will do) are other nodes' first, one node after the other (each
  // parses its own), then this node's.
  const nodes = [...byNode.values()];
  for (let i = 0; journals > 0 && nodes.some((n) => i < n.slots.length); i++)
    for (const n of nodes) if (i < n.slots.length && journals-- > 0) n.journals[i] = true;
  const reads = local.map((slot) => read(slot, journals-- > 0));
  for (const [peer, node] of byNode)
    reads.push(
      (async () => {
        const drives = node.slots.map((slot) => set.drives[slot] as RemoteDrive);
        let view: PartialView;
        try {
          view = await peer.dirView(
            drives.map((d) => d.folder),
            node.journals,
            bucket,
            dirRel,
            namePrefix,
          );
        } catch (e) {
          // An older node: its drives one by one. Down or failing: they say nothing.
          if ((e as NodeJS.ErrnoException).code === 'EINVAL')
            return void (await Promise.all(node.slots.map((slot, i) => read(slot, node.journals[i]))));
          dead += node.slots.length;
          return;
        }
        addPartial(seen, view.entries);
        view.dead.forEach((x, i) => {
          if (x === 1) dead++;
          if (view.compact[i] === 1) compactOf(drives[i])();
        });
      })(),
    );
  await Promise.all(reads);
  const threshold = Math.max(1, set.writeQuorum(data, parity) - dead, set.size === 1 ? 1 : 0);
  const out: ViewEntry[] = [];
  const unknown: ViewEntry[] = [];
  for (const s of seen.values()) {
    if (s.kind === 'obj') {
      if (s.drives < threshold) continue;
      s.latest = fromJournals(s);
      if (s.latest === undefined) unknown.push(s);
    }
    out.push(s);
  }
  // Entries the journals could not vouch for: read their metadata (a few after a crash or an upgrade).
  for (let i = 0; i < unknown.length; i += META_READ_CONCURRENCY) {
    await Promise.all(
      unknown.slice(i, i + META_READ_CONCURRENCY).map(async (e) => {
        const metas = await set.readMetas(bucket, e.name);
        e.latest = latestOf(resolveVersions(metas, set.defaultData).versions);
      }),
    );
  }
  // UTF-16 order (the fast built-in comparison) equals UTF-8 byte order unless a name has a character
  // at or above U+D800; only then the slower exact comparison is needed.
  if (out.some((e) => HIGH.test(e.name))) out.sort((a, b) => compareKeys(a.name, b.name));
  else out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}
