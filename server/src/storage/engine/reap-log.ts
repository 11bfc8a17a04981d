// Removals of deleted or replaced data, written down on the drive before the metadata change that makes the
// data unreachable. The Reaper removes a data dir only after the grace period (GETs may still stream it); a
// process that stops before then (kill -9, a crash, a hung worker killed by the primary) would otherwise
// leave that data on the drive for ever: no metadata refers to it, so neither listings nor the scanner meet
// it again. Each process appends to its own log, `.cairn.sys/reap/<name>.<generation>` on every drive (one
// line per data dir: its path on the drive). A generation takes GENERATION_LINES lines, then the next one
// starts; a generation's file goes once every removal it holds is done or abandoned, so under steady
// traffic the logs hold about a grace period's worth of lines. At start-up a process takes over its own logs
// from its previous life and, when it is the leader, the logs no running process owns (a server started with
// fewer workers, or alone after running with workers).
import { basename, dirname } from 'node:path';
import { type Drive, errCode, SYS_DIR } from '../drive/drive.js';
import { readDriveMeta } from '../meta/versions.js';
import { KeyedMutex } from '../coordination.js';

export const REAP_DIR = `${SYS_DIR}/reap`;
/** Lines per generation of a process's log (per process, all drives together). */
const GENERATION_LINES = 10_000;

/** Which generation's file a noted removal is in (settle needs it). */
export type Noted = number;

export class ReapLog {
  /** Per drive root and generation: removals written down and not yet done. */
  private readonly pending = new Map<string, number>();
  private readonly mutex = new KeyedMutex();
  private generation = 0;
  private lines = 0;

  /**
   * `name`: this process's logs (its temp area's name); `owned`: whether a log name belongs to a live process;
   * `generationLines`: lines per generation.
   */
  constructor(
    readonly name: string,
    private readonly owned: (name: string) => boolean,
    private readonly generationLines = GENERATION_LINES,
  ) {}

  private file(generation: number): string {
    return `${REAP_DIR}/${this.name}.${generation}`;
  }

  /** Write down that the data dirs `paths` (relative to the drive) will be removed; before they are unreferenced. */
  async note(d: Drive, paths: string[]): Promise<Noted> {
    if (this.lines >= this.generationLines) {
      this.generation++;
      this.lines = 0;
    }
    const generation = this.generation;
    this.lines += paths.length;
    const id = `${d.endpoint}\0${generation}`;
    this.pending.set(id, (this.pending.get(id) ?? 0) + paths.length);
    try {
      await this.append(d, generation, paths.map((p) => `${p}\n`).join(''));
    } catch (e) {
      await this.settle(d, generation, paths.length);
      throw e;
    }
    return generation;
  }

  /** `n` removals noted in `generation` are done, or no longer wanted (the write was rolled back). */
  async settle(d: Drive, generation: Noted, n: number): Promise<void> {
    const id = `${d.endpoint}\0${generation}`;
    const left = (this.pending.get(id) ?? 0) - n;
    if (left > 0) return void this.pending.set(id, left);
    this.pending.delete(id);
    await this.mutex.run(d.endpoint, async () => {
      // A note made meanwhile in this generation counts again: its line must stay.
      if (!this.pending.has(id)) await d.unlinkIfExists(this.file(generation));
    });
  }

  private append(d: Drive, generation: number, text: string): Promise<void> {
    return this.mutex.run(d.endpoint, async () => {
      const file = this.file(generation);
      try {
        await d.append(file, text);
      } catch (e) {
        if (errCode(e) !== 'ENOENT') throw e;
        await d.mkdirs(REAP_DIR); // a drive formatted again since start-up
        await d.append(file, text);
      }
    });
  }

  /**
   * The removals a previous life of this process (and, for the leader, processes no longer running) wrote
   * down and did not finish, per drive; they are this process's from now on (noted again in its current
   * generation, the files read removed). Call once at start-up, before any write.
   */
  async recover(drives: Drive[], leader: boolean): Promise<{ drive: Drive; path: string; noted: Noted }[]> {
    const found = await Promise.all(drives.map(async (d) => (await d.list(REAP_DIR).catch(() => null)) ?? []));
    const ours = (file: string) => {
      const owner = file.slice(0, file.lastIndexOf('.'));
      return owner === this.name || (leader && !this.owned(owner));
    };
    // Start after every generation this name ever had: a recovered line is never noted into a file read here.
    for (const file of found.flat())
      if (file.startsWith(`${this.name}.`))
        this.generation = Math.max(this.generation, Number(file.slice(this.name.length + 1)) + 1 || 0);
    const out: { drive: Drive; path: string; noted: Noted }[] = [];
    for (const [i, d] of drives.entries()) {
      const files = found[i].filter(ours);
      const paths: string[] = [];
      for (const file of files) {
        const raw = await d.read(`${REAP_DIR}/${file}`).catch(() => null);
        for (const line of raw?.toString('utf8').split('\n') ?? []) if (line) paths.push(line);
      }
      if (paths.length > 0) {
        const noted = await this.note(d, paths);
        out.push(...paths.map((path) => ({ drive: d, path, noted })));
      }
      for (const file of files) await d.unlinkIfExists(`${REAP_DIR}/${file}`);
    }
    return out;
  }
}

/**
 * Remove a recovered data dir unless the object's metadata on that drive still refers to it (the write
 * that noted it did not commit there), and the object dir once empty. Unreadable metadata: left to healing.
 */
export async function removeUnreferenced(d: Drive, path: string): Promise<void> {
  const objRel = dirname(path);
  const meta = await readDriveMeta(d, objRel);
  if (meta.state === 'corrupt' || meta.state === 'offline') return;
  if (meta.meta?.versions.some((v) => v.dataDir === basename(path))) return;
  await d.remove(path);
  await d.pruneEmpty(objRel, dirname(objRel));
}
