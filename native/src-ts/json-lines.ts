// S3 Select's JSON LINES line filter (src/select_json.rs in Rust): the lines of a chunk where WHERE's first
// conjunct may hold; a line is dropped only when it is certainly false. Runs on the libuv pool.
import { native } from './binding.js';
import { CSV_LINE_OPS } from './csv.js';

/**
 * The test of one top-level field (`name` as the line's key spells it): `field op bound` (`number`; op codes as
 * CSV_LINE_OPS), `field = text` (`equal`) or `field LIKE 'text%'` (`prefix`).
 */
export interface JsonLineTest {
  name: string;
  judge: { kind: 'number'; op: keyof typeof CSV_LINE_OPS; bound: number } | { kind: 'equal' | 'prefix'; text: string };
}

/** The kinds of test the kernel knows, as it numbers them. */
const KINDS = { number: 1, equal: 2, prefix: 3 } as const;

/** The kernel, typed here (see csv.ts: a checkout whose binding predates it must still compile). */
type JsonLineFilter = (
  chunk: Buffer,
  name: Buffer,
  text: Buffer,
  kind: number,
  op: number,
  bound: number,
) => Promise<Buffer>;
const kernel = (native as unknown as { jsonLineFilterAsync: JsonLineFilter }).jsonLineFilterAsync;

/**
 * The lines of `chunk` (complete lines; bytes after the last `\n` count as one) that `test` may pass, with their
 * `\n`, in a new Buffer. `chunk` must not change until the promise settles.
 */
export function jsonLineFilterAsync(chunk: Buffer, test: JsonLineTest): Promise<Buffer> {
  const { judge } = test;
  const name = Buffer.from(test.name);
  if (judge.kind === 'number')
    return kernel(chunk, name, Buffer.alloc(0), KINDS.number, CSV_LINE_OPS[judge.op], judge.bound);
  return kernel(chunk, name, Buffer.from(judge.text), KINDS[judge.kind], 0, 0);
}
