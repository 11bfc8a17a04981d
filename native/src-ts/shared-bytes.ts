// Bytes every worker thread of the process can find (src/shared_bytes.rs): a worker leaves what it read (a
// metadata file under its identity, a verified batch of a version's part) in a named space, and another worker,
// whose connections never saw that object, takes a copy instead of reading it again. A space keeps at most its
// `maxBytes` (each value at most a quarter of it) for at most `ttlMs`, oldest first; values are copied in and
// out. In a server of worker processes, each process has its own spaces (nothing is shared between them).
import { native } from './binding.js';

export interface SharedBytesStats {
  hits: number;
  misses: number;
  puts: number;
  entries: number;
  bytes: number;
}

export class SharedBytes {
  private readonly id: number;

  /** The process's space `name`, made with these bounds by its first asker (later ones get it as it is). */
  constructor(name: string, maxBytes: number, ttlMs: number) {
    this.id = native.sharedBytesSpace(name, maxBytes, ttlMs);
  }

  /** `pieces` joined under `key` with `tag` (an identity the getter checks); false when too large to keep. */
  put(key: string, tag: string, pieces: Buffer[]): boolean {
    return native.sharedBytesPut(this.id, key, tag, pieces);
  }

  /** A copy of the value under `key` and its tag, or null. */
  get(key: string): { tag: string; bytes: Buffer } | null {
    return native.sharedBytesGet(this.id, key) ?? null;
  }

  delete(key: string): void {
    native.sharedBytesDelete(this.id, key);
  }

  /** The space's counters (the whole process's) and what it holds now. */
  stats(): SharedBytesStats {
    return native.sharedBytesStats(this.id);
  }
}
