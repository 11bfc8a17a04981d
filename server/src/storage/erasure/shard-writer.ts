// Writes one part erasure-coded: every block arrives as data + parity frames ([bitrot hash][shard], from
// the fused native pass) and drive i receives frame dist[i]. Small parts stay in memory and end up
// inline in the metadata file; once a drive's shard outgrows the inline limit, shards go to temp files.
// A drive that fails is dropped (its slot becomes null); the caller decides whether quorum still holds.
import { type Drive, errCode, type ShardSink } from '../drive/drive.js';
import type { ErasureInfo } from '../meta/meta-file.js';

export class ShardWriter {
  private pending: Buffer[][] = [];
  private pendingBytes = 0;
  private files: (ShardSink | null)[] | null = null;
  /** Why each drive dropped out (undefined = still fine). */
  readonly errors: (string | undefined)[];

  constructor(
    private readonly ec: ErasureInfo,
    /** Per set slot: the drive, or null when it is already known to be offline. */
    private readonly drives: (Drive | null)[],
    /** Path of the shard file, relative to each drive. */
    private readonly fileRel: string,
    private readonly inlineLimit: number,
  ) {
    this.errors = drives.map((d) => (d ? undefined : 'offline'));
    this.pending = drives.map(() => []);
  }

  /**
   * Take the frames of the next block (indexed by shard) and send each drive its own. Resolves true
   * when the frames are written and their memory may be reused, false when they are kept (inline).
   */
  async writeFrames(frames: Buffer[]): Promise<boolean> {
    const perDrive = this.ec.dist.map((s) => [frames[s - 1]]);
    if (!this.files) {
      this.pending.forEach((list, i) => list.push(...perDrive[i]));
      this.pendingBytes += frames[0].length;
      if (this.pendingBytes <= this.inlineLimit) return false;
      await this.openFiles();
      await this.flush(this.pending);
      this.pending = [];
      return true; // this block's frames are written now; earlier blocks' (kept inline so far) are left to the GC
    }
    await this.flush(perDrive);
    return true;
  }

  private async openFiles(): Promise<void> {
    this.files = await Promise.all(
      this.drives.map(async (d, i) => {
        if (!d || this.errors[i]) return null;
        try {
          return await d.createShard(this.fileRel);
        } catch (e) {
          this.errors[i] = errCode(e) ?? String(e);
          return null;
        }
      }),
    );
  }

  private async flush(perDrive: Buffer[][]): Promise<void> {
    await Promise.all(
      this.files!.map(async (fh, i) => {
        if (!fh) return;
        try {
          await fh.write(perDrive[i], this.fileRel);
        } catch (e) {
          this.errors[i] = errCode(e) ?? String(e);
          this.files![i] = null;
          await fh.abort();
        }
      }),
    );
  }

  /** Close files (fsync'd data is not needed for the rename protocol). Returns inline shards or null. */
  async finish(): Promise<Buffer[] | null> {
    if (!this.files) return this.pending.map((l) => Buffer.concat(l));
    await Promise.all(
      this.files.map(async (fh, i) => {
        if (!fh) return;
        try {
          await fh.close();
        } catch (e) {
          this.errors[i] = errCode(e) ?? String(e);
        }
      }),
    );
    return null;
  }

  async abort(): Promise<void> {
    if (this.files) await Promise.all(this.files.map((fh) => fh?.abort()));
  }

  okCount(): number {
    return this.errors.filter((e) => e === undefined).length;
  }
}
