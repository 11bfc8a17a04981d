#!/usr/bin/env node
// Builds `cairn` as one executable (README "One binary"): Node's single executable applications (SEA). esbuild
// bundles the CLI's entry for it (server/src/cli/binary.ts, from the TypeScript sources: the workspaces'
// `source` export condition) and everything it loads into one CommonJS file; node --experimental-sea-config turns it into a blob (with a V8 code cache, and the native addon
// and the console's files as assets); postject injects the blob into a copy of the node binary running this
// script (Node 24 in CI). Output: build/cairn. Nothing is fetched: esbuild and postject are devDependencies.
//
//   node scripts/build-binary.mjs [--out FILE]      (npm run build:binary)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { inject } = require('postject');

/** The addon's asset and its SHA-256 (hex): native/src-ts/executable.ts loads it under these names. */
const ADDON_ASSET = 'cairn-native.node';
const ADDON_HASH_ASSET = 'cairn-native.sha256';
/** Where the console's files go among the assets (`console/index.html`, ...; server/src/http/console.ts). */
const CONSOLE_PREFIX = 'console/';
/** The fuse postject flips so that node looks for the blob (fixed by Node's SEA design). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const argOut = process.argv.indexOf('--out');
const out = resolve(argOut > 0 ? process.argv[argOut + 1] : join(REPO, 'build', 'cairn'));
const work = join(dirname(out), 'sea');
mkdirSync(work, { recursive: true });

if (process.platform !== 'linux' || process.arch !== 'x64')
  fail(`only linux-x64 is built for now, not ${process.platform}-${process.arch}`);
const [major] = process.versions.node.split('.').map(Number);
if (major < 24)
  fail(`the executable is built from the node running this script: Node 24 or later, not ${process.version}`);
const entry = join(REPO, 'server/src/cli/binary.ts');
const addon = join(REPO, 'native/cairn-native.linux-x64-gnu.node');
if (!existsSync(addon)) fail('the native addon is missing: run `npm run build:native -w native` first');

// 1. One CommonJS file. What cannot be in it is left to fail where its package expects that: msgpackr's optional
// native extension (msgpackr then uses its JavaScript), pg's optional pg-native (pg uses its JavaScript client).
const version = JSON.parse(readFileSync(join(REPO, 'server/package.json'), 'utf8')).version;
const bundle = join(work, 'cairn.cjs');
const result = await build({
  entryPoints: [entry],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${major}`,
  conditions: ['source'],
  external: ['msgpackr-extract', 'pg-native'],
  define: { CAIRN_VERSION: JSON.stringify(version) },
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // version.ts and native's binding.ts use import.meta.url only outside the executable (CAIRN_VERSION, isSea()).
  logOverride: { 'empty-import-meta': 'silent' },
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;

// 2. The blob: the bundle, its code cache, and the assets.
const addonHash = join(work, 'cairn-native.sha256');
writeFileSync(addonHash, createHash('sha256').update(readFileSync(addon)).digest('hex'));
const assets = { [ADDON_ASSET]: addon, [ADDON_HASH_ASSET]: addonHash };
const consoleDist = join(REPO, 'console/dist');
if (existsSync(consoleDist))
  for (const f of walk(consoleDist)) assets[CONSOLE_PREFIX + relative(consoleDist, f).split('\\').join('/')] = f;
const blob = join(work, 'cairn.blob');
const config = {
  main: bundle,
  output: blob,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
  assets,
};
writeFileSync(join(work, 'sea-config.json'), `${JSON.stringify(config, null, 2)}\n`);
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'ignore' });

// 3. A copy of node with the blob in it, renamed into place (a running build/cairn is left alone).
const tmp = `${out}.tmp`;
copyFileSync(process.execPath, tmp);
chmodSync(tmp, 0o755);
await inject(tmp, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
renameSync(tmp, out);
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(
  `${relative(process.cwd(), out)}: ${mib(statSync(out).size)} (node ${process.version} ${mib(statSync(process.execPath).size)}, ` +
    `bundle ${mib(statSync(bundle).size)} from ${inputs} files, ${Object.keys(assets).length} assets` +
    `${existsSync(consoleDist) ? ' with the console' : '; no console/dist, so no console'})`,
);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function fail(why) {
  console.error(`build-binary: ${why}`);
  process.exit(1);
}
