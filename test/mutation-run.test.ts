// mutation/run.mjs's choice of what each Stryker run mutates and tests (its --plan output), above all
// --mutate FILE, which runs one file of a module alone, and how it counts the equivalent mutants listed one by
// one. No Stryker run here: --plan exits before one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyListedMutants, type ReportMutant } from '../mutation/ignorers.mjs';
import { MODULES } from '../mutation/modules.mjs';

const root = join(import.meta.dirname, '..');
const script = join(root, 'mutation', 'run.mjs');

interface Plan {
  module: string;
  mutate: string[];
  tests: string[];
  dir: string;
}

function plan(...args: string[]) {
  const r = spawnSync(process.execPath, [script, '--plan', ...args], { cwd: root, encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter(Boolean);
  return { status: r.status, stderr: r.stderr, plans: lines.map((l) => JSON.parse(l) as Plan) };
}

const csv = MODULES.find((m) => m.name === 'select-csv')!;
const SPLITTER = 'select-engine/src/formats/csv/splitter.ts';

// Each case starts node (a few seconds each on a loaded machine, loading TypeScript): generous limits.
describe('npm run mutation -- --mutate FILE', { timeout: 600_000 }, () => {
  it('without it, a module mutates its whole list', () => {
    const r = plan('select-csv');
    expect(r.status).toBe(0);
    expect(r.plans).toEqual([
      { module: 'select-csv', mutate: csv.mutate, tests: csv.tests, dir: 'reports/mutation/select-csv' },
    ]);
  });

  it("narrows a module's glob to the one file, with the module's tests and a report folder of its own", () => {
    const r = plan('--quick', '--mutate', SPLITTER);
    expect(r.status).toBe(0);
    expect(r.plans).toEqual([
      {
        module: 'select-csv',
        mutate: [SPLITTER],
        tests: csv.tests,
        dir: 'reports/mutation-quick/select-csv--splitter',
      },
    ]);
    // A path written another way names the same file.
    expect(plan('select-csv', '--mutate', `./${SPLITTER}`).plans.map((p) => p.mutate)).toEqual([[SPLITTER]]);
  });

  it('--quick leaves the slow tests out of a narrowed run too', () => {
    const sigv4 = MODULES.find((m) => m.name === 'auth-sigv4')!;
    const r = plan('--quick', 'auth-sigv4', '--mutate', 'server/src/http/auth/canonical.ts');
    expect(r.plans).toHaveLength(1);
    expect(r.plans[0].mutate).toEqual(['server/src/http/auth/canonical.ts']);
    expect(r.plans[0].tests).toEqual(sigv4.tests.filter((t) => !sigv4.slow!.includes(t)));
    expect(r.plans[0].tests.length).toBeLessThan(sigv4.tests.length);
  });

  it('keeps only the named functions of a file listed by function', () => {
    const r = plan('--mutate', 'server/src/storage/engine/get.ts');
    expect(r.status).toBe(0);
    expect(r.plans).toHaveLength(1);
    expect(r.plans[0].module).toBe('erasure-placement');
    expect(r.plans[0].mutate).toEqual([expect.stringMatching(/^server\/src\/storage\/engine\/get\.ts:\d+-\d+$/)]);
    expect(r.plans[0].dir).toBe('reports/mutation/erasure-placement--get');
  });

  it('runs every module that holds one of the files, and only those', () => {
    const r = plan('--mutate', SPLITTER, '--mutate', 'select-engine/src/exec/like.ts');
    expect(r.status).toBe(0);
    expect(r.plans.map((p) => [p.module, p.mutate, p.dir])).toEqual([
      ['select-exec', ['select-engine/src/exec/like.ts'], 'reports/mutation/select-exec--like'],
      ['select-csv', [SPLITTER], 'reports/mutation/select-csv--splitter'],
    ]);
  });

  it('--lines narrows the file to a range, --tests replaces the tests, --ignore-static is passed on', () => {
    const pipeline = 'select-engine/src/exec/pipeline.ts';
    const tests = ['select-engine/test/limits.test.ts', 'select-engine/test/pace-points.test.ts'];
    const r = plan('--mutate', pipeline, '--lines', '111-290', '--tests', tests.join(','), '--ignore-static');
    expect(r.status, r.stderr).toBe(0);
    expect(r.plans).toEqual([
      {
        module: 'select-exec',
        mutate: [`${pipeline}:111-290`],
        tests,
        dir: 'reports/mutation/select-exec--pipeline@111-290',
        ignoreStatic: true,
      },
    ]);
    for (const args of [
      ['--lines', '1-9'],
      ['--mutate', pipeline, '--lines', '1'],
      ['--mutate', 'server/src/storage/engine/get.ts', '--lines', '1-9'],
      ['--mutate', pipeline, '--tests', 'select-engine/test/nope.test.ts'],
    ]) {
      const refused = plan(...args);
      expect([refused.status, refused.plans], args.join(' ')).toEqual([2, []]);
    }
  });

  it('refuses a file that no chosen module mutates, a missing file and a missing path, running nothing', () => {
    for (const args of [
      ['select-exec', '--mutate', SPLITTER],
      ['--mutate', 'server/src/index.ts'],
      ['--mutate', 'select-engine/src/formats/csv/nope.ts'],
      ['select-csv', '--mutate'],
    ]) {
      const r = plan(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.plans, args.join(' ')).toEqual([]);
      expect(r.stderr, args.join(' ')).toMatch(/--mutate/);
    }
  });
});

describe('equivalent mutants listed one by one (mutation/equivalent.mjs entries with a replacement)', () => {
  const source = 'const a = x < 0 ? 1 : 2;\nif (x < 0) go();\n';
  // x < 0 on line 1 is at columns 11-16 (from 1, end excluded), on line 2 at 5-10.
  const at = (line: number, column: number, replacement: string, status: string): ReportMutant => ({
    location: { start: { line, column }, end: { line, column: column + 5 } },
    replacement,
    status,
  });
  const entry = { file: 'src/a.ts', code: 'x < 0', within: 'x < 0 ? 1 : 2', replacement: 'x <= 0', reason: 'r' };

  it('ignores a surviving mutant only with that code, that replacement and inside `within`', () => {
    const mutants = [
      at(1, 11, 'x <= 0', 'Survived'),
      at(1, 11, 'false', 'Survived'),
      at(2, 5, 'x <= 0', 'Survived'),
      at(1, 11, 'x  <=  0', 'NoCoverage'),
    ];
    expect(applyListedMutants([{ file: 'src/a.ts', source, mutants }], [entry])).toEqual([]);
    expect(mutants.map((m) => m.status)).toEqual(['Ignored', 'Survived', 'Survived', 'NoCoverage']);
    expect(mutants[0].statusReason).toBe('equivalent: r');
    // Another file, or an entry without `replacement` (the ignorer's business), changes nothing.
    const other = [at(1, 11, 'x <= 0', 'Survived')];
    applyListedMutants([{ file: 'src/b.ts', source, mutants: other }], [entry]);
    applyListedMutants([{ file: 'src/a.ts', source, mutants: other }], [{ ...entry, replacement: undefined }]);
    expect(other[0].status).toBe('Survived');
  });

  it('without `within`, anywhere in the file; a listed mutant that a test detected is reported', () => {
    const mutants = [at(1, 11, 'x <= 0', 'Survived'), at(2, 5, 'x <= 0', 'Killed')];
    const detected = applyListedMutants([{ file: 'src/a.ts', source, mutants }], [{ ...entry, within: undefined }]);
    expect(mutants.map((m) => m.status)).toEqual(['Ignored', 'Killed']);
    expect(detected).toEqual(['src/a.ts:2:5 x < 0 -> x <= 0']);
  });
});

describe('node mutation/mutants.mjs FILE', { timeout: 600_000 }, () => {
  it("lists the file's mutants as Stryker makes them, those set aside marked with their reason", () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'mutation', 'mutants.mjs'), 'select-engine/src/exec/ordering.ts'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const of = (what: string) => lines.filter((l) => l.includes(` ${what}`));
    // Listed one by one in mutation/equivalent.mjs (TopK.cmp), and by the error-text ignorer (tooMuchHeld).
    expect(of('EqualityOperator i <= this.desc.length')).toEqual([
      expect.stringMatching(/^select-engine\/src\/exec\/ordering\.ts:\d+:\d+ .* \[Ignored: equivalent: /),
    ]);
    expect(of('StringLiteral ``').some((l) => l.includes('[Ignored: error message text'))).toBe(true);
    // TopK.down's right child, which a golden case kills: to test.
    expect(of('ArithmeticOperator l - 1')).toEqual([expect.not.stringContaining('Ignored')]);
    const ignored = lines.filter((l) => l.includes('[Ignored: ')).length;
    expect(lines.at(-1)).toBe(
      `select-engine/src/exec/ordering.ts: ${lines.length - 1} mutants, ${ignored} ignored, ${lines.length - 1 - ignored} to test`,
    );
  });

  it('takes the message argument of a local helper that throws the error (values.ts castFailed) for text', () => {
    const file = 'select-engine/src/exec/values.ts';
    const r = spawnSync(process.execPath, [join(root, 'mutation', 'mutants.mjs'), file], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const source = readFileSync(join(root, file), 'utf8').split('\n');
    const at = (l: string) => {
      const [line, column] = l.split(' ')[0].split(':').slice(1).map(Number);
      return source[line - 1].slice(column - 1);
    };
    const literals = r.stdout.split('\n').filter((l) => l.includes(' StringLiteral '));
    // castFailed(v, 'INT'): the type named in the message; castFailed's error code is not text.
    const typeNames = literals.filter((l) => at(l).startsWith("'INT')"));
    expect(typeNames.length).toBeGreaterThan(0);
    for (const l of typeNames) expect(l).toContain('[Ignored: error message text');
    const code = literals.filter((l) => at(l).startsWith("'CastFailed'"));
    expect(code).toEqual([expect.not.stringContaining('Ignored')]);
  });

  it("takes a helper's `const`s that only its message uses for text (compile.ts typeError and notComparable)", () => {
    const file = 'select-engine/src/exec/compile.ts';
    const r = spawnSync(process.execPath, [join(root, 'mutation', 'mutants.mjs'), file], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const source = readFileSync(join(root, file), 'utf8').split('\n');
    const lineOf = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
    const mutantsAt = (line: number) => r.stdout.split('\n').filter((l) => l.startsWith(`${file}:${line}:`));
    const ignored = (l: string) => l.includes('[Ignored: error message text');
    // Inside notComparable's `kind` and `message` consts: every mutant is text.
    const kinds = mutantsAt(lineOf("? 'a timestamp'")).concat(mutantsAt(lineOf(": typeof v === 'boolean'")));
    expect(kinds.length).toBeGreaterThan(3);
    for (const l of kinds) expect(l).toSatisfy(ignored);
    // Its error code is behaviour, and so is the call that throws it.
    const code = mutantsAt(lineOf("throw new SelectError('ExternalEvalException', message)"));
    expect(code.length).toBeGreaterThan(0);
    for (const l of code) expect(l).not.toSatisfy(ignored);
    // typeError('-', a): the operator's name is text; the call (removed: `;`) and its condition are not.
    const minus = mutantsAt(lineOf("typeError('-', a)"));
    expect(minus.filter(ignored)).toEqual([expect.stringContaining(' StringLiteral ""')]);
    expect(minus.filter((l) => !ignored(l)).length).toBeGreaterThan(1);
  });
});
