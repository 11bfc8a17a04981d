// Ellipsis expansion of drive arguments, as MinIO users write them: `./data/d{1...8}` -> d1..d8.
// Several ellipses multiply (`/mnt/disk{1...2}/d{1...4}`); zero-padding follows the first bound (`{01...16}`).

const ELLIPSIS = /\{(\d+)\.\.\.(\d+)\}/;

export function expandDrives(...args: string[]): string[] {
  const out: string[] = [];
  for (const arg of args) out.push(...expandOne(arg));
  return out;
}

function expandOne(arg: string): string[] {
  const m = ELLIPSIS.exec(arg);
  if (!m) return [arg];
  const [whole, a, b] = m;
  const from = Number(a);
  const to = Number(b);
  if (to < from) throw new Error(`bad ellipsis ${whole} in ${arg}: end is below start`);
  const width = a.startsWith('0') && a.length > 1 ? a.length : 0;
  const head = arg.slice(0, m.index);
  const tail = arg.slice(m.index + whole.length);
  const out: string[] = [];
  for (let i = from; i <= to; i++) {
    for (const rest of expandOne(tail)) out.push(head + String(i).padStart(width, '0') + rest);
  }
  return out;
}

/**
 * The server pools the drive arguments name, as MinIO reads them: several arguments that each have an
 * ellipsis are one pool each (`./p1/d{1...4} ./p2/d{1...4}`); anything else is one pool of every drive.
 */
export function drivePools(args: string[]): string[][] {
  const withEllipsis = args.filter((a) => ELLIPSIS.test(a)).length;
  if (withEllipsis < 2) return [expandDrives(...args)];
  if (withEllipsis !== args.length)
    throw new Error(
      'several arguments with ellipses make server pools, one each: give every pool as one ellipsis argument ' +
        `(./pool1/d{1...4} ./pool2/d{1...4}), not ${args.join(' ')}`,
    );
  const pools = args.map((a) => expandOne(a));
  const all = pools.flat();
  if (new Set(all).size !== all.length) throw new Error('the same drive is given in two server pools');
  return pools;
}
