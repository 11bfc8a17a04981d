// A Stryker reporter of mutation runs (mutation/run.mjs): appends each mutant's result to a file as soon as it
// is known (CAIRN_MUTATION_LIVE), one tab-separated line each: status, line:column, mutator, replacement. A run
// stopped before its end (a shared machine's deadline) keeps what it measured; Stryker's JSON report is written
// only at the end.
import { appendFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

class LiveReporter {
  onMutantTested(result) {
    const file = process.env.CAIRN_MUTATION_LIVE;
    if (!file) return;
    const { line, column } = result.location.start;
    const where = `${relative(ROOT, result.fileName)}:${line}:${column}`;
    const replacement = (result.replacement ?? '').replace(/\s+/g, ' ').slice(0, 200);
    appendFileSync(file, `${result.status}\t${where}\t${result.mutatorName}\t${replacement}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'live', LiveReporter)];
