// What an event queue on disk holds (server/src/api/notify/queue.ts), read from its files as they are
// documented, without the queue's code: segments `<first>-<count>-<time>.seg` (hex; older ones without `-<time>`) and single `<seq>.event` files hold
// events, `<gen>.acks` logs name those delivered before the rest of their segment (one 16-hex-digit line each).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Sequence numbers held and acknowledged, by subfolder ('' the folder itself). */
async function walk(dir: string, sub: string, into: Map<string, { held: Set<number>; acked: Set<number> }>) {
  const entries = await readdir(join(dir, sub), { withFileTypes: true }).catch(() => []);
  const here = into.get(sub) ?? { held: new Set<number>(), acked: new Set<number>() };
  into.set(sub, here);
  for (const e of entries) {
    if (e.isDirectory()) {
      await walk(dir, sub === '' ? e.name : `${sub}/${e.name}`, into);
      continue;
    }
    const seg =
      /^([0-9a-f]{16})-([0-9a-f]+)(?:-[0-9a-f]+)?\.seg$/.exec(e.name) ?? /^([0-9a-f]{16})\.event$/.exec(e.name);
    if (seg) {
      const first = Number.parseInt(seg[1], 16);
      const count = seg[2] === undefined ? 1 : Number.parseInt(seg[2], 16);
      for (let i = 0; i < count; i++) here.held.add(first + i);
    } else if (e.name.endsWith('.acks')) {
      const text = await readFile(join(dir, sub, e.name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (/^[0-9a-f]{16}$/.test(line)) here.acked.add(Number.parseInt(line, 16));
    }
  }
}

/**
 * The events of the queue in `dirs` (one folder, or its copies on several drives: their union, as a reopen takes
 * it) not delivered yet, as their 16-hex-digit sequence numbers, sorted; those of subfolders (one queue per
 * worker) as `<subfolder>/<seq>`. A folder that does not exist holds none.
 */
export async function queuedEventIds(dirs: string | string[]): Promise<string[]> {
  const found = new Map<string, { held: Set<number>; acked: Set<number> }>();
  for (const dir of typeof dirs === 'string' ? [dirs] : dirs) await walk(dir, '', found);
  const out: string[] = [];
  for (const [sub, { held, acked }] of found)
    for (const seq of held)
      if (!acked.has(seq)) out.push(`${sub === '' ? '' : `${sub}/`}${seq.toString(16).padStart(16, '0')}`);
  return out.sort();
}
