// The bytes readCached keeps per path beside the file's identity (inode, size, mtime, ctime), oldest-read
// evicted first: LocalDrive's, and RemoteDrive's for the files it reads over the storage RPC (the serving
// node compares the identity, so an unchanged file costs one stat there and no bytes on the wire). A LocalDrive of a
// worker thread also leaves what it keeps in the process's shared space and looks there first on a miss (share):
// another worker then checks the identity the first one saw (a stat, in its set's grouped task) instead of reading.
import type { SharedBytes } from '@cairn/native';
import { OldestKeys } from '../oldest-keys.js';

/** An identity check's answer: null = no such file; `bytes` absent = still the identity `known`. */
export interface IfChanged {
  id: string;
  /** The identity may be kept: its ctime is settled (see LocalDrive.readCached). */
  settled: boolean;
  bytes?: Buffer;
}

export class ReadCache {
  private readonly kept = new Map<string, { id: string; bytes: Buffer }>();
  private readonly oldest = new OldestKeys(this.kept);
  private bytes = 0;

  private shared: { space: SharedBytes; prefix: string; taken: () => void } | undefined;

  constructor(public maxBytes: number) {}

  /** Kept files go to `space` too, under `prefix` + path, and are looked for there on a miss (counted by `taken`). */
  share(space: SharedBytes, prefix: string, taken: () => void): void {
    this.shared = { space, prefix, taken };
  }

  /** Reads `rel` through `readIfChanged(rel, known identity)`, answering from the kept bytes when unchanged. */
  async read(rel: string, readIfChanged: (rel: string, known: string) => Promise<IfChanged | null>) {
    const shared = this.shared;
    let hit = this.kept.get(rel);
    // Another worker's copy is only a guess at the identity: the stat below decides, as for our own.
    const other = !hit && shared ? shared.space.get(shared.prefix + rel) : null;
    if (other) hit = { id: other.tag, bytes: other.bytes };
    const read = await readIfChanged(rel, hit?.id ?? '');
    if (!read) {
      this.forget(rel);
      if (shared) shared.space.delete(shared.prefix + rel);
      return null;
    }
    if (!read.bytes) {
      if (other && !this.kept.has(rel)) {
        shared!.taken();
        this.keep(rel, hit!);
      }
      return hit!.bytes;
    }
    this.forget(rel);
    if (!read.settled) return read.bytes; // changed just now: may change again within one tick
    this.keep(rel, { id: read.id, bytes: read.bytes });
    shared?.space.put(shared.prefix + rel, read.id, [read.bytes]);
    return read.bytes;
  }

  private keep(rel: string, e: { id: string; bytes: Buffer }): void {
    this.kept.set(rel, e);
    this.bytes += e.bytes.length;
    while (this.bytes > this.maxBytes) this.forget(this.oldest.next()!);
  }

  private forget(rel: string): void {
    const e = this.kept.get(rel);
    if (!e) return;
    this.kept.delete(rel);
    this.bytes -= e.bytes.length;
  }
}
