// Parsing and printing sizes (4KiB, 64MiB, 1GB) and durations (500ms, 20s, 2m).
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: "${s}" (try 4KiB, 64MiB, 1GiB)`);
  return Math.round(Number(m[1]) * unit);
}

export function formatSize(n: number): string {
  for (const [u, f] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f}${u}`;
  }
  return `${n}B`;
}

export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|)\s*$/.exec(s);
  if (!m) throw new Error(`not a duration: "${s}" (try 500ms, 20s, 2m)`);
  const f = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000;
  return Math.round(Number(m[1]) * f);
}
