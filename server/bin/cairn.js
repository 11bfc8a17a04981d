#!/usr/bin/env node
// The `cairn` command: runs the compiled CLI (npm ci / npm run build compile it into dist/).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/')) {
    console.error('cairn: not built yet; run `npm ci` (or `npm run build`) at the repository root first.');
    process.exit(1);
  }
  throw err;
});
