// The deployment's server pools and their decommissions, as MinIO keeps them in pool.bin: `.cairn.sys/pools.json`
// on every drive of every pool, so whichever pools a start is given, their drives say which pools the deployment
// had. A start that leaves out a pool whose decommission has not completed is refused (its objects would be
// missing, silently); a pool drained to the end may leave the command line, and the list forgets it then. A pool
// is known by its identity, the id of its first drive slot in its format (stable when a drive is wiped and healed,
// or when its folders move), and named by its command-line argument in messages and the admin API.
import type { Drive } from './drive/drive.js';
import { SYS_DIR } from './drive/drive.js';
import { type Formatted, readFormat } from './drive/format.js';
import type { PoolDecommissionInfo } from './decommission.js';

export const POOLS_FILE = `${SYS_DIR}/pools.json`;
/** Where a pool kept its own decommission before the list existed (session 16): read once, then removed. */
const LEGACY_FILE = `${SYS_DIR}/pool.json`;
/** Tries of the list's first save at start-up, 0.5 s, 1 s, ... apart (another node's drives may fail a moment). */
const OPEN_SAVE_TRIES = 5;

export interface PoolEntry {
  /** The pool's identity: the drive id of its first set's first slot (format.json). */
  id: string;
  /** The pool as the command line last named it. */
  cmdline: string;
  decommission?: PoolDecommissionInfo;
  lastUpdate: string;
}

interface Stored {
  version: 1;
  /** Grows with each write: the highest any drive holds is the deployment's list. */
  generation: number;
  pools: PoolEntry[];
}

/** A pool this start was given: its name on the command line and its formatted drives. */
export interface GivenPool {
  cmdline: string;
  formatted: Formatted;
}

const ordinal = (n: number) =>
  `${n}${n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th'}`;

/** The pool list of the pools this process serves (in their command-line order), written to all their drives. */
export class PoolList {
  private generation: number;
  /** Saves one at a time, so a drive never ends on an older list than the one written before. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    /** Every pool's drives, pool by pool. */
    private readonly perPool: Drive[][],
    /** The pools' names, for messages. */
    private readonly names: string[],
    stored: Stored | undefined,
    /** One entry per pool served, in order. */
    readonly entries: PoolEntry[],
  ) {
    this.generation = stored?.generation ?? 0;
  }

  private get drives(): Drive[] {
    return this.perPool.flat();
  }

  /**
   * Reads the list the drives hold and checks the pools given against it: a remembered pool that is not given
   * must have completed its decommission, else this throws, naming it. Pools given and not remembered are added;
   * the list is written back when it changed (never for a lone pool that never had a list), unless `write` is
   * false (the nodes of pools of nodes but one: they start together, and one writes).
   */
  static async open(given: GivenPool[], write = true): Promise<PoolList> {
    const perPool = given.map((g) => g.formatted.sets.flat());
    const drives = perPool.flat();
    const stored = await readList(drives);
    const ids = given.map((g) => g.formatted.sets[0][0].driveId);
    const now = new Date().toISOString();
    let remembered = stored?.pools;
    if (!remembered && given.length > 1) {
      // Before the list: each pool's own file held its decommission.
      remembered = [];
      for (let i = 0; i < given.length; i++) {
        const legacy = await readLegacy(perPool[i]);
        remembered.push({ id: ids[i], cmdline: given[i].cmdline, lastUpdate: legacy?.lastUpdate ?? now, ...legacy });
      }
    }
    refuseMissing(remembered ?? [], ids);
    const entries = given.map((g, i): PoolEntry => {
      const old = remembered?.find((p) => p.id === ids[i]);
      return old ? { ...old, cmdline: g.cmdline } : { id: ids[i], cmdline: g.cmdline, lastUpdate: now };
    });
    const list = new PoolList(
      perPool,
      given.map((g) => g.cmdline),
      stored,
      entries,
    );
    const same =
      stored !== undefined &&
      stored.pools.length === entries.length &&
      stored.pools.every((p, i) => p.id === entries[i].id && p.cmdline === entries[i].cmdline);
    if (write && !same && (stored !== undefined || given.length > 1)) {
      // At start-up the other nodes' drives can fail a moment (a node of several workers binding its port, on a
      // loaded machine): a save that missed a pool's quorum is tried again before the start fails.
      for (let attempt = 1; ; attempt++) {
        try {
          await list.save();
          break;
        } catch (e) {
          if (attempt === OPEN_SAVE_TRIES) throw e;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
      if (!stored) await Promise.all(drives.map((d) => d.unlinkIfExists(LEGACY_FILE).catch(() => {})));
    }
    return list;
  }

  /**
   * The same check as `open`, before anything is written to any drive (formatDrives makes a new pool's format):
   * a start refused for a pool left out must leave a new pool given in its place as it was. A pool is known here
   * by the format its drives already hold; one without any is new, and matches no pool remembered.
   */
  static async precheck(given: { drives: Drive[] }[]): Promise<void> {
    const stored = await readList(given.flatMap((g) => g.drives));
    if (!stored) return;
    const ids = await Promise.all(
      given.map(async (g) => {
        for (const d of g.drives) {
          const f = await readFormat(d).catch(() => null);
          if (f?.sets[0]?.[0]) return f.sets[0][0];
        }
        return undefined;
      }),
    );
    refuseMissing(
      stored.pools,
      ids.filter((id): id is string => id !== undefined),
    );
  }

  /**
   * The entries and generation again from the drives (a worker that takes over the drains: the last leader may
   * have written the list without telling). The generation skips one: a write of the last leader still in flight
   * when it died (one at most: saves go one at a time) can then never tie with this one's next.
   */
  async reload(): Promise<void> {
    await this.saving;
    const stored = await readList(this.drives);
    if (!stored) return;
    this.generation = Math.max(this.generation, stored.generation + 1);
    for (const e of this.entries) {
      const s = stored.pools.find((p) => p.id === e.id);
      if (!s) continue;
      e.lastUpdate = s.lastUpdate;
      if (s.decommission) e.decommission = s.decommission;
      else delete e.decommission;
    }
  }

  /**
   * Writes the list (the entries as they are now) to every drive of every pool. A drive that fails is left, but each
   * pool's write quorum (half its drives and one) must take it, else this throws (the list the drives then hold, the
   * highest generation any has, may be this one or the one before: a drain that fails on it is saved again).
   */
  save(): Promise<void> {
    const next = this.saving.then(async () => {
      this.generation++;
      const text = `${JSON.stringify({ version: 1, generation: this.generation, pools: this.entries } satisfies Stored)}\n`;
      const took = await Promise.all(
        this.perPool.map(async (drives) => {
          const ok = await Promise.all(
            drives.map((d) =>
              d.writeAtomic(POOLS_FILE, text).then(
                () => true,
                () => false,
              ),
            ),
          );
          return ok.filter(Boolean).length;
        }),
      );
      const short = took.findIndex((n, i) => n < Math.floor(this.perPool[i].length / 2) + 1);
      if (short >= 0)
        throw new Error(
          `the pool list reached ${took[short]} of pool ${this.names[short]}'s ${this.perPool[short].length} drives ` +
            `(${Math.floor(this.perPool[short].length / 2) + 1} needed)`,
        );
    });
    this.saving = next.catch(() => {});
    return next;
  }
}

/** Throws, naming them, when pools of the list are not among `ids` (those given) and not drained to the end. */
function refuseMissing(remembered: PoolEntry[], ids: string[]): void {
  const missing = remembered
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !ids.includes(p.id) && !p.decommission?.complete);
  if (missing.length === 0) return;
  const names = missing.map(({ p, i }) => {
    const d = p.decommission;
    const state = !d
      ? 'never decommissioned'
      : d.canceled
        ? 'its decommission was canceled'
        : d.failed
          ? 'its decommission failed'
          : 'its decommission has not completed';
    return `pool ${p.cmdline} (the ${ordinal(i + 1)} pool, ${state})`;
  });
  throw new Error(
    `${names.join('; ')}: not on the command line, but it holds objects that would be missing. Give it again; ` +
      'to remove a pool, run `cairn admin decommission start POOL` and wait for `decommission status` to say complete',
  );
}

/** The list with the highest generation any of the drives holds. */
async function readList(drives: Drive[]): Promise<Stored | undefined> {
  let best: Stored | undefined;
  for (const raw of await Promise.all(drives.map((d) => d.read(POOLS_FILE).catch(() => null)))) {
    if (!raw) continue;
    try {
      const s = JSON.parse(raw.toString('utf8')) as Stored;
      if (s.version !== 1 || !Array.isArray(s.pools) || typeof s.generation !== 'number') continue;
      if (!best || s.generation > best.generation) best = s;
    } catch {
      // A torn or foreign file: the other drives say.
    }
  }
  return best;
}

/** A pool's own decommission file of session 16 (the newest its drives hold). */
async function readLegacy(drives: Drive[]): Promise<Pick<PoolEntry, 'decommission' | 'lastUpdate'> | undefined> {
  let best: Pick<PoolEntry, 'decommission' | 'lastUpdate'> | undefined;
  for (const raw of await Promise.all(drives.map((d) => d.read(LEGACY_FILE).catch(() => null)))) {
    if (!raw) continue;
    try {
      const s = JSON.parse(raw.toString('utf8')) as Pick<PoolEntry, 'decommission' | 'lastUpdate'>;
      if (!best || s.lastUpdate > best.lastUpdate) best = s;
    } catch {
      // as above
    }
  }
  return best;
}
