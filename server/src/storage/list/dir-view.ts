// The merged, sorted view of one key directory of a set: what every live drive's directory holds, voted
// (an object counts when enough drives have it, so one dead or stale drive neither hides nor resurrects
// anything), with each object's latest version taken from the drives' journals, or from its metadata
// file when a journal is missing, pending or in disagreement. Views are cached until a write touches
// the directory (the engine is the only writer of its drives).
// Each node reads its own drives of the set (partialView: their directories and the journals asked for, added up
// and sorted by name); another node's (RemoteDrive) are read by that node, one storage-RPC call `dirView` per node
// and directory, answered in columns (the counts the vote needs, the journals' latest version, whether they
// disagree). The node listed through merges the sorted views in one pass (k-way: no map, no sort of its own), and
// parses only its own drives' journals when the others' do not suffice. A node that does not know the call (or
// answers another format: an older version) is read drive by drive.
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
 * One node's answer to `dirView` (its drives' entries added up), sorted by name in S3's order (UTF-8 bytes), in
 * columns: nothing per entry that the node listed through can derive or does not use (no file name, no path of an
 * object), no object per entry. Per drive asked: whether it says nothing (failed, not served, or lost the bucket)
 * and whether its journal wants compacting (the node listed through compacts it, as for its own drives).
 */
export interface PartialView {
  /** Entry names (full key, or full prefix ending in `/` for a directory), sorted. */
  names: string[];
  /** Per entry 4 bytes: flags (DIR, CONFLICT, LATEST, DELETE), then drives, said and jdrives (see Seen). */
  counts: Uint8Array;
  /** The directory entries' paths, in order. */
  rels: string[];
  /** The latest versions of the entries flagged LATEST, in order: size, ETag, mtime, version id ('' for 'null'),
   * storage class ('' for STANDARD). */
  s: number[];
  e: string[];
  m: number[];
  v: string[];
  c: string[];
  /** 1: a name holds a character at or above U+D800 (the names were sorted by compareKeys, and merge so). */
  hi: 0 | 1;
  dead: (0 | 1)[];
  compact: (0 | 1)[];
}
const DIR = 1;
const CONFLICT = 2;
const LATEST = 4;
const DELETE = 8;

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
    else if (!sameVote(s.latest, r.l)) s.conflict = true;
  }
  await Promise.all(conts);
  return true;
}

/** The same latest version, as far as a vote between drives goes (journal.ts sameLatest compares every field). */
const sameVote = (a: Latest, b: Latest) => a.v === b.v && a.m === b.m && a.e === b.e;

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

/** S3's order (UTF-8 bytes): the fast built-in comparison unless a name has a character at or above U+D800. */
const byName = (high: boolean) => (high ? compareKeys : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The view of `dirRel` on `drives` (null: not usable), read at once and added up, sorted by name: the serving
 * node's side of `dirView`, and the node listed through's for its own drives (and for a node too old for the call).
 * `journals[i]`: drive i's journal is read (`journalOf`, or read from the drive).
 */
export async function partialView(
  drives: (Drive | null)[],
  journals: boolean[],
  bucket: string,
  dirRel: string,
  namePrefix: string,
  journalOf: JournalOf = readJournal,
): Promise<PartialView> {
  const seen = new Map<string, Seen>();
  const compact = drives.map((): 0 | 1 => 0);
  const dead = await Promise.all(
    drives.map(async (d, i): Promise<0 | 1> => {
      if (!d) return 1;
      const read = await readOrDead(d, bucket, dirRel, namePrefix, seen, journals[i] ? journalOf : null, () => {
        compact[i] = 1;
      });
      return read ? 1 : 0;
    }),
  );
  const all = [...seen.values()];
  const hi = all.some((x) => HIGH.test(x.name));
  const cmp = byName(hi);
  all.sort((a, b) => cmp(a.name, b.name));
  const view: PartialView = {
    names: new Array<string>(all.length),
    counts: new Uint8Array(all.length * 4),
    rels: [],
    s: [],
    e: [],
    m: [],
    v: [],
    c: [],
    hi: hi ? 1 : 0,
    dead,
    compact,
  };
  const counts = view.counts;
  for (let i = 0; i < all.length; i++) {
    const x = all[i];
    view.names[i] = x.name;
    let flags = x.conflict ? CONFLICT : 0;
    if (x.kind === 'dir') {
      flags |= DIR;
      view.rels.push(x.rel);
    }
    const l = x.latest;
    if (l) {
      flags |= l.d === 1 ? LATEST | DELETE : LATEST;
      view.s.push(l.s);
      view.e.push(l.e);
      view.m.push(l.m);
      view.v.push(l.v ?? '');
      view.c.push(l.c ?? '');
    }
    // (drive counts fit a byte: a call names at most MAX_VIEW_DRIVES drives, a set has at most 16)
    counts[i * 4] = flags;
    counts[i * 4 + 1] = x.drives;
    counts[i * 4 + 2] = x.said;
    counts[i * 4 + 3] = x.jdrives;
  }
  return view;
}

/** Whether `x` is an answer of this format (a node of another version may answer another). */
export function isView(x: unknown): x is PartialView {
  const v = x as PartialView | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.names) &&
    v.counts instanceof Uint8Array &&
    v.counts.length === v.names.length * 4 &&
    [v.rels, v.s, v.e, v.m, v.v, v.c, v.dead, v.compact].every(Array.isArray)
  );
}

/** A view being merged: the next entry's index, and of its next latest version and directory path. */
interface Cursor {
  view: PartialView;
  i: number;
  l: number;
  r: number;
}

function latestAt(v: PartialView, l: number, flags: number): Latest {
  const out: Latest = { s: v.s[l], e: v.e[l], m: v.m[l] };
  if (v.v[l]) out.v = v.v[l];
  if (v.c[l]) out.c = v.c[l];
  if (flags & DELETE) out.d = 1;
  return out;
}

/**
 * The views (each sorted) merged in one pass, k-way: the entries of one name added up into one, in order. Each
 * cursor's next entry is looked at once per output entry (a handful of nodes: no heap).
 */
function mergeViews(views: PartialView[]): Seen[] {
  const cmp = byName(views.some((v) => v.hi === 1));
  const cursors: Cursor[] = views.filter((v) => v.names.length > 0).map((view) => ({ view, i: 0, l: 0, r: 0 }));
  const out: Seen[] = [];
  while (cursors.length > 0) {
    let name = cursors[0].view.names[cursors[0].i];
    for (let k = 1; k < cursors.length; k++) {
      const n = cursors[k].view.names[cursors[k].i];
      if (cmp(n, name) < 0) name = n;
    }
    let s: Seen | undefined;
    for (let k = 0; k < cursors.length; k++) {
      const c = cursors[k];
      const v = c.view;
      if (v.names[c.i] !== name) continue;
      const at = c.i * 4;
      const flags = v.counts[at];
      const latest = flags & LATEST ? latestAt(v, c.l++, flags) : undefined;
      const rel = flags & DIR ? v.rels[c.r++] : '';
      if (!s) {
        s = {
          id: name,
          name,
          kind: flags & DIR ? 'dir' : 'obj',
          rel,
          latest,
          drives: v.counts[at + 1],
          said: v.counts[at + 2],
          jdrives: v.counts[at + 3],
          conflict: (flags & CONFLICT) !== 0,
        };
      } else {
        s.drives += v.counts[at + 1];
        s.said += v.counts[at + 2];
        s.jdrives += v.counts[at + 3];
        if (flags & CONFLICT) s.conflict = true;
        if (latest) {
          if (!s.latest) s.latest = latest;
          else if (!sameVote(s.latest, latest)) s.conflict = true;
        }
      }
      if (++c.i === v.names.length) cursors.splice(k--, 1);
    }
    out.push(s!);
  }
  return out;
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
  let dead = 0;
  const { data, parity } = set.layout('STANDARD');
  // A committed write is on a write quorum, so at most n - quorum drives hold a stale journal line:
  // reading the journals of one more drive than that always includes a fresh one, and a disagreement
  // sends the entry to its metadata. Directory contents are read on every drive.
  let journals = set.size - set.writeQuorum(data, parity) + 1;
  const localJournal: JournalOf = (d, rel) => set.deps.journals.read(d, rel);
  const compactOf = (d: Drive) => () => void set.deps.journals.compact(d, dirRel).catch(() => {});
  // Other nodes' drives, by node: read there.
  const byNode = new Map<RpcPeer, { slots: number[]; journals: boolean[] }>();
  const local = { slots: [] as number[], journals: [] as boolean[] };
  set.drives.forEach((d, slot) => {
    if (!set.online[slot]) return void dead++;
    if (!(d instanceof RemoteDrive)) return void local.slots.push(slot);
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
  local.journals = local.slots.map(() => journals-- > 0);
  /** A view read here (this node's drives, or an older node's one by one), its dead drives counted. */
  const readHere = async (slots: number[], withJournal: boolean[]) => {
    const drives = slots.map((slot) => set.drives[slot]);
    const view = await partialView(drives, withJournal, bucket, dirRel, namePrefix, localJournal);
    view.dead.forEach((x, i) => {
      if (x === 1) dead++;
      if (view.compact[i] === 1) compactOf(drives[i])();
    });
    return view;
  };
  const reads: Promise<PartialView | null>[] = [];
  if (local.slots.length > 0) reads.push(readHere(local.slots, local.journals));
  for (const [peer, node] of byNode)
    reads.push(
      (async () => {
        const drives = node.slots.map((slot) => set.drives[slot] as RemoteDrive);
        let view: unknown;
        try {
          view = await peer.dirView(
            drives.map((d) => d.folder),
            node.journals,
            bucket,
            dirRel,
            namePrefix,
          );
        } catch (e) {
          // Down or failing: its drives say nothing.
          if ((e as NodeJS.ErrnoException).code !== 'EINVAL') {
            dead += node.slots.length;
            return null;
          }
        }
        // A node of another version (no such call, or another answer): its drives read from here, one by one.
        if (!isView(view)) return readHere(node.slots, node.journals);
        view.dead.forEach((x, i) => {
          if (x === 1) dead++;
          if (view.compact[i] === 1) compactOf(drives[i])();
        });
        return view;
      })(),
    );
  const views = (await Promise.all(reads)).filter((v) => v !== null);
  const threshold = Math.max(1, set.writeQuorum(data, parity) - dead, set.size === 1 ? 1 : 0);
  const out: ViewEntry[] = [];
  const unknown: ViewEntry[] = [];
  for (const s of mergeViews(views)) {
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
  return out;
}
