// Removals of deleted or replaced data, written down on the drive before the metadata change that makes the
// data unreachable. The Reaper removes a data dir only after the grace period (GETs may still stream it); a
// process that stops before then (kill -9, a crash, a hung worker killed by the primary) would otherwise
// leave that data on the drive for ever: no metadata refers to it, so neither listings nor the scanner meet
// it again. Each process appends to its own log, `.cairn.sys/reap/<name>` on every drive (one line per data
// dir: its path on the drive), and removes the log once every removal it holds is done or abandoned. At
// start-up a process takes over its own log from its previous life and, when it is the leader, the logs no
// running process owns (a server started with fewer workers, or alone after running with workers).
import { basename, dirname } from 'node:path';
import { errCode, type LocalDrive, SYS_DIR, writeWhole } from '../drive/local-drive.js';
import { readDriveMeta } from '../meta/versions.js';
import { KeyedMutex } from './locks.js';

export const REAP_DIR = `${SYS_DIR}/reap`;

export class ReapLog {
  /** Per drive root: removals written down and not yet done (the log goes when this reaches 0). */
  private readonly pending = new Map<string, number>();
  private readonly mutex = new KeyedMutex();

  /** `name`: this process's log (its temp area's name); `owned`: whether a log name belongs to a live process. */
  constructor(
    readonly name: string,
    private readonly owned: (name: string) => boolean,
  ) {}

  private get rel(): string {
    return `${REAP_DIR}/${this.name}`;
  }

  /** Write down that the data dirs `paths` (relative to the drive) will be removed; before they are unreferenced. */
  async note(d: LocalDrive, paths: string[]): Promise<void> {
    this.pending.set(d.root, (this.pending.get(d.root) ?? 0) + paths.length);
    try {
      await this.append(d, paths.map((p) => `${p}\n`).join(''));
    } catch (e) {
      await this.settle(d, paths.length);
      throw e;
    }
  }

  /** `n` noted removals are done, or no longer wanted (the write that would have made them was rolled back). */
  async settle(d: LocalDrive, n: number): Promise<void> {
    const left = (this.pending.get(d.root) ?? 0) - n;
    this.pending.set(d.root, left);
    if (left > 0) return;
    await this.mutex.run(d.root, async () => {
      // A note made meanwhile counts again: its line must stay.
      if ((this.pending.get(d.root) ?? 0) <= 0) await d.unlinkIfExists(this.rel);
    });
  }

  private append(d: LocalDrive, text: string): Promise<void> {
    return this.mutex.run(d.root, async () => {
      try {
        await writeWhole(d.abs(this.rel), text, 'a');
      } catch (e) {
        if (errCode(e) !== 'ENOENT') throw e;
        await d.mkdirs(REAP_DIR); // a drive formatted again since start-up
        await writeWhole(d.abs(this.rel), text, 'a');
      }
    });
  }

  /**
   * The removals a previous life of this process (and, for the leader, processes no longer running) wrote
   * down and did not finish, per drive; they are this process's from now on (noted in its own log, the
   * adopted logs removed). Call once at start-up, before any write.
   */
  async recover(drives: LocalDrive[], leader: boolean): Promise<{ drive: LocalDrive; path: string }[]> {
    const out: { drive: LocalDrive; path: string }[] = [];
    for (const d of drives) {
      const names = ((await d.list(REAP_DIR).catch(() => null)) ?? []).filter(
        (n) => n === this.name || (leader && !this.owned(n)),
      );
      const paths: string[] = [];
      for (const n of names) {
        const raw = await d.read(`${REAP_DIR}/${n}`).catch(() => null);
        for (const line of raw?.toString('utf8').split('\n') ?? []) if (line) paths.push(line);
      }
      const adopted = names.filter((n) => n !== this.name);
      if (adopted.length > 0 && paths.length > 0) await this.note(d, paths);
      else if (paths.length > 0) this.pending.set(d.root, paths.length);
      for (const n of adopted) await d.unlinkIfExists(`${REAP_DIR}/${n}`);
      if (paths.length === 0) await d.unlinkIfExists(this.rel);
      out.push(...paths.map((path) => ({ drive: d, path })));
    }
    return out;
  }
}

/**
 * Remove a recovered data dir unless the object's metadata on that drive still refers to it (the write
 * that noted it did not commit there), and the object dir once empty. Unreadable metadata: left to healing.
 */
export async function removeUnreferenced(d: LocalDrive, path: string): Promise<void> {
  const objRel = dirname(path);
  const meta = await readDriveMeta(d, objRel);
  if (meta.state === 'corrupt' || meta.state === 'offline') return;
  if (meta.meta?.versions.some((v) => v.dataDir === basename(path))) return;
  await d.remove(path);
  await d.pruneEmpty(objRel, dirname(objRel));
}
