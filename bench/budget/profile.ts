// Where a server's event-loop time goes, from V8 CPU profiles (`node --cpu-prof`): every sample is given to
// one stage of a request by its stack, read from the leaf up; the first frame that belongs to a stage decides
// (a SHA-256 inside node:crypto called from SigV4 code counts as SigV4). Frames of no stage (streams, events,
// buffers, promise machinery) pass the sample on to their caller.

/** A V8 CPU profile as `--cpu-prof` writes it. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  /** Microseconds on the monotonic clock (process.hrtime's). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export const STAGES = [
  'accept/parse (node:http)',
  'fastify (hooks, reply)',
  'SigV4 + payload signatures',
  'routing + dispatch',
  'API (authorize, handlers)',
  'storage engine',
  'metadata + fs',
  'kernel (native calls)',
  'write (node:http, socket)',
  'logging (pino)',
  'GC',
  'runtime (outside JS)',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

type Rule = [Stage, (url: string, fn: string) => boolean];

const has =
  (...parts: string[]) =>
  (url: string) =>
    parts.some((p) => url.includes(p));

/** Checked in order at each frame; the first rule that holds gives the frame's stage. */
const RULES: Rule[] = [
  ['SigV4 + payload signatures', has('/http/auth/', '/http/authenticate.', '/http/body.')],
  ['routing + dispatch', has('/http/router.', '/http/dispatch.', '/http/error-response.')],
  ['write (node:http, socket)', has('/http/send-body.')],
  [
    'fastify (hooks, reply)',
    has(
      '/http/app.',
      '/node_modules/fastify/',
      '/node_modules/find-my-way/',
      '/node_modules/@fastify/',
      '/node_modules/avvio/',
    ),
  ],
  [
    'API (authorize, handlers)',
    has('/server/src/api/', '/server/dist/api/', '/server/src/errors.', '/server/dist/errors.'),
  ],
  [
    'metadata + fs',
    has('/storage/meta/', '/storage/drive/', '/storage/list/', '/node_modules/msgpackr/', '/src-ts/files.'),
  ],
  ['storage engine', has('/server/src/storage/', '/server/dist/storage/')],
  ['kernel (native calls)', has('/native/src-ts/', '/native/dist/', '/native/index.')],
  ['logging (pino)', has('/node_modules/pino', '/node_modules/sonic-boom/', '/node_modules/thread-stream/')],
  [
    'accept/parse (node:http)',
    (url, fn) =>
      url === 'node:_http_common' ||
      url === 'node:_http_incoming' ||
      (url === 'node:_http_server' && !WRITES.has(fn)) ||
      (url === 'node:net' && fn === 'onconnection') ||
      fn === 'onStreamRead',
  ],
  [
    'write (node:http, socket)',
    (url, fn) =>
      url === 'node:_http_outgoing' ||
      url === 'node:_http_server' ||
      (url === 'node:net' && fn.includes('write')) ||
      fn.startsWith('writev') ||
      fn === 'writeGeneric',
  ],
  ['metadata + fs', (url) => url === 'node:fs' || url.startsWith('node:internal/fs/')],
];

/** node:_http_server functions that belong to the answer, not to reading the request. */
const WRITES = new Set(['writeHead', '_implicitHeader', 'resOnFinish', 'emitCloseNT', 'onFinish', 'writeHead']);

const SPECIAL = new Map<string, Stage | 'idle'>([
  ['(idle)', 'idle'],
  ['(garbage collector)', 'GC'],
  ['(program)', 'runtime (outside JS)'],
  ['(root)', 'other'],
]);

export interface StageTimes {
  /** Event-loop microseconds per stage. */
  us: Record<Stage, number>;
  /** Busy (not idle) microseconds in all. */
  busyUs: number;
  /** Per stage, the functions (`name url:line`) its samples were taken in, with their microseconds. */
  leaves: Map<Stage, Map<string, number>>;
}

export function emptyTimes(): StageTimes {
  const us = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  return { us, busyUs: 0, leaves: new Map(STAGES.map((s) => [s, new Map<string, number>()])) };
}

/** Adds the samples of `profile` taken in [fromUs, toUs) (monotonic microseconds) to `into`. */
export function addProfile(into: StageTimes, profile: CpuProfile, fromUs: number, toUs: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, Stage | 'idle'>();
  const classify = (id: number): Stage | 'idle' => {
    const known = stageOf.get(id);
    if (known) return known;
    const leaf = byId.get(id)!.callFrame;
    let stage: Stage | 'idle' = SPECIAL.get(leaf.functionName) ?? 'other';
    if (!SPECIAL.has(leaf.functionName)) {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const f = byId.get(at)!.callFrame;
        const rule = RULES.find(([, test]) => test(f.url, f.functionName));
        if (rule) {
          stage = rule[0];
          break;
        }
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t >= toUs || dt <= 0) continue;
    const stage = classify(profile.samples[i]);
    if (stage === 'idle') continue;
    into.us[stage] += dt;
    into.busyUs += dt;
    const f = byId.get(profile.samples[i])!.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${f.lineNumber + 1}`;
    const leaves = into.leaves.get(stage)!;
    leaves.set(name, (leaves.get(name) ?? 0) + dt);
  }
}
