// The `cairn` command run by node (server/bin/cairn.js, or this file with tsx): the commands are commands.ts.
import { main } from './commands.js';

process.exitCode = await main(process.argv.slice(2));
