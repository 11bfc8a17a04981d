// A real `cairn server --workers N` as a child process (from the sources, through tsx) over temporary
// drives, and S3 clients pinned to one worker each: a keep-alive connection that the wanted worker
// answered (its x-cairn-worker header), opened again until one is. Every answer a pinned client gets is
// checked to come from its worker, so a test never silently talks to another one.
import { spawnCairn } from './cli.js';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, get, type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeClient } from './cairn.js';
import { signRequest } from './signed-request.js';

export const WORKERS_ROOT = { accessKey: 'workersroot', secretKey: 'workers-root-secret' };
export const WORKERS_ALT = { accessKey: 'workersalt', secretKey: 'workers-alt-secret' };

/** The two ways workers run (--worker-mode): tests of the workers' core run in both. */
export const WORKER_MODES = ['processes', 'threads'] as const;

export type LogLine = Record<string, unknown> & { msg?: string; worker?: number };

export interface WorkersServer {
  url: string;
  base: string;
  drives: string[];
  child: ChildProcess;
  /** Every JSON log line so far (all processes: the primary's have worker 0). */
  logs: LogLine[];
  /** The first log line (logged already or still to come) that `match` accepts. */
  logLine(match: (l: LogLine) => boolean): Promise<LogLine>;
  /** How the workers run (CAIRN_WORKER_MODE in startWorkers' env, else in this process's; default threads). */
  mode: 'processes' | 'threads';
  /** The pid (threads: the thread id) of worker `slot` as the primary last logged it ("worker N started"). */
  pid(slot: number): number;
  /** Stops worker `slot` for good at once: kill -9 of its process; a thread is terminated (terminate()). */
  kill(slot: number): void;
  /** Blocks worker `slot`: SIGSTOP of its process; a thread's event loop blocks for good (resume() undoes neither). */
  hang(slot: number): void;
  /** SIGCONT of a stopped process (threads: nothing). */
  resume(slot: number): void;
  /** A client whose requests worker `slot` answers (root credentials unless given). */
  client(slot: number, credentials?: { accessKey: string; secretKey: string }): Promise<S3Client>;
  /** An agent whose one connection worker `slot` serves (for other SDK clients: see pinToWorker). */
  agent(slot: number): Promise<Agent>;
  /** SIGTERM, wait for the exit, remove the drives. */
  close(): Promise<void>;
}

/**
 * With `workers` 1 the server runs in one process (no primary, answers without x-cairn-worker): slot 1's
 * clients and agents are then plain keep-alive ones. With threads (the default) the primary takes the
 * test faults (kill, hang) on its stdin (CAIRN_TEST_WORKER_FAULTS, cluster/primary.ts).
 */
export async function startWorkers(
  workers: number,
  env: Record<string, string> = {},
  /** Drive folders of the caller's (kept at close); default: four new ones under `base`. */
  given?: string[],
): Promise<WorkersServer> {
  const single = workers === 1;
  // The mode given here, else the one the test runner's environment gives every server it starts.
  const mode = (env.CAIRN_WORKER_MODE ?? process.env.CAIRN_WORKER_MODE) === 'processes' ? 'processes' : 'threads';
  const faults = mode === 'threads' ? { CAIRN_TEST_WORKER_FAULTS: 'on' } : {};
  const base = await mkdtemp(join(tmpdir(), 'cairn-workers-'));
  const drives = given ?? [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  const child = spawnCairn(
    ['server', '--workers', String(workers), '--address', '127.0.0.1:0', ...drives],
    {
      CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
      CAIRN_USERS: `${WORKERS_ALT.accessKey}:${WORKERS_ALT.secretKey}`,
      CAIRN_LOG_LEVEL: 'info',
      ...faults,
      ...env,
    },
    ['pipe', 'pipe', 'pipe'],
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of waiters.filter((x) => x.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const logLine = (match: (l: LogLine) => boolean): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`cairn server exited (${code}): ${stderr}`))),
  );
  exited.catch(() => {});
  const started = await Promise.race([logLine((l) => (single || l.worker === 0) && typeof l.url === 'string'), exited]);
  const url = started.url as string;
  const agents: Agent[] = [];
  const pid = (slot: number): number => {
    const lines = logs.filter((l) => l.worker === 0 && l.msg === `worker ${slot} started`);
    const last = lines[lines.length - 1];
    return (last.workerPid ?? last.threadId) as number;
  };
  return {
    url,
    base,
    drives,
    child,
    logs,
    logLine,
    mode,
    pid,
    kill: (slot) => {
      if (mode === 'threads') child.stdin!.write(`kill ${slot}\n`);
      else process.kill(pid(slot), 'SIGKILL');
    },
    hang: (slot) => {
      if (mode === 'threads') child.stdin!.write(`hang ${slot}\n`);
      else process.kill(pid(slot), 'SIGSTOP');
    },
    resume: (slot) => {
      if (mode === 'processes') process.kill(pid(slot), 'SIGCONT');
    },
    client: async (slot, credentials = WORKERS_ROOT) => {
      const agent = single ? new Agent({ keepAlive: true, maxSockets: 1 }) : await pinnedAgent(url, slot);
      agents.push(agent);
      const client = makeClient(url, { credentials, extra: { requestHandler: { httpAgent: agent } } });
      return single ? client : pinToWorker(client, slot);
    },
    agent: async (slot) => {
      const agent = single ? new Agent({ keepAlive: true, maxSockets: 1 }) : await pinnedAgent(url, slot);
      agents.push(agent);
      return agent;
    },
    close: async () => {
      for (const a of agents) a.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * Checks that worker `slot` answers every request of an AWS SDK client (S3, IAM, STS) built with
 * `requestHandler: { httpAgent: await server.agent(slot) }`; returns the client.
 */
export function pinToWorker<C>(client: C, slot: number): C {
  (client as unknown as S3Client).middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const served = (out.response as { headers?: Record<string, string> }).headers?.['x-cairn-worker'];
      if (served !== String(slot)) throw new Error(`answered by worker ${served}, not ${slot}`);
      return out;
    },
    // Next to the HTTP handler (inside the deserializer): error answers are checked too.
    { step: 'finalizeRequest', priority: 'low', name: 'pinnedWorker' },
  );
  return client;
}

/** A one-connection keep-alive agent whose connection worker `slot` serves. */
export async function pinnedAgent(url: string, slot: number): Promise<Agent> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const served = await new Promise<string | undefined>((resolve, reject) => {
      get(`${url}/health/live`, { agent }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.headers['x-cairn-worker'] as string | undefined));
      }).once('error', reject);
    });
    if (served === String(slot)) return agent;
    agent.destroy();
  }
  throw new Error(`no connection reached worker ${slot}`);
}

/**
 * A PUT of `body` to `path` (`/bucket/key`) on a connection worker `slot` serves, of which only the first
 * `first` bytes are sent: the rest goes when the test calls finish(), or never: abort() closes the connection
 * mid-body. A killed worker (or abort()) fails `answer`.
 */
export async function heldPut(
  url: string,
  slot: number,
  path: string,
  body: Buffer,
  first: number,
): Promise<{ finish: () => void; abort: () => void; answer: Promise<{ status: number; text: string }> }> {
  const agent = await pinnedAgent(url, slot);
  const { headers, target } = await signRequest(url, {
    method: 'PUT',
    path,
    contentSha256: 'UNSIGNED-PAYLOAD',
    credentials: WORKERS_ROOT,
  });
  const req = request(url + target, {
    method: 'PUT',
    agent,
    headers: { ...headers, 'content-length': String(body.length) },
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.once('error', reject);
  }).finally(() => agent.destroy());
  answer.catch(() => {});
  req.write(body.subarray(0, first));
  return { finish: () => req.end(body.subarray(first)), abort: () => req.destroy(), answer };
}

/**
 * A GET of `path` on a connection worker `slot` serves that stops reading after its first body chunk:
 * resolves then, with finish() to read the rest (the whole body).
 */
export async function pausedGet(url: string, slot: number, path: string): Promise<{ finish: () => Promise<Buffer> }> {
  const agent = await pinnedAgent(url, slot);
  const { headers, target } = await signRequest(url, { method: 'GET', path, credentials: WORKERS_ROOT });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    request(url + target, { agent, headers }, resolve)
      .once('error', reject)
      .end();
  });
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
  const chunks: Buffer[] = [];
  const firstChunk = new Promise<void>((resolve) =>
    res.once('data', (c: Buffer) => {
      chunks.push(c);
      res.pause();
      resolve();
    }),
  );
  await firstChunk;
  return {
    finish: () =>
      new Promise<Buffer>((resolve, reject) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          agent.destroy();
          resolve(Buffer.concat(chunks));
        });
        res.once('error', reject);
        res.resume();
      }),
  };
}
