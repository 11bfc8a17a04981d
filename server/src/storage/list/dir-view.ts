// The merged, sorted view of one key directory of a set: what every live drive's directory holds, voted
// (an object counts when enough drives have it, so one dead or stale drive neither hides nor resurrects
// anything), with each object's latest version taken from the drives' journals, or from its metadata
// file when a journal is missing, pending or in disagreement. Views are cached until a write touches
// the directory (the engine is the only writer of its drives).
import type { ErasureSet } from '../engine/erasure-set.js';
import { compareKeys, parseEntry } from '../meta/key-path.js';
import { resolveVersions } from '../meta/versions.js';
import { latestOf, needsCompaction, type Latest } from './journal.js';

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
  drives: number;
  /** Journal lines found for the entry (on drives whose journal was read) and whether they agree. */
  said: number;
  /** Drives whose journal was read and that have the entry. */
  jdrives: number;
  conflict: boolean;
}

const META_READ_CONCURRENCY = 32;
const HIGH = /[\ud800-\uffff]/;

async function readDrive(
  set: ErasureSet,
  slot: number,
  dirRel: string,
  namePrefix: string,
  seen: Map<string, Seen>,
  withJournal: boolean,
): Promise<boolean> {
  const d = set.drives[slot];
  const [names, journal] = await Promise.all([
    d.list(dirRel),
    withJournal ? set.deps.journals.read(d, dirRel).catch(() => null) : null,
  ]);
  if (!names) return false;
  if (journal && needsCompaction(journal)) void set.deps.journals.compact(d, dirRel).catch(() => {});
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
        conts.push(readDrive(set, slot, `${dirRel}/${fsName}`, namePrefix + e.text, seen, withJournal));
        continue;
      }
      // Only directories need their path (objects are found again by key).
      const rel = e.kind === 'dir' ? `${dirRel}/${fsName}` : '';
      s = {
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
    else if (s.latest.v !== r.l.v || s.latest.m !== r.l.m || s.latest.e !== r.l.e) s.conflict = true;
  }
  await Promise.all(conts);
  return true;
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
  await Promise.all(
    set.drives.map(async (_, slot) => {
      if (!set.online[slot]) return void dead++;
      const withJournal = journals-- > 0;
      try {
        const found = await readDrive(set, slot, dirRel, namePrefix, seen, withJournal);
        // A drive that lost the whole bucket (replaced, not yet healed) says nothing about its keys.
        if (!found && !(await set.drives[slot].exists(bucket))) dead++;
      } catch {
        dead++;
      }
    }),
  );
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
