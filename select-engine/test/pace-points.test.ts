// Where the executor looks at its pacer (pace.test.ts measures what that gives: no long stretch). A Pacer with
// a slice of 0 ms is always due, one of Infinity never: the pauses then show each point where the executor
// asks, for plain rows, aggregates, GROUP BY (its rows, then its groups) and ORDER BY (its rows, then its
// output, given out DRAIN_LINES at a time). The query parts are written here; the loop is executeQuery's own.
import { describe, expect, it } from 'vitest';
import type { Row } from '../src/exec/compile.js';
import type { Groups } from '../src/exec/grouping.js';
import { type CompiledQuery, executeQuery } from '../src/exec/pipeline.js';
import { Pacer } from '../src/pace.js';

/** Per-row cost for which the executor looks at the pacer every `rows` rows (rowsPerCheck: 4096 units). */
const costFor = (rows: number) => 4096 / rows;

async function run(
  q: Partial<CompiledQuery>,
  batches: Row[][],
  pacing: { pacer: Pacer; rowCost: number; filterCost: number },
  filterApplied = false,
): Promise<string[]> {
  async function* source() {
    for (const b of batches) yield b;
  }
  const query: CompiledQuery = { write: (row) => `${row}\n`, limit: Infinity, distinct: false, ...q };
  const texts: string[] = [];
  for await (const t of executeQuery(query, source(), filterApplied, pacing)) texts.push(t);
  return texts;
}

const numbers = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const lines = (values: unknown[]) => values.map((v) => `${v}\n`).join('');

describe('the executor asks its pacer before each batch and every few rows', () => {
  it('plain rows: WHERE counts in the cost of a row', async () => {
    // Row and filter cost 1024 each: the pacer is asked at rows 2 and 4 of each batch of 5, and before each batch.
    const filter = (row: Row) => row !== 3;
    const pacing = (pacer: Pacer) => ({ pacer, rowCost: 1024, filterCost: 1024 });
    const batches = [numbers(1, 5), numbers(6, 5)];
    const due = new Pacer(0);
    expect(await run({ filter }, batches, pacing(due))).toEqual([lines([1, 2, 4, 5]), lines(numbers(6, 5))]);
    expect(due.pauses).toBe(2 * (1 + 2));
    const never = new Pacer(Infinity);
    expect(await run({ filter }, batches, pacing(never))).toEqual([lines([1, 2, 4, 5]), lines(numbers(6, 5))]);
    expect(never.pauses).toBe(0);
  });

  it('an aggregate, its WHERE applied by the scanner (so not counted in the cost of a row)', async () => {
    let sum = 0;
    const filter = () => false;
    const aggregate = {
      accumulators: [{ add: (row: Row) => void (sum += row as number), result: () => sum }],
      finish: () => `${sum}\n`,
    };
    const due = new Pacer(0);
    const pacing = (pacer: Pacer) => ({ pacer, rowCost: costFor(2), filterCost: costFor(2) });
    const texts = await run({ aggregate, filter }, [numbers(1, 5)], pacing(due), true);
    expect([texts, due.pauses]).toEqual([['', '15\n'], 1 + 2]);
    const never = new Pacer(Infinity);
    sum = 0;
    await run({ aggregate, filter }, [numbers(1, 5)], pacing(never), true);
    expect(never.pauses).toBe(0);
  });

  it('GROUP BY: its rows, then its groups, the lines written so far given out before each pause', async () => {
    // Each row is its own group; the row writer reads the current group, as the compiled SELECT list does.
    const grouped = (): Partial<CompiledQuery> => {
      const held: Row[] = [];
      let current: Row;
      const groups: Groups = {
        add: (row) => void held.push(row),
        select: (i) => void (current = held[i]),
        count: () => held.length,
      };
      return { groups, write: () => `g${current}\n` };
    };
    const due = new Pacer(0);
    const texts = await run(grouped(), [numbers(0, 5)], { pacer: due, rowCost: costFor(2), filterCost: 0 });
    // Asked at groups 1 and 3: what was written before each is given out first.
    expect(texts).toEqual(['', 'g0\n', 'g1\ng2\n', 'g3\ng4\n']);
    expect(due.pauses).toBe(1 + 2 + 2);
    const never = new Pacer(Infinity);
    const quiet = await run(grouped(), [numbers(0, 5)], { pacer: never, rowCost: costFor(2), filterCost: 0 });
    expect([quiet, never.pauses]).toEqual([['', 'g0\ng1\ng2\ng3\ng4\n'], 0]);
  });

  it('ORDER BY: its rows, then its sorted output, 4096 lines at a time', async () => {
    const order = { keys: [(row: Row) => -(row as number)], desc: [false] };
    const rows = numbers(0, 5000);
    const due = new Pacer(0);
    // The cheapest rows: the pacer is asked every 256 rows (19 times in 5000), then before each of 2 pieces.
    const texts = await run({ order }, [rows], { pacer: due, rowCost: 1, filterCost: 0 });
    const sorted = rows.toReversed();
    expect(texts).toEqual(['', lines(sorted.slice(0, 4096)), lines(sorted.slice(4096))]);
    expect(due.pauses).toBe(1 + 19 + 2);
    const never = new Pacer(Infinity);
    await run({ order }, [rows], { pacer: never, rowCost: 1, filterCost: 0 });
    expect(never.pauses).toBe(0);
  });
});
