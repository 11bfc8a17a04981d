// The servers' profiles of a bench run (bench/load/profile.mjs preloaded, started and stopped by SIGUSR2).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const PROFILE_PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'profile.mjs');

/** Waits (up to 120 s) until each pid has written its profile summary in dir, and prints where they are. */
export async function waitForProfiles(dir: string, pids: number[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (const pid of pids) {
    const txt = join(dir, `${pid}.txt`);
    while (!existsSync(txt)) {
      if (Date.now() > deadline) throw new Error(`no profile from pid ${pid} in ${dir}`);
      await sleep(200);
    }
    console.error(`profile of pid ${pid}: ${txt} (and .cpuprofile, .heapprofile)`);
  }
}
