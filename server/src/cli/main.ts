// The `cairn` command run by node (server/bin/cairn.js, or this file with tsx): the commands are commands.ts.
import { sizeThreadPool } from '../cluster/thread-pool.js';

// Before the commands' modules load (they start libuv's pool).
sizeThreadPool(process.argv.slice(2), process.env);
const { main } = await import('./commands.js');
process.exitCode = await main(process.argv.slice(2));
