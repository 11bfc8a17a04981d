#!/usr/bin/env node
// `node mutation/mutants.mjs FILE ...`: the mutants Stryker makes of each file, without running a test: one line
// each (`line:column mutator replacement`), those that mutation/ignorers.mjs and mutation/equivalent.mjs set
// aside marked Ignored with their reason, then the count. In seconds, where a Stryker run of a file takes an hour on a
// loaded machine: to see what a change of the code or of an equivalent-mutant entry does before measuring. It warns
// about an entry of mutation/equivalent.mjs naming one mutant (`replacement`) that the file no longer has (its
// text is compared as Stryker prints it, which may differ from the source's spacing and quotes).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Instrumenter } from '@stryker-mutator/instrumenter';
import { EQUIVALENT } from './equivalent.mjs';
import { applyListedMutants, normalize, strykerPlugins } from './ignorers.mjs';

const ROOT = join(import.meta.dirname, '..');
const files = process.argv.slice(2).map((f) => relative(ROOT, join(process.cwd(), f)));
if (!files.length) {
  console.error('usage: node mutation/mutants.mjs FILE ... (paths from here)');
  process.exit(2);
}

const quiet = () => {};
const logger = { isTraceEnabled: () => false, isDebugEnabled: () => false, trace: quiet, debug: quiet, info: quiet };
logger.warn = console.warn;
logger.error = console.error;
const options = { plugins: null, excludedMutations: [], ignorers: strykerPlugins.map((p) => p.value), noHeader: true };

let stale = 0;
for (const file of files) {
  const source = readFileSync(join(ROOT, file), 'utf8');
  // Stryker's ignorers name files as given; the equivalent-mutant ignorer wants them from the repository's root.
  const { mutants } = await new Instrumenter(logger).instrument(
    [{ name: file, content: source, mutate: true }],
    options,
  );
  // Report positions are 1-based (Stryker's JSON report), the instrumenter's 0-based.
  const listed = mutants.map((m) => ({
    ...m,
    location: {
      start: { line: m.location.start.line + 1, column: m.location.start.column + 1 },
      end: { line: m.location.end.line + 1, column: m.location.end.column + 1 },
    },
    status: m.status ?? 'Survived',
  }));
  applyListedMutants([{ file, source, mutants: listed }]);
  for (const m of listed) {
    const where = `${file}:${m.location.start.line}:${m.location.start.column}`;
    const what = `${m.mutatorName} ${normalize(m.replacement ?? '')}`;
    console.log(m.status === 'Ignored' ? `${where} ${what}  [Ignored: ${m.statusReason}]` : `${where} ${what}`);
  }
  const ignored = listed.filter((m) => m.status === 'Ignored').length;
  console.log(`${file}: ${listed.length} mutants, ${ignored} ignored, ${listed.length - ignored} to test`);
  for (const e of EQUIVALENT.filter((x) => x.file === file && x.replacement !== undefined)) {
    // The entry alone, over the mutants as made (none ignored yet): does it name one of them?
    const fresh = mutants.map((m, i) => ({ ...listed[i], status: m.status ?? 'Survived' }));
    applyListedMutants([{ file, source, mutants: fresh }], [e]);
    if (!fresh.some((m, i) => m.status === 'Ignored' && (mutants[i].status ?? 'Survived') !== 'Ignored')) {
      stale++;
      console.log(
        `warning: mutation/equivalent.mjs names \`${e.code}\` -> \`${e.replacement}\`, which ${file} has no mutant for`,
      );
    }
  }
}
// Not process.exit(): with stdout a pipe whose reader is slow (a test's spawnSync on a loaded machine), it dropped
// the lines still queued, and the listing came out cut short.
process.exitCode = stale ? 1 : 0;
