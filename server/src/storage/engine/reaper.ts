// Deferred removal of data that a committed change made unreachable (old versions' data dirs). A GET that
// opened the old version a moment before the change keeps streaming it: removal waits the grace period,
// and then for every GET still reading that data dir (hold) to finish, because a multipart GET opens each
// part's shard files only when it reaches that part. GETs of other processes sharing the drives count too:
// `elsewhere` asks them (over the change bus) and resolves once none of them reads those dirs. A crash
// before the removal leaves an unreferenced data dir, which healing removes.
export class Reaper {
  private jobs = new Map<NodeJS.Timeout, { job: () => Promise<void>; ids: string[] }>();
  /** Readers per data dir id, and the removals waiting for them. */
  private holds = new Map<string, { n: number; waiting: (() => void)[] }>();

  constructor(
    private readonly graceMs: number,
    private readonly elsewhere: (ids: string[]) => Promise<void> = () => Promise.resolve(),
  ) {}

  /** A reader uses data dir `id`: its removal waits until the returned release is called. */
  hold(id: string): () => void {
    let h = this.holds.get(id);
    if (!h) this.holds.set(id, (h = { n: 0, waiting: [] }));
    h.n++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--h.n > 0) return;
      this.holds.delete(id);
      for (const go of h.waiting) go();
    };
  }

  /** Run `job` after the grace period, once no reader (here or elsewhere) holds any of `ids`. */
  later(job: () => Promise<void>, ids: string[] = []): void {
    const run = () =>
      void Promise.all([this.free(ids), ids.length > 0 ? this.elsewhere(ids) : undefined])
        .then(job)
        .catch(() => {});
    if (this.graceMs <= 0) return run();
    const t = setTimeout(() => {
      this.jobs.delete(t);
      run();
    }, this.graceMs);
    t.unref();
    this.jobs.set(t, { job, ids });
  }

  /** How many of `ids` a reader of this process holds now. */
  held(ids: string[]): number {
    return ids.filter((id) => this.holds.has(id)).length;
  }

  /** Resolves once no reader of this process holds any of `ids`. */
  async free(ids: string[]): Promise<void> {
    for (const id of ids) {
      const h = this.holds.get(id);
      if (h) await new Promise<void>((res) => h.waiting.push(res));
    }
  }

  /**
   * Run everything still waiting for its grace period (close). This process's readers are done by then and
   * are not waited for; readers in other processes sharing the drives are.
   */
  async flush(): Promise<void> {
    const jobs = [...this.jobs.entries()];
    this.jobs.clear();
    for (const [t] of jobs) clearTimeout(t);
    await Promise.all(
      jobs.map(([, { job, ids }]) =>
        (ids.length > 0 ? this.elsewhere(ids) : Promise.resolve()).then(job).catch(() => {}),
      ),
    );
  }
}

/** The id readers and removals agree on for a data dir. */
export function dataDirId(setIndex: number, objRel: string, dataDir: string): string {
  return `${setIndex}\0${objRel}/${dataDir}`;
}
