// The bytes readCached keeps per path beside the file's identity (inode, size, mtime, ctime), oldest-read
// evicted first: LocalDrive's, and RemoteDrive's for the files it reads over the storage RPC (the serving
// node compares the identity, so an unchanged file costs one stat there and no bytes on the wire).

/** An identity check's answer: null = no such file; `bytes` absent = still the identity `known`. */
export interface IfChanged {
  id: string;
  /** The identity may be kept: its ctime is settled (see LocalDrive.readCached). */
  settled: boolean;
  bytes?: Buffer;
}

export class ReadCache {
  private readonly kept = new Map<string, { id: string; bytes: Buffer }>();
  private bytes = 0;

  constructor(public maxBytes: number) {}

  /** Reads `rel` through `readIfChanged(rel, known identity)`, answering from the kept bytes when unchanged. */
  async read(rel: string, readIfChanged: (rel: string, known: string) => Promise<IfChanged | null>) {
    const hit = this.kept.get(rel);
    const read = await readIfChanged(rel, hit?.id ?? '');
    if (!read) {
      this.forget(rel);
      return null;
    }
    if (!read.bytes) return hit!.bytes;
    this.forget(rel);
    if (!read.settled) return read.bytes; // changed just now: may change again within one tick
    this.kept.set(rel, { id: read.id, bytes: read.bytes });
    this.bytes += read.bytes.length;
    while (this.bytes > this.maxBytes) this.forget(this.kept.keys().next().value!);
    return read.bytes;
  }

  private forget(rel: string): void {
    const e = this.kept.get(rel);
    if (!e) return;
    this.kept.delete(rel);
    this.bytes -= e.bytes.length;
  }
}
