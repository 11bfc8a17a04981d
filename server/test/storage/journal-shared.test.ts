// Listing journals written by several processes (workers sharing the drives): two Journals instances,
// each with its own in-process mutex as two processes would have, over one journal file. In each round
// one of them compacts the journal (it has grown long with old lines) while the other appends every
// entry's newest line; afterwards each entry's last line is that newest one or "pending" (read the
// metadata), never an older version: no line appended during a rewrite is lost with the old file. Each has its
// own LocalDrive too, as a process would: the appender's drive keeps the journal open (kept-appends.ts) across
// the other's rewrites, so its appends after a rewrite first land in the old file.
import { describe, expect, it } from 'vitest';
import { TMP_DIR } from '../../src/storage/drive/drive.js';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
import { KeyedMutex } from '../../src/storage/coordination.js';
import { Journals, needsCompaction } from '../../src/storage/list/journal.js';
import { drives } from './helpers.js';

describe('a journal shared by two writers, one of them compacting', () => {
  it('loses no line appended while it is rewritten', async () => {
    const d = await drives(1);
    try {
      const drive = new LocalDrive(d.paths[0]);
      drive.driveId = 'drive-1';
      const appenderDrive = new LocalDrive(d.paths[0]);
      appenderDrive.driveId = 'drive-1';
      await drive.mkdirs(TMP_DIR);
      await drive.mkdirs('b/dir');
      const lockTable = new KeyedMutex(); // the primary's lock table, shared by both "processes"
      const appender = new Journals(new KeyedMutex(), lockTable, true);
      const compactor = new Journals(new KeyedMutex(), lockTable, true);
      const ENTRIES = 300;
      const entries = Array.from({ length: ENTRIES }, (_, e) => `e${e}`);
      for (let round = 1; round <= 6; round++) {
        // Old lines enough to need a rewrite.
        await compactor.append(
          drive,
          'b/dir',
          entries.flatMap((n) => Array.from({ length: 8 }, (_, i) => ({ n, l: { s: -i, e: 'old', m: 0 } }))),
        );
        expect(needsCompaction((await compactor.read(drive, 'b/dir'))!)).toBe(true);
        const rewrite = compactor.compact(drive, 'b/dir');
        for (const n of entries)
          await appender.append(appenderDrive, 'b/dir', [{ n, l: { s: round, e: 'new', m: round } }]);
        await rewrite;
        const now = (await appender.read(drive, 'b/dir'))!;
        expect(now.lines, 'the journal was rewritten').toBeLessThan(ENTRIES * 9 * round);
        for (const n of entries) {
          const r = now.recs.get(n);
          const ok = r && ('p' in r || ('l' in r && r.l.s === round));
          expect(ok, `round ${round}, ${n}: ${JSON.stringify(r)}`).toBe(true);
        }
      }
    } finally {
      await d.cleanup();
    }
  });
});
