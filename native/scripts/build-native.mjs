#!/usr/bin/env node
// Builds the native addon from source unless a binary for this platform is already present.
// Runs on `npm ci` / `npm install` (the package's install script) and on `npm run build:native`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const force = process.argv.includes('--force');
const debug = process.argv.includes('--debug');

// napi names binaries cairn-native.<platform>-<arch>[-<abi>].node; only this platform's one counts.
const platform = `cairn-native.${process.platform}-${process.arch}`;
const prebuilt = readdirSync(here).filter((f) => f.startsWith(platform) && f.endsWith('.node'));
if (prebuilt.length > 0 && !force) {
  console.log(`@cairn/native: using prebuilt ${prebuilt.join(', ')}`);
  process.exit(0);
}

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  console.error(
    '\n@cairn/native: no prebuilt binary for ' +
      `${process.platform}-${process.arch}` +
      ' and no Rust toolchain.\n' +
      "Cairn's kernels are written in Rust and must be compiled here: install Rust (https://rustup.rs, " +
      '`cargo` must be on PATH, version 1.89 or newer), then run `npm ci` again.\n',
  );
  process.exit(1);
}

const napiBin = join(here, '..', 'node_modules', '.bin', 'napi');
const napi = existsSync(napiBin) ? napiBin : 'napi';
const args = ['build', '--platform', '--js', 'binding.cjs', '--dts', 'binding.d.cts', '--no-const-enum'];
if (!debug) args.push('--release');
console.log(`@cairn/native: building from source (${cargo.stdout.trim()})`);
const r = spawnSync(napi, args, { cwd: here, stdio: 'inherit' });
if (r.error) {
  console.error(`@cairn/native: could not run the napi CLI: ${r.error.message}`);
  process.exit(1);
}
if (r.status === 0) {
  // napi-derive copies doc comments into binding.d.cts from their token text; those of the kernels declared
  // through a macro (src/pairs.rs) arrive as raw strings (r" text): keep the text.
  const dts = join(here, 'binding.d.cts');
  writeFileSync(dts, readFileSync(dts, 'utf8').replace(/^(\s*(?:\/\*\*|\*)) r" /gm, '$1 '));
}
process.exit(r.status ?? 1);
