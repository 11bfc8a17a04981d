// The servers of a side-by-side run: Cairn and MinIO started as bench/load/servers.ts starts them (4 drives
// each in a temporary folder under /dev/shm; MinIO from a binary given on the command line, one erasure set,
// EC 2+2 by its default for 4 drives, as Cairn's), or endpoints already running.
import {
  cairnCommand,
  DEFAULT_CAIRN_BIN,
  type ServerProcess,
  startCairn,
  startMinio,
  stopServer,
} from '../load/servers.js';
import { sampleTree } from '../load/procstat.js';

export interface Target {
  name: string;
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  /** The server process (CPU is read from /proc for it and its children), when known. */
  pid?: number;
  stop(): Promise<void>;
}

export const REGION = 'us-east-1';

function target(s: ServerProcess, keep: boolean): Target {
  return {
    name: s.name,
    endpoint: s.url,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: REGION,
    bucket: `readers-${s.name}`,
    pid: s.child.pid,
    stop: () => stopServer(s, keep),
  };
}

/** Cairn (the build of `npm run build`) on 4 drives under `drivesDir`; `env` adds tuning variables. */
export async function startCairnTarget(
  drivesDir: string,
  accessKey: string,
  secretKey: string,
  keep: boolean,
  env: NodeJS.ProcessEnv = {},
): Promise<Target> {
  const command = await cairnCommand(DEFAULT_CAIRN_BIN, false);
  return target(await startCairn(command, drivesDir, accessKey, secretKey, env), keep);
}

/** MinIO from the binary `bin` on 4 drives under `drivesDir`. */
export async function startMinioTarget(
  bin: string,
  drivesDir: string,
  accessKey: string,
  secretKey: string,
  keep: boolean,
): Promise<Target> {
  return target(await startMinio(bin, drivesDir, accessKey, secretKey), keep);
}

/** A server already running (not stopped by the bench). */
export function externalTarget(
  name: string,
  endpoint: string,
  accessKey: string,
  secretKey: string,
  pid?: number,
): Target {
  return {
    name,
    endpoint: endpoint.replace(/\/+$/, ''),
    accessKey,
    secretKey,
    region: REGION,
    bucket: `readers-${name}`,
    pid,
    stop: async () => {},
  };
}

/** CPU seconds used so far by the target's server process tree (undefined when its pid is unknown). */
export async function serverCpu(t: Target): Promise<number | undefined> {
  return t.pid === undefined ? undefined : (await sampleTree(t.pid)).cpuSeconds;
}
