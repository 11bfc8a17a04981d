// `cairn admin heal [BUCKET[/PREFIX]] [--deep] [--force-start] [--force-stop]`: starts a heal sequence
// (api/admin/heal.ts) and follows it to its end with a progress bar on a terminal, then the objects it repaired
// or could not. Ctrl-C leaves the sequence running (`--force-stop` stops it).
import { styleText } from 'node:util';
import { adminCall, type AdminTarget } from './admin-client.js';
import type { Result } from './admin-server.js';

export const HEAL_USAGE = `  heal [BUCKET[/PREFIX]] [--deep] [--force-start] [--force-stop]
                                heal every object under the path (all buckets when none), with progress
  heal --status                 the background healing: objects scanned, healed, queued; drives rebuilt
`;

interface Status {
  summary: string;
  detail: string;
  total: number;
  scanned: number;
  healed: number;
  failed: number;
  items?: { resultId: number; bucket: string; object: string; detail: string }[];
}

/** How often the sequence is asked for its status. */
const POLL_MS = 250;

/** `[#####.....] 50% 5/10`: the bar a terminal shows while a heal runs. */
export function progressBar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(done / total, 1);
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${Math.floor(share * 100)}% ${done}/${total}`;
}

export async function healCommand(t: AdminTarget, args: string[], asJson: boolean): Promise<Result> {
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  if (flags.has('--status')) {
    if (args.length !== 1) throw new Error('heal --status takes no path or other option');
    return backgroundStatus(t);
  }
  for (const f of flags)
    if (!['--deep', '--force-start', '--force-stop'].includes(f)) throw new Error(`unknown option: ${f}`);
  const target = args.find((a) => !a.startsWith('--')) ?? '';
  const slash = target.indexOf('/');
  const bucket = slash < 0 ? target : target.slice(0, slash);
  const prefix = slash < 0 ? '' : target.slice(slash + 1);
  const path = `heal/${encodeURIComponent(bucket)}${prefix ? `/${prefix.split('/').map(encodeURIComponent).join('/')}` : ''}`;
  const query: Record<string, string> = {};
  if (flags.has('--force-start')) query.forceStart = 'true';
  if (flags.has('--force-stop')) query.forceStop = 'true';
  const body = {
    recursive: true,
    dryRun: false,
    remove: false,
    recreate: false,
    scanMode: flags.has('--deep') ? 2 : 1,
  };
  const started = (await adminCall(t, { method: 'POST', path, query, body })) as { clientToken: string };
  if (flags.has('--force-stop')) return { done: `heal of ${target || 'every bucket'} stopped`, value: started };
  const tty = process.stderr.isTTY === true && !asJson;
  const problems: NonNullable<Status['items']> = [];
  let status: Status;
  for (;;) {
    status = (await adminCall(t, { method: 'POST', path, query: { clientToken: started.clientToken } })) as Status;
    for (const i of status.items ?? []) if (i.detail !== 'ok') problems.push(i);
    if (tty) process.stderr.write(`\r${progressBar(status.scanned, status.total)} healed ${status.healed}`);
    if (status.summary !== 'running') break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (tty) process.stderr.write('\n');
  const colour = (s: string) => styleText(s.startsWith('failed') ? 'red' : 'yellow', s, { stream: process.stdout });
  const summary =
    `heal ${status.summary}: ${status.scanned} of ${status.total} objects checked, ${status.healed} healed, ` +
    `${status.failed} failed${status.detail ? ` (${status.detail})` : ''}\n`;
  const rows = problems.map((i) => ({ bucket: i.bucket, object: i.object, result: i.detail }));
  const value = { ...status, items: problems };
  if (rows.length === 0) return { done: summary.trimEnd(), value };
  return { text: summary, rows, columns: ['bucket', 'object', 'result'], paint: { result: colour }, value };
}

interface BgHealState {
  ScannedItemsCount: number;
  HealDisks: string[] | null;
  sets: { id: string; heal_status: string; disks: { endpoint: string; state: string; healing?: boolean }[] }[];
  cairn: {
    healedObjects: number;
    failedObjects: number;
    queued: number;
    scanCycles: number;
    lastScanEnd?: string;
    /** The process running background healing (a node of a distributed deployment: `node2`). */
    leader?: string;
  };
}

/** `heal --status`: the background healing's counts, then each drive by set. */
async function backgroundStatus(t: AdminTarget): Promise<Result> {
  const s = (await adminCall(t, { method: 'POST', path: 'background-heal/status' })) as BgHealState;
  const c = s.cairn;
  const text =
    `background heal: ${s.ScannedItemsCount} objects scanned in ${c.scanCycles} full cycles` +
    `${c.lastScanEnd ? ` (last ended ${c.lastScanEnd})` : ''}, ${c.healedObjects} healed, ${c.failedObjects} failed, ` +
    `${c.queued} queued${c.leader ? ` (run by ${c.leader})` : ''}\n`;
  const rows = s.sets.flatMap((set) =>
    set.disks.map((d) => ({ set: set.id, drive: d.endpoint, state: d.state, healing: d.healing ? 'yes' : '' })),
  );
  return { text, rows, columns: ['set', 'drive', 'state', 'healing'], value: s };
}
