// The merged, sorted view of one key directory of a set: what every live drive's directory holds, voted
// (an object counts when enough drives have it, so one dead or stale drive neither hides nor resurrects
// anything), with each object's latest version taken from the drives' journals, or from its metadata
// file when a journal is missing, pending or in disagreement. Views are cached until a write touches
// the directory (the engine is the only writer of its drives).
import type { ErasureSet } from '../engine/erasure-set.js';
import { compareKeys, parseEntry } from '../meta/key-path.js';
import { resolveVersions } from '../meta/versions.js';
import { latestOf, type Latest, type JournalRec } from './journal.js';

export interface ViewEntry {
  /** Full key (objects) or full prefix ending in `/` (directories). */
  name: string;
  kind: 'obj' | 'dir';
  /** Path of the entry relative to the drive root. */
  rel: string;
  /** Latest version (objects); null when none could be read. */
  latest?: Latest | null;
}

interface Seen {
  name: string;
  kind: 'obj' | 'dir';
  rel: string;
  drives: number;
  /** Drives whose journal was read and that have the entry. */
  jdrives: number;
  recs: (JournalRec | undefined)[];
}

const META_READ_CONCURRENCY = 32;

async function readDrive(
  set: ErasureSet,
  slot: number,
  dirRel: string,
  namePrefix: string,
  seen: Map<string, Seen>,
  withJournal: boolean,
): Promise<void> {
  const d = set.drives[slot];
  const [names, journal] = await Promise.all([d.list(dirRel), withJournal ? set.deps.journals.read(d, dirRel).catch(() => null) : null]);
  if (!names) return;
  if (journal && journal.lines > 2 * journal.recs.size + 1000) void set.deps.journals.compact(d, dirRel).catch(() => {});
  const conts: Promise<void>[] = [];
  for (const fsName of names) {
    const e = parseEntry(fsName);
    if (!e) continue;
    const rel = `${dirRel}/${fsName}`;
    if (e.kind === 'cont') {
      conts.push(readDrive(set, slot, rel, namePrefix + e.text, seen, withJournal));
      continue;
    }
    const name = namePrefix + e.text;
    const id = `${e.kind}\0${name}`;
    let s = seen.get(id);
    if (!s) seen.set(id, (s = { name, kind: e.kind, rel, drives: 0, jdrives: 0, recs: new Array(set.size) }));
    s.drives++;
    if (e.kind === 'obj' && withJournal) {
      s.jdrives++;
      s.recs[slot] = journal?.recs.get(fsName);
    }
  }
  await Promise.all(conts);
}

/** Latest version according to the journals, or undefined when they cannot be trusted for it. */
function fromJournals(s: Seen): Latest | undefined {
  let agreed: Latest | undefined;
  for (const r of s.recs) {
    if (r === undefined) continue;
    if (!('l' in r)) return undefined;
    if (agreed && (agreed.v !== r.l.v || agreed.m !== r.l.m || agreed.e !== r.l.e)) return undefined;
    agreed = r.l;
  }
  // Every drive read that has the entry must have said the same.
  const said = s.recs.filter((r) => r !== undefined).length;
  return said === s.jdrives && said > 0 ? agreed : undefined;
}

export async function readDirView(set: ErasureSet, bucket: string, dirRel: string, namePrefix: string): Promise<ViewEntry[]> {
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
        await readDrive(set, slot, dirRel, namePrefix, seen, withJournal);
        // A drive that lost the whole bucket (replaced, not yet healed) says nothing about its keys.
        if (!(await set.drives[slot].exists(bucket))) dead++;
      } catch {
        dead++;
      }
    }),
  );
  const threshold = Math.max(1, set.writeQuorum(data, parity) - dead, set.size === 1 ? 1 : 0);
  const out: ViewEntry[] = [];
  const unknown: ViewEntry[] = [];
  for (const s of seen.values()) {
    if (s.kind === 'dir') {
      out.push({ name: s.name, kind: 'dir', rel: s.rel });
      continue;
    }
    if (s.drives < threshold) continue;
    const latest = fromJournals(s);
    const e: ViewEntry = { name: s.name, kind: 'obj', rel: s.rel, latest };
    if (latest === undefined) unknown.push(e);
    out.push(e);
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
  out.sort((a, b) => compareKeys(a.name, b.name));
  return out;
}
