#!/usr/bin/env node
// `npm run mutation [-- module ...]`: mutation testing (StrykerJS, vitest runner) of the modules in
// mutation/modules.mjs, one Stryker run per module with only that module's test files. Prints a table per
// module (one row per file, then the module's total) and ends with `mutation score: NN.N%` over all the modules
// run. Exits 1 when a module scores under 70% or all together under 80%.
//
// Options: --concurrency N (default 1: the machine is shared), --force (ignore the incremental results),
// --quick (leave out each module's `slow` test files, those that start servers or erasure sets: fewer tests
// can only kill fewer mutants, so a quick score is a lower bound of the full one), --list (the modules and exit),
// --mutate FILE (repeatable: mutate only that file of the modules that hold it, with their whole list of tests;
// a module's glob narrows to the file, its named functions of that file stay as named; results under
// reports/mutation[-quick]/<module>--<file name>/, apart from the whole module's), --lines A-B (with --mutate:
// only those lines of each file; results in <module>--<file name>@A-B/), --tests a.ts,b.ts (these test files
// instead of the module's), --ignore-static (leave out the mutants only module loading reaches, which rerun every
// test: Stryker counts them Ignored), --plan (print what each Stryker run would mutate and test, one JSON line per
// module, and exit). Each mutant's result is appended to live.tsv in the results folder as it is known (a run
// stopped early keeps them).
// Runs niced (+10). Results and the incremental files are kept under reports/mutation/<module>/ (quick runs:
// reports/mutation-quick/<module>/, gitignored): reruns only test the mutants whose code or tests changed.
// reports/mutation/<module>/survivors.txt lists the surviving mutants to review.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { basename, dirname, join, matchesGlob, normalize as normalizePath, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { EQUIVALENT } from './equivalent.mjs';
import { applyListedMutants, normalize } from './ignorers.mjs';
import { MODULES } from './modules.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODULE_MIN = 70;
/** Stryker's timeout of a mutant run: factor times the dry-run time of its tests, plus slackMs. */
const TIMEOUT = { factor: 3, slackMs: 20_000 };
const OVERALL_MIN = 80;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const concurrency = Number(option('--concurrency', '1'));
const VALUED = ['--concurrency', '--mutate', '--lines', '--tests'];
const named = args.filter((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1]));
const only = args.flatMap((a, i) => (a === '--mutate' ? [args[i + 1]] : []));
const lines = option('--lines');
const testFiles = option('--tests')?.split(',');
const ignoreStatic = flag('--ignore-static');
if (lines !== undefined && (!/^\d+-\d+$/.test(lines) || !only.length)) {
  console.error('--lines needs a range A-B and --mutate FILE');
  process.exit(2);
}
const missingTests = (testFiles ?? []).filter((t) => !t || !existsSync(join(ROOT, t)));
if (missingTests.length || (testFiles && !testFiles.length)) {
  console.error(`--tests needs test files, from the repository's root (got ${option('--tests')})`);
  process.exit(2);
}

if (flag('--list')) {
  for (const m of MODULES) console.log(`${m.name.padEnd(18)} ${m.about}`);
  process.exit(0);
}
const unknown = named.filter((n) => !MODULES.some((m) => m.name === n));
if (unknown.length) {
  console.error(`unknown module(s): ${unknown.join(', ')} (--list shows them)`);
  process.exit(2);
}
// An equivalent-mutant entry whose code is gone from its file would silently stop ignoring anything.
const stale = EQUIVALENT.filter((e) => {
  const text = normalize(readFileSync(join(ROOT, e.file), 'utf8'));
  return !text.includes(normalize(e.within ?? e.code)) || !normalize(e.within ?? e.code).includes(normalize(e.code));
});
if (stale.length) {
  for (const e of stale) console.error(`mutation/equivalent.mjs: ${e.file} no longer has \`${e.code}\``);
  process.exit(2);
}
const quick = flag('--quick');
const chosen = (named.length ? MODULES.filter((m) => named.includes(m.name)) : MODULES).map((m) => ({
  ...m,
  tests: testFiles ?? (quick ? m.tests.filter((t) => !m.slow?.includes(t)) : m.tests),
}));

/** The entries of a module's `mutate` that concern `file`: a glob narrowed to it, a function list of it. */
const entriesOf = (m, file) =>
  m.mutate.flatMap((x) =>
    typeof x === 'string' ? (x === file || matchesGlob(file, x) ? [file] : []) : x.file === file ? [x] : [],
  );

/** With --mutate: each chosen module that holds one of the files, mutating only those files. */
function narrowed(modules) {
  if (!only.length) return modules;
  const files = only.map((f) => (f === undefined ? f : normalizePath(f)));
  const bad = files.filter((f) => f === undefined || f.startsWith('--') || !existsSync(join(ROOT, f)));
  if (bad.length) {
    console.error(
      `--mutate needs the path of a file, from the repository's root (got ${bad.map((f) => f ?? 'nothing').join(', ')})`,
    );
    process.exit(2);
  }
  const orphans = files.filter((f) => !modules.some((m) => entriesOf(m, f).length));
  if (orphans.length) {
    const where = named.length ? `module(s) ${named.join(', ')}` : 'any module';
    console.error(`--mutate: ${orphans.join(', ')} is not mutated by ${where} (--list shows them)`);
    process.exit(2);
  }
  return modules.flatMap((m) => {
    const held = files.filter((f) => entriesOf(m, f).length);
    if (!held.length) return [];
    const names = held.map((f) => basename(f).replace(/\.[cm]?[jt]s$/, ''));
    let mutate = held.flatMap((f) => entriesOf(m, f));
    if (lines !== undefined) {
      if (mutate.some((x) => typeof x !== 'string')) {
        console.error(`--lines: ${m.name} mutates named functions of ${held.join(', ')}, not whole files`);
        process.exit(2);
      }
      mutate = mutate.map((f) => `${f}:${lines}`);
    }
    const dirName = `${m.name}--${names.join('+')}${lines === undefined ? '' : `@${lines}`}`;
    return [{ ...m, mutate, dirName, held }];
  });
}
const selected = narrowed(chosen);
for (const m of MODULES) {
  const unlisted = (m.slow ?? []).filter((t) => !m.tests.includes(t));
  if (unlisted.length) throw new Error(`mutation/modules.mjs: ${m.name}: slow tests not in its tests: ${unlisted}`);
}

if (flag('--plan')) {
  for (const m of selected) {
    const mutate = m.mutate.flatMap((x) => (typeof x === 'string' ? [x] : functionRanges(x.file, x.functions)));
    const dir = relative(ROOT, reportDir(m));
    console.log(JSON.stringify({ module: m.name, mutate, tests: m.tests, dir, ...(ignoreStatic && { ignoreStatic }) }));
  }
  process.exit(0);
}

// Inherited by Stryker and its test runners; never lowers a niceness the caller asked for (`nice -n 15 npm run mutation`).
setPriority(Math.max(getPriority(), 10));

/** Lines (1-based, inclusive) of the named functions or methods of a TypeScript file. */
function functionRanges(file, names) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = new Map();
  const visit = (node) => {
    const isFunction =
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      (ts.isVariableDeclaration(node) &&
        node.initializer &&
        (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer)));
    if (isFunction && node.name && names.includes(node.name.getText(source))) {
      const line = (pos) => source.getLineAndCharacterOfPosition(pos).line + 1;
      found.set(node.name.getText(source), `${line(node.getStart(source))}-${line(node.getEnd())}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new Error(`mutation/modules.mjs: ${file} has no function ${missing.join(', ')}`);
  return names.map((n) => `${file}:${found.get(n)}`);
}

/** Where a module's run keeps its results and incremental file; a --mutate run has its own. */
function reportDir(m) {
  return join(ROOT, 'reports', quick ? 'mutation-quick' : 'mutation', m.dirName ?? m.name);
}

function strykerConfig(m, dir) {
  for (const t of m.tests) if (!existsSync(join(ROOT, t))) throw new Error(`mutation/modules.mjs: no test file ${t}`);
  return {
    $schema: '../../../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    testRunner: 'vitest',
    plugins: [
      '@stryker-mutator/vitest-runner',
      join(ROOT, 'mutation', 'ignorers.mjs'),
      join(ROOT, 'mutation', 'live.mjs'),
    ],
    ignorers: ['error-text', 'equivalent'],
    vitest: { configFile: 'mutation/vitest.config.ts', related: false, pool: 'forks' },
    mutate: m.mutate.flatMap((x) => (typeof x === 'string' ? [x] : functionRanges(x.file, x.functions))),
    // Not Stryker's `testFiles`: with it, mutants of module-level code are switched on after the module is
    // loaded and always survive (stryker-js#6144). The vitest config takes the list instead.
    coverageAnalysis: 'perTest',
    ignoreStatic,
    concurrency,
    incremental: true,
    incrementalFile: relative(ROOT, join(dir, 'incremental.json')),
    force: flag('--force'),
    reporters: ['json', 'progress-append-only', 'live'],
    jsonReporter: { fileName: relative(ROOT, join(dir, 'mutation.json')) },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    // Only what the tests load goes into Stryker's copy of the tree.
    // Anchored with '/': a bare name would also leave out folders of that name deeper in the tree (the Select
    // golden tests' data/).
    ignorePatterns: [
      '/bench',
      '/notebooks',
      '/docs',
      '/scripts',
      '/test/python',
      '/test/go',
      '/test/analytics',
      '**/dist',
      '/native/target',
      '/.venv*',
      '/data',
    ],
    // A busy shared machine: a mutant is a timeout only when clearly stuck. The watchdog applies the same rule
    // to each test alone (CAIRN_MUTATION_TIMEOUT).
    timeoutMS: TIMEOUT.slackMs,
    timeoutFactor: TIMEOUT.factor,
    dryRunTimeoutMinutes: 30,
    thresholds: { high: OVERALL_MIN, low: MODULE_MIN, break: null },
    logLevel: 'warn',
    fileLogLevel: 'off',
  };
}

function run(cmd, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ? 1 : code));
  });
}

const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function tally(mutants) {
  const t = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 };
  for (const mu of mutants) {
    if (mu.status === 'Killed') t.killed++;
    else if (mu.status === 'Timeout') t.timeout++;
    else if (mu.status === 'Survived') t.survived++;
    else if (mu.status === 'NoCoverage') t.noCoverage++;
    else if (mu.status === 'Ignored') t.ignored++;
    else t.errors++;
  }
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  t.score = valid ? (100 * (t.killed + t.timeout)) / valid : 100;
  return t;
}

const pct = (x) => `${x.toFixed(1)}%`;
const COLUMNS = ['killed', 'timeout', 'survived', 'noCoverage', 'errors', 'ignored'];
const row = (label, t) =>
  `${label.padEnd(50)} ${COLUMNS.map((c) => String(t[c]).padStart(Math.max(c.length, 8))).join(' ')}  ${pct(t.score).padStart(6)}`;
const header = () => `${'file'.padEnd(50)} ${COLUMNS.map((c) => c.padStart(Math.max(c.length, 8))).join(' ')}   score`;

const results = [];
for (const m of selected) {
  const dir = reportDir(m);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'stryker.config.json');
  writeFileSync(configFile, `${JSON.stringify(strykerConfig(m, dir), null, 2)}\n`);
  const part = m.held ? ` (only ${m.held.join(', ')})` : '';
  console.log(`\n=== ${m.name}: ${m.about}${quick ? ' (quick)' : ''}${part}`);
  if (!m.tests.length) throw new Error(`${m.name}: no test file left to run`);
  const stryker = join(ROOT, 'node_modules', '.bin', 'stryker');
  writeFileSync(join(dir, 'live.tsv'), '');
  const code = await run(stryker, ['run', relative(ROOT, configFile)], {
    CAIRN_MUTATION_LIVE: join(dir, 'live.tsv'),
    CAIRN_MUTATION_TESTS: JSON.stringify(m.tests),
    CAIRN_MUTATION_TIMEOUT: JSON.stringify(TIMEOUT),
  });
  if (code !== 0) {
    console.error(`stryker failed on ${m.name} (exit ${code})`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(join(dir, 'mutation.json'), 'utf8'));
  const files = Object.entries(report.files).map(([file, f]) => ({ file: relative(ROOT, join(ROOT, file)), ...f }));
  for (const d of applyListedMutants(files)) console.log(`warning: listed as equivalent but detected: ${d}`);
  const survivors = files.flatMap((f) => {
    const lines = f.source.split('\n');
    return f.mutants
      .filter((mu) => UNDETECTED.has(mu.status))
      .map(
        (mu) =>
          `${f.file}:${mu.location.start.line}:${mu.location.start.column} ${mu.status} ${mu.mutatorName}\n` +
          `    ${lines[mu.location.start.line - 1].trim()}\n    -> ${(mu.replacement ?? '').replace(/\s+/g, ' ').slice(0, 200)}`,
      );
  });
  writeFileSync(join(dir, 'survivors.txt'), survivors.join('\n') + (survivors.length ? '\n' : ''));
  // A covered mutant whose run completed no test was not measured (stryker-js#6073): counted as survived
  // here, which can only understate the score; a rerun with --force measures it again.
  const unrun = files.flatMap((f) => f.mutants).filter((mu) => mu.status === 'Survived' && mu.testsCompleted === 0);
  if (unrun.length) console.log(`warning: ${unrun.length} survivor(s) of ${m.name} ran no test (rerun with --force)`);
  results.push({
    m,
    files: files.map((f) => ({ file: f.file, t: tally(f.mutants) })),
    total: tally(files.flatMap((f) => f.mutants)),
    all: files.flatMap((f) => f.mutants),
  });
}

console.log(`\nMutation testing (StrykerJS), per module${quick ? ' (quick: a lower bound)' : ''}:`);
for (const r of results) {
  console.log(`\n${r.m.name} (${r.m.held ? `only ${r.m.held.join(', ')}` : r.m.about})`);
  console.log(header());
  for (const f of r.files) console.log(row(f.file, f.t));
  console.log(row(`= ${r.m.name}`, r.total));
}
console.log(`\n${header().replace('file', 'module')}`);
for (const r of results) console.log(row(r.m.dirName ?? r.m.name, r.total));
const overall = tally(results.flatMap((r) => r.all));
console.log(row('all', overall));
const low = results.filter((r) => r.total.score < MODULE_MIN).map((r) => r.m.name);
if (low.length) console.log(`under ${MODULE_MIN}%: ${low.join(', ')}`);
console.log(`mutation score: ${overall.score.toFixed(1)}%`);
process.exit(low.length || overall.score < OVERALL_MIN ? 1 : 0);
