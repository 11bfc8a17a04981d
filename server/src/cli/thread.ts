// The entry of a worker thread (`cairn server --worker-mode threads`, cluster/spawn.ts): `cairn server` again with
// the primary's arguments, which finds itself in a thread and runs as a worker (cluster/worker.ts).
import { workerData } from 'node:worker_threads';
import type { ThreadData } from '../cluster/spawn.js';
import { serverCommand } from './server.js';

const data = workerData as ThreadData;
process.exitCode = await serverCommand(data.argv);
