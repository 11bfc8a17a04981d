// SIGKILL a process in the middle of uploads: afterwards every acknowledged object is intact, nothing
// partial is ever visible (each listed or readable object has exactly the bytes of one complete write).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { drives, get, open } from './helpers.js';
import { content, sizeOf } from './fixtures/crash-writer.js';

const script = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

async function runAndKill(round: number, paths: string[], afterAcks: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, String(round), ...paths], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acks: string[] = [];
  let buf = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ACK ')) acks.push(l.slice(4));
      if (acks.length >= afterAcks && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  return acks;
}

describe('crash safety', () => {
  it('keeps acknowledged writes and never shows a partial one after SIGKILL', async () => {
    const d = await drives(4);
    try {
      let lastHot = 0;
      for (let round = 0; round < 3; round++) {
        const acks = await runAndKill(round, d.paths, 12 + round * 7);
        expect(acks.length).toBeGreaterThan(0);
        const s = await open(d.paths);
        let ackedHot: number | undefined;
        try {
          for (const a of acks) {
            const [key, v] = a.split(' ');
            if (key === 'hot') ackedHot = Math.max(ackedHot ?? 0, Number(v));
            else {
              const i = Number(key.split('/k')[1]);
              expect((await get(s, 'crash', key)).equals(content(key, 0, sizeOf(i))), key).toBe(true);
            }
          }
          // "hot": the last acknowledged version or the one after it (written, not yet acknowledged).
          if (ackedHot !== undefined) lastHot = ackedHot;
          const next = (ackedHot ?? round * 1_000_000) + 1;
          const info = await s.headObject('crash', 'hot');
          const v = Number(info.userMetadata.v);
          expect([lastHot, next]).toContain(v);
          expect((await get(s, 'crash', 'hot')).equals(content('hot', v, sizeOf(v)))).toBe(true);
          lastHot = v;
          // Everything visible is whole, including the write cut by the kill if it committed.
          const listed = await s.listObjects('crash', { maxKeys: 10000 });
          for (const o of listed.objects) {
            if (o.key === 'hot') continue;
            const i = Number(o.key.split('/k')[1]);
            expect(o.size).toBe(sizeOf(i));
            expect((await get(s, 'crash', o.key)).equals(content(o.key, 0, sizeOf(i))), o.key).toBe(true);
          }
          const healed = await s.healBucket('crash');
          expect(healed.filter((r) => r.state === 'failed')).toEqual([]);
        } finally {
          await s.close();
        }
      }
    } finally {
      await d.cleanup();
    }
  });
});
