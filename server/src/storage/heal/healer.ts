// Background healing: a queue of objects to heal (fed by reads that met bad shards and writes that missed
// drives), a scanner that walks every object in slow cycles, and a drive monitor that notices dead,
// returning and replaced (emptied) drives. All of it paced so client requests keep priority. Of the
// processes sharing the drives only the leader heals, scans and rebuilds; the others run the drive
// monitor to know which drives to use, and leave an emptied drive to the leader. The leader may change at
// run time (setLeader: the nodes of a distributed deployment); a process that does not lead may keep heal
// requests (the newest STANDBY_MAX) to heal them once it leads. Fresh drives found at start are rebuilt
// by the process that found them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageContext } from '../context.js';
import { readFormat, writeFormat, type FormatFile } from '../drive/format.js';
import { type Drive, MULTIPART_DIR, SYS_DIR, TMP_DIR } from '../drive/drive.js';
import type { ErasureObjects } from '../engine/erasure-objects.js';
import { walkSet } from '../list/walk.js';
import { healObject, type HealResult } from './heal-object.js';

const QUEUE_FILE = `${SYS_DIR}/heal-queue.json`;
/** Heal requests a process that does not lead keeps (the oldest go first). */
const STANDBY_MAX = 10_000;

export interface HealJob {
  set: number;
  bucket: string;
  key: string;
  deep: boolean;
}

export interface HealStatus {
  queued: number;
  healedObjects: number;
  /** Of those, healed from the queue (objects reads and writes found damaged), not by the scanner. */
  queueHealed: number;
  failedObjects: number;
  scannedObjects: number;
  scanCycles: number;
  lastScanEnd?: Date;
  /** Drives being rebuilt in full (replaced or fresh). */
  healingDrives: string[];
  drives: { path: string; set: number; index: number; online: boolean; writable: boolean; error?: string }[];
  recent: HealResult[];
}

export interface HealerOptions {
  driveCheckIntervalMs: number;
  driveCheckTimeoutMs: number;
  scannerIntervalMs: number;
  scannerObjectsPerSecond: number;
  scannerDeep: boolean;
  background: boolean;
  /** This process heals, scans and rebuilds drives (one of the processes sharing the drives), at start. */
  leader: boolean;
}

export class Healer {
  private queue = new Map<string, HealJob>();
  private deferred = new Map<string, HealJob>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private recent: HealResult[] = [];
  private healed = 0;
  private queueHealed = 0;
  private failed = 0;
  private scanned = 0;
  private cycles = 0;
  private lastScanEnd?: Date;
  private healing = new Set<Drive>();
  private loops: Promise<void>[] = [];
  private abort = new AbortController();
  private checking = new Set<Drive>();
  /** The drive check a failed request asked for (recheckDrives), while it runs, and when the last one began. */
  private recheck: Promise<void> | undefined;
  private lastRecheck = 0;
  /** Emptied drives this (non-leader) process has seen and left to the leader. */
  private leftToLeader = new Set<Drive>();
  private leading: boolean;
  /** Counts changes of leadership: a loop of an earlier time as leader ends. */
  private term = 0;
  /** Work run after each full scanner cycle (afterScanCycle). */
  private readonly afterCycle: (() => Promise<unknown>)[] = [];

  constructor(
    private readonly ctx: StorageContext,
    private readonly objects: ErasureObjects,
    private readonly format: Omit<FormatFile, 'driveId'>,
    private readonly opts: HealerOptions,
  ) {
    this.leading = opts.leader;
  }

  async start(fresh: Drive[]): Promise<void> {
    if (this.leading) await this.loadQueue();
    for (const d of fresh) this.healDriveInBackground(d);
    if (!this.opts.background) return;
    this.loops.push(this.monitorLoop());
    if (this.leading) this.startLeading();
  }

  private startLeading(): void {
    const term = this.term;
    this.loops.push(this.queueLoop(term), this.scanLoop(term));
  }

  /**
   * This process starts leading (the queue saved by the last leader that stopped is loaded, the queue and
   * the scanner run) or stops (they stop; what was queued is kept, as a process that does not lead keeps
   * the requests it hears).
   */
  setLeader(on: boolean): void {
    if (on === this.leading || this.stopped) return;
    this.leading = on;
    this.term++;
    this.wake?.();
    if (!on) {
      for (const [id, job] of this.deferred) this.queue.set(id, job);
      this.deferred.clear();
      return;
    }
    const term = this.term;
    const begin = this.loadQueue().then(() => {
      if (this.opts.background && term === this.term && !this.stopped) this.startLeading();
    });
    this.loops.push(begin);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    // What the loops start meanwhile (a rebuild after a reformat) joins them: wait until nothing is added.
    for (let n = -1; n !== this.loops.length; ) {
      n = this.loops.length;
      await Promise.all(this.loops);
    }
    if (this.leading) await this.saveQueue();
  }

  /** Objects still waiting for a heal survive a restart: saved on every writable drive of their set. */
  private async saveQueue(): Promise<void> {
    for (const set of this.objects.sets) {
      const jobs = [...this.queue.values(), ...this.deferred.values()].filter((j) => j.set === set.index);
      const text = JSON.stringify(jobs);
      await Promise.all(
        set.writeDrives().map(async (d) => {
          if (!d) return;
          if (jobs.length > 0) await d.writeAtomic(QUEUE_FILE, text).catch(() => {});
          else await d.unlinkIfExists(QUEUE_FILE).catch(() => {});
        }),
      );
    }
  }

  private async loadQueue(): Promise<void> {
    for (const set of this.objects.sets) {
      for (const d of set.liveDrives()) {
        const raw = await d?.read(QUEUE_FILE).catch(() => null);
        if (!raw) continue;
        try {
          for (const j of JSON.parse(raw.toString('utf8')) as { bucket: string; key: string; deep: boolean }[]) {
            this.enqueue(set.index, j.bucket, j.key, j.deep);
          }
        } catch {
          // a damaged queue file: the scanner finds the rest
        }
      }
    }
  }

  /** The objects waiting for a heal (queued, or waiting for a drive). */
  pending(): HealJob[] {
    return [...this.queue.values(), ...this.deferred.values()];
  }

  /** `deep`: verify every shard hash (a read saw corruption), not just presence and size. */
  enqueue(set: number, bucket: string, key: string, deep = false): void {
    const id = `${set}\0${bucket}\0${key}`;
    if (!this.leading && this.queue.size >= STANDBY_MAX && !this.queue.has(id))
      this.queue.delete(this.queue.keys().next().value!);
    if (this.queue.size >= 100_000) return; // the scanner will find the rest
    this.queue.set(id, { set, bucket, key, deep: deep || !!this.queue.get(id)?.deep });
    this.wake?.();
  }

  private record(r: HealResult): HealResult {
    if (r.state === 'healed' || r.state === 'removed') this.healed++;
    if (r.state === 'failed') this.failed++;
    if (r.state !== 'ok') {
      this.recent.push(r);
      if (this.recent.length > 100) this.recent.shift();
    }
    return r;
  }

  async healObject(bucket: string, key: string, deep = false): Promise<HealResult> {
    const set = this.objects.setOf(key);
    return this.record(await healObject(set, bucket, key, deep));
  }

  /** Heal every object of a bucket (all sets), or of one set only. */
  async healBucket(bucket: string, deep = false, onlySet?: number): Promise<HealResult[]> {
    await this.objects.buckets.get(bucket);
    const out: HealResult[] = [];
    for (const set of this.objects.sets) {
      if (onlySet !== undefined && set.index !== onlySet) continue;
      for await (const item of walkSet(set, bucket, this.objects.cache, { prefix: '', withDeleted: true })) {
        if (this.stopped) return out;
        out.push(this.record(await healObject(set, bucket, item.key, deep)));
      }
    }
    return out;
  }

  /** Rebuild everything a drive should hold (it came back empty). */
  async healDrive(d: Drive): Promise<void> {
    this.healing.add(d);
    try {
      await this.objects.buckets.healDrive(d);
      await this.objects.listingsChanged();
      const before = this.healed;
      for (const b of await this.objects.buckets.listAll()) await this.healBucket(b.name, false, d.setIndex);
      this.ctx.log.info(`drive ${d.endpoint} rebuilt: ${this.healed - before} objects healed`);
    } finally {
      this.healing.delete(d);
    }
  }

  private healDriveInBackground(d: Drive, claimed = false): void {
    if (this.healing.has(d) && !claimed) return;
    this.ctx.log.warn(`drive ${d.endpoint} is new or was replaced: rebuilding its contents`);
    this.loops.push(
      this.healDrive(d).catch((e) => this.ctx.log.warn(`healing ${d.endpoint} failed: ${(e as Error).message}`)),
    );
  }

  private async queueLoop(term: number): Promise<void> {
    while (!this.stopped && term === this.term) {
      const first = this.queue.entries().next();
      if (first.done) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 1000).unref();
        });
        this.wake = null;
        continue;
      }
      const [id, job] = first.value;
      this.queue.delete(id);
      await this.runJob(id, job);
      await sleep(5); // leave room for client requests
    }
  }

  /**
   * Heal one queued object. A drive of its set that is offline cannot be repaired now: the job waits
   * (in `deferred`) until that drive is back. So does a heal that failed: a drive that stopped answering
   * (a node killed, its drives not yet found offline by the monitor) fails it before it is marked offline.
   */
  private async runJob(id: string, job: HealJob): Promise<void> {
    const set = this.objects.sets[job.set];
    const r = await healObject(set, job.bucket, job.key, job.deep).catch(
      (e): HealResult => ({ bucket: job.bucket, key: job.key, drivesHealed: 0, state: 'failed', error: String(e) }),
    );
    this.record(r);
    // A heal that repaired some drives and failed on others (an offline node's) repaired something.
    if (r.state === 'healed' || r.state === 'removed' || r.drivesHealed > 0) this.queueHealed++;
    const waiting = r.state === 'failed' || set.drives.some((_, i) => !set.online[i] || !set.writable[i]);
    if (waiting && this.deferred.size < 100_000) this.deferred.set(id, job);
  }

  /** A drive is back: what it missed meanwhile goes to the queue again. */
  private drivesBack(setIndex: number): void {
    for (const [id, job] of this.deferred) {
      if (job.set !== setIndex) continue;
      this.deferred.delete(id);
      this.enqueue(job.set, job.bucket, job.key, job.deep);
    }
  }

  /** Probe drives: mark dead ones offline, bring back returning ones, reformat and rebuild emptied ones. */
  async checkDrives(): Promise<void> {
    const started = Date.now();
    const all = this.objects.sets.flatMap((set) => set.drives.map((d, i) => ({ set, d, i })));
    await Promise.all(
      all.map(async ({ set, d, i }) => {
        if (this.checking.has(d)) return; // still stuck in an earlier check: it stays offline
        this.checking.add(d);
        const check = this.checkDrive(set.online, set.writable, d, i).finally(() => this.checking.delete(d));
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), this.opts.driveCheckTimeoutMs)));
        if ((await Promise.race([check, hung])) === 'hung') {
          if (set.online[i]) this.ctx.log.warn(`drive ${d.endpoint} does not answer: offline`);
          set.online[i] = false;
          d.lastError = 'ETIMEDOUT';
        }
        clearTimeout(timer);
      }),
    );
    this.ctx.log.debug?.(`drives checked (started ${started})`);
  }

  /**
   * A request failed for want of drives: every drive is probed now rather than at the monitor's next round (up
   * to driveCheckIntervalMs later), so that a drive or node back since then serves the client's retry instead
   * of more 503s. At most one a second; callers meanwhile share it. Resolves once the probes have answered or
   * timed out (driveCheckTimeoutMs).
   */
  recheckDrives(): Promise<void> {
    if (this.recheck) return this.recheck;
    const now = Date.now();
    if (this.stopped || now - this.lastRecheck < 1000) return Promise.resolve();
    this.lastRecheck = now;
    this.recheck = this.checkDrives()
      .catch(() => {})
      .finally(() => (this.recheck = undefined));
    return this.recheck;
  }

  private async checkDrive(online: boolean[], writable: boolean[], d: Drive, i: number): Promise<void> {
    let fmt: FormatFile | null;
    try {
      fmt = await readFormat(d);
    } catch (e) {
      online[i] = false; // cannot even read its format: offline, but never reformatted
      d.lastError = (e as NodeJS.ErrnoException).code ?? String(e);
      return;
    }
    // No format because the drive's file system was unmounted: the folder left is on the parent's file system (the
    // root disk, often), and formatting and rebuilding the drive there would fill it. Offline until it is back.
    if (!fmt && (await d.unmounted())) {
      if (online[i]) this.ctx.log.warn(`drive ${d.endpoint} is unmounted: offline`);
      online[i] = false;
      writable[i] = false;
      d.lastError = 'unmounted';
      return;
    }
    // No format because the drive's folder itself is gone (deleted, or a mount point removed): making it again
    // would put a drive where none is meant to be. Offline until an (empty) folder is there to be formatted.
    if (!fmt && !(await d.stat('').catch(() => null))) {
      if (online[i]) this.ctx.log.warn(`drive ${d.endpoint} is gone (no such folder): offline`);
      online[i] = false;
      writable[i] = false;
      d.lastError = 'ENOENT';
      return;
    }
    if (!fmt && !this.leading) {
      if (!this.leftToLeader.has(d)) this.ctx.log.info(`drive ${d.endpoint} has no format: the leader rebuilds it`);
      this.leftToLeader.add(d);
      return;
    }
    this.leftToLeader.delete(d);
    // A check stuck on a hung drive may answer after stop(): a stopped healer reformats nothing.
    if (!fmt && !this.stopped) {
      // The drive was emptied or replaced while we ran: reformat into its slot and rebuild; stop() waits for it.
      const reformat = this.reformat(online, writable, d, i);
      this.loops.push(reformat);
      return reformat;
    }
    if (!fmt) return;
    const probe = fmt.driveId === d.driveId ? await d.probe() : 'failed';
    const ok = probe !== 'failed';
    if (ok && !online[i]) this.ctx.log.info(`drive ${d.endpoint} is back online`);
    if (probe === 'ok' && (!online[i] || !writable[i])) queueMicrotask(() => this.drivesBack(d.setIndex));
    if (!ok && online[i]) this.ctx.log.warn(`drive ${d.endpoint} is offline (${d.lastError ?? 'wrong drive'})`);
    if (probe === 'readonly' && writable[i]) this.ctx.log.warn(`drive ${d.endpoint} is read-only: reads only`);
    online[i] = ok;
    writable[i] = probe === 'ok';
  }

  private async reformat(online: boolean[], writable: boolean[], d: Drive, i: number): Promise<void> {
    this.healing.add(d); // before the format appears: healIdle() must not miss the rebuild
    try {
      await d.mkdirs(TMP_DIR);
      await d.mkdirs(d.tmpDir);
      await d.mkdirs(MULTIPART_DIR);
      await writeFormat(d, this.format, d.driveId);
      online[i] = true;
      writable[i] = true;
      this.healDriveInBackground(d, true);
    } catch (e) {
      this.healing.delete(d);
      online[i] = false;
      d.lastError = (e as NodeJS.ErrnoException).code ?? String(e);
    }
  }

  private async monitorLoop(): Promise<void> {
    while (!this.stopped) {
      await this.pause(this.opts.driveCheckIntervalMs);
      if (!this.stopped) await this.checkDrives().catch(() => {});
    }
  }

  /**
   * `run` after each full scanner cycle, in this process while it leads (the API layer's data usage count, as
   * MinIO's scanner counts usage); a failure is the task's own, the next cycle runs it again.
   */
  afterScanCycle(run: () => Promise<unknown>): void {
    this.afterCycle.push(run);
  }

  private async scanLoop(term: number): Promise<void> {
    while (!this.stopped && term === this.term) {
      await this.pause(this.opts.scannerIntervalMs);
      if (this.stopped || term !== this.term) return;
      const cycles = this.cycles;
      await this.scanOnce(() => term !== this.term).catch(() => {});
      if (this.cycles === cycles) continue;
      for (const run of this.afterCycle) {
        if (this.stopped || term !== this.term) return;
        await run().catch(() => {});
      }
    }
  }

  /** One scanner cycle: every object of every bucket, at most scannerObjectsPerSecond (until `ended`). */
  async scanOnce(ended = () => false): Promise<void> {
    const gap = 1000 / this.opts.scannerObjectsPerSecond;
    for (const b of await this.objects.buckets.listAll()) {
      for (const set of this.objects.sets) {
        for await (const item of walkSet(set, b.name, this.objects.cache, { prefix: '', withDeleted: true })) {
          if (this.stopped || ended()) return;
          this.record(await healObject(set, b.name, item.key, this.opts.scannerDeep));
          this.scanned++;
          await sleep(gap);
        }
      }
    }
    this.cycles++;
    this.lastScanEnd = new Date();
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal, ref: false }).catch(() => {});
  }

  status(): HealStatus {
    return {
      queued: this.queue.size,
      healedObjects: this.healed,
      queueHealed: this.queueHealed,
      failedObjects: this.failed,
      scannedObjects: this.scanned,
      scanCycles: this.cycles,
      ...(this.lastScanEnd ? { lastScanEnd: this.lastScanEnd } : {}),
      healingDrives: [...this.healing].map((d) => d.endpoint),
      drives: this.objects.sets.flatMap((s) =>
        s.drives.map((d, i) => ({
          path: d.endpoint,
          set: s.index,
          index: i,
          online: s.online[i],
          writable: s.online[i] && s.writable[i],
          ...(d.lastError ? { error: d.lastError } : {}),
        })),
      ),
      recent: this.recent.slice(),
    };
  }

  /** Is this drive being rebuilt in full? */
  rebuilding(d: Drive): boolean {
    return this.healing.has(d);
  }

  /** Wait until the queue is empty and no drive is being rebuilt (tests, admin). */
  async idle(): Promise<void> {
    // A process that does not lead heals nothing of its queue: only its drive rebuilds count.
    while ((this.leading && this.queue.size > 0) || this.healing.size > 0) {
      if (this.leading && !this.opts.background && this.queue.size > 0) {
        const [id, job] = this.queue.entries().next().value!;
        this.queue.delete(id);
        await this.runJob(id, job);
        continue;
      }
      await sleep(20);
    }
  }
}
