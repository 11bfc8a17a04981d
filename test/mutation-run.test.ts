// mutation/run.mjs's choice of what each Stryker run mutates and tests (its --plan output), above all
// --mutate FILE, which runs one file of a module alone. No Stryker run here: --plan exits before one.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
