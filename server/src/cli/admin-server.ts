// `cairn admin info|service|trace|top`: operating a running server through MinIO's admin API (api/admin):
// information and usage as tables, restart/stop, a live trace of requests, the oldest locks held.
// Colours only on a terminal (util.styleText checks the stream, NO_COLOR and FORCE_COLOR).
import { styleText } from 'node:util';
import { adminCall, adminStream, type AdminTarget } from './admin-client.js';
import { options } from './admin.js';

export const SERVER_USAGE = `  info [--usage]                 the server: version, uptime, drives, erasure sets, parity, counts;
                                --usage: size, objects, versions and delete markers per bucket
  service restart|stop          restart the serving processes (one after the other) or stop the server
  trace [-v] [--errors] [--path PREFIX] [--threshold DURATION]
                                every request as it is answered (all workers) until Ctrl-C; -v: with headers
  top locks [--count N]         the oldest locks held now (default 10)
`;

type Row = Record<string, string>;
export type Result = {
  rows?: Row[];
  columns?: string[];
  paint?: Record<string, (cell: string) => string>;
  value?: unknown;
  done?: string;
  /** Printed as is before the table. */
  text?: string;
};

const colour = (format: Parameters<typeof styleText>[0]) => (s: string) =>
  styleText(format, s, { stream: process.stdout });
const good = colour('green');
const bad = colour('red');
const warn = colour('yellow');
const bold = colour('bold');

/** Bytes as people read them (1024-based, as mc does). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function humanDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return [d && `${d}d`, (d || h) && `${h}h`, (d || h || m) && `${m}m`, `${s}s`].filter(Boolean).join('');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Info {
  mode: string;
  region: string;
  deploymentID: string;
  buckets: { count: number; error?: string };
  objects: { count: number; error?: string };
  versions: { count: number };
  deletemarkers: { count: number };
  usage: { size: number };
  backend: {
    onlineDisks: number;
    offlineDisks: number;
    standardSCParity: number;
    rrSCParity: number;
    totalSets: number[];
    totalDrivesPerSet: number[];
  };
  servers: {
    endpoint: string;
    state: string;
    uptime: number;
    version: string;
    drives: {
      path: string;
      state: string;
      healing?: boolean;
      totalspace: number;
      usedspace: number;
      set_index: number;
      disk_index: number;
    }[];
  }[];
}

async function info(t: AdminTarget, usage: boolean): Promise<Result> {
  if (usage) {
    const u = (await adminCall(t, { method: 'GET', path: 'datausageinfo', query: { capacity: 'true' } })) as {
      bucketsUsageInfo: Record<string, { size: number; objectsCount: number; versionsCount: number }>;
      partial?: boolean;
    } & Record<string, unknown>;
    const rows = Object.entries(u.bucketsUsageInfo).map(([bucket, b]) => ({
      bucket,
      size: humanBytes(b.size),
      objects: String(b.objectsCount),
      versions: String(b.versionsCount),
      'delete-markers': String((b as { deleteMarkersCount?: number }).deleteMarkersCount ?? 0),
    }));
    const text = u.partial ? `${warn('partial: too many versions to count them all')}\n` : undefined;
    return { rows, columns: ['bucket', 'size', 'objects', 'versions', 'delete-markers'], value: u, text };
  }
  const i = (await adminCall(t, { method: 'GET', path: 'info' })) as Info;
  const s = i.servers[0];
  const b = i.backend;
  const state = (x: string) => (x === 'online' || x === 'ok' ? good(x) : bad(x));
  const lines = [
    `${bold(`Cairn ${s.version}`)} at ${s.endpoint}: ${state(s.state)}, up ${humanDuration(s.uptime)}, region ${i.region}`,
    `deployment ${i.deploymentID}`,
    `${plural(b.onlineDisks, 'drive')} online, ${b.offlineDisks ? bad(`${b.offlineDisks} offline`) : '0 offline'}; ` +
      `${plural(b.totalSets[0], 'erasure set')} of ${b.totalDrivesPerSet[0]} drives, parity ${b.standardSCParity} ` +
      `(reduced redundancy ${b.rrSCParity})`,
    `${plural(i.buckets.count, 'bucket')}, ${plural(i.objects.count, 'object')}, ` +
      `${plural(i.versions.count, 'version')}, ${plural(i.deletemarkers.count, 'delete marker')}, ` +
      `${humanBytes(i.usage.size)} of data${i.objects.error ? ` (${warn(i.objects.error)})` : ''}`,
    '',
  ];
  const rows = s.drives.map((d) => ({
    set: String(d.set_index + 1),
    drive: String(d.disk_index + 1),
    state: d.healing ? 'healing' : d.state,
    used: humanBytes(d.usedspace),
    total: humanBytes(d.totalspace),
    path: d.path,
  }));
  const paint = { state: (c: string) => (c.trim() === 'ok' ? good(c) : c.trim() === 'healing' ? warn(c) : bad(c)) };
  return {
    text: `${lines.join('\n')}\n`,
    rows,
    columns: ['set', 'drive', 'state', 'used', 'total', 'path'],
    paint,
    value: i,
  };
}

async function topLocks(t: AdminTarget, args: string[]): Promise<Result> {
  const { opts } = options(args, ['count']);
  const locks = (await adminCall(t, {
    method: 'GET',
    path: 'top/locks',
    query: { count: opts.count ?? '10' },
  })) as { time: string; elapsed: number; resource: string; type: string; waiting?: number }[];
  const rows = locks.map((l) => ({
    since: l.time,
    held: `${(l.elapsed / 1e9).toFixed(3)}s`,
    type: l.type,
    waiting: String(l.waiting ?? 0),
    resource: l.resource,
  }));
  return { rows, columns: ['since', 'held', 'type', 'waiting', 'resource'], value: locks };
}

export async function serverCommand(t: AdminTarget, family: string, verb: string | undefined, rest: string[]) {
  switch (family) {
    case 'info':
      if (verb !== undefined && verb !== '--usage') throw new Error(`unknown option: ${verb}`);
      return info(t, verb === '--usage');
    case 'service': {
      if (verb !== 'restart' && verb !== 'stop') throw new Error('expected: service restart|stop');
      await adminCall(t, { method: 'POST', path: 'service', query: { action: verb, type: '2' } });
      return { done: verb === 'restart' ? 'restarting the server' : 'stopping the server' };
    }
    case 'top':
      if (verb !== 'locks') throw new Error('expected: top locks');
      return topLocks(t, rest);
    default:
      return undefined;
  }
}

interface TraceLine {
  funcname: string;
  time: string;
  path: string;
  dur: number;
  msg?: string;
  http?: {
    request: { method: string; rawquery?: string; headers?: Record<string, string[]>; client: string };
    response: { statuscode?: number };
    stats: { inputbytes: number; outputbytes: number };
  };
}

/** One trace entry as a line (and its headers with -v), coloured by status on a terminal. */
export function traceText(e: TraceLine, verbose: boolean): string {
  if (!e.http) return warn(`${e.time} ${e.funcname}: ${e.msg ?? ''}`);
  const status = e.http.response.statuscode ?? 0;
  const paintStatus = status >= 500 ? bad : status >= 400 ? warn : good;
  const query = e.http.request.rawquery ? `?${e.http.request.rawquery}` : '';
  const line =
    `${e.time} ${paintStatus(`[${status}]`)} ${e.funcname} ${e.http.request.method} ${e.path}${query} ` +
    `${e.http.request.client} ${(e.dur / 1e6).toFixed(3)}ms ` +
    `in ${humanBytes(e.http.stats.inputbytes)} out ${humanBytes(e.http.stats.outputbytes)}`;
  if (!verbose) return line;
  const headers = Object.entries(e.http.request.headers ?? {}).map(([k, v]) => `    ${k}: ${v.join(', ')}`);
  return [line, ...headers].join('\n');
}

/** `cairn admin trace`: prints entries until interrupted (or the server goes). */
export async function traceCommand(t: AdminTarget, args: string[], asJson: boolean): Promise<void> {
  const verbose = args.includes('-v') || args.includes('--verbose');
  const errors = args.includes('--errors') || args.includes('-e');
  const { rest, opts } = options(
    args.filter((a) => !['-v', '--verbose', '--errors', '-e'].includes(a)),
    ['path', 'threshold'],
  );
  if (rest.length > 0) throw new Error(`unknown option: ${rest[0]}`);
  const query: Record<string, string> = { s3: 'true', err: String(errors) };
  if (opts.path) query.path = opts.path;
  if (opts.threshold) query.threshold = opts.threshold;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const entries = await adminStream(t, { method: 'GET', path: 'trace', query }, stop.signal);
    // On stderr, so that stdout holds only entries: from now on every request answered is shown.
    process.stderr.write(`tracing requests at ${t.endpoint} (Ctrl-C to stop)\n`);
    for await (const entry of entries) {
      process.stdout.write(`${asJson ? JSON.stringify(entry) : traceText(entry as TraceLine, verbose)}\n`);
    }
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  }
}
