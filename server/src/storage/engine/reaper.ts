// Deferred removal of data that a committed change made unreachable (old versions' data dirs). A GET that
// opened the old version a moment before the change keeps streaming it during the grace period. A crash
// before the removal leaves an unreferenced data dir, which healing removes.
export class Reaper {
  private jobs = new Map<NodeJS.Timeout, () => Promise<void>>();

  constructor(private readonly graceMs: number) {}

  later(job: () => Promise<void>): void {
    if (this.graceMs <= 0) {
      void job().catch(() => {});
      return;
    }
    const t = setTimeout(() => {
      this.jobs.delete(t);
      void job().catch(() => {});
    }, this.graceMs);
    t.unref();
    this.jobs.set(t, job);
  }

  /** Run everything still waiting (close). */
  async flush(): Promise<void> {
    const jobs = [...this.jobs.entries()];
    this.jobs.clear();
    for (const [t] of jobs) clearTimeout(t);
    await Promise.all(jobs.map(([, job]) => job().catch(() => {})));
  }
}
