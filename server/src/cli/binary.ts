// The `cairn` single executable's entry (scripts/build-binary.mjs bundles it into one CommonJS file that Node's
// single executable applications run; see README "One binary"). The commands are commands.ts, as with node.
import cluster from 'node:cluster';
import { main } from './commands.js';

// A single executable sees [executable, argv0, ...arguments]; a cluster worker it forks (--workers) gets the
// path cluster.fork passes as the script (`exec`) in front of the arguments: not a command, dropped.
const args = process.argv.slice(2);
if (cluster.isWorker) args.shift();

void main(args).then((code) => {
  process.exitCode = code;
});
