// S3 Select's JSON LINES line filter (src/select_json.rs in Rust): the lines of a chunk where WHERE's first
// conjunct may hold; a line is dropped only when it is certainly false. Runs on the libuv pool.
import { native } from './binding.js';
import { CSV_LINE_OPS, type NativePass, type PiecePass } from './csv.js';

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

/** The kernel's arguments after the bytes. */
type KernelArgs = [name: Buffer, text: Buffer, kind: number, op: number, bound: number];

/**
 * The kernels, typed here (see csv.ts: a checkout whose binding predates one must still compile);
 * `jsonLineFilterPiecesAsync` as csv.ts's pieces kernel.
 */
const kernels = native as unknown as {
  jsonLineFilterAsync: (chunk: Buffer, ...args: KernelArgs) => Promise<Buffer>;
  jsonLineFilterPiecesAsync?: (pieces: Buffer[], ...args: KernelArgs) => Promise<Buffer>;
};

/**
 * The lines of `chunk` (complete lines; bytes after the last `\n` count as one) that `test` may pass, with their
 * `\n`, in a new Buffer; given several pieces (each of complete lines), the kept lines of each in turn, in one
 * Buffer. The bytes must not change until the promise settles.
 */
export function jsonLineFilterAsync(chunk: Buffer | Buffer[], test: JsonLineTest): Promise<Buffer> {
  const args = kernelArgs(test);
  if (!Array.isArray(chunk)) return kernels.jsonLineFilterAsync(chunk, ...args);
  if (kernels.jsonLineFilterPiecesAsync) return kernels.jsonLineFilterPiecesAsync(chunk, ...args);
  return kernels.jsonLineFilterAsync(Buffer.concat(chunk), ...args);
}

/**
 * Arms `pass` (csv.ts PiecePass; once) with this JSON LINES test: reads given it from then on leave out the complete
 * lines of each piece where the test is certainly false. False, and nothing done, when the loaded addon's pass
 * knows only CSV (the reader then filters by itself).
 */
export function armJsonLines(pass: PiecePass, test: JsonLineTest): boolean {
  const n = pass.native as NativePass & { armJsonLines?: (...args: KernelArgs) => void };
  if (!n.armJsonLines) return false;
  n.armJsonLines(...kernelArgs(test));
  return true;
}

function kernelArgs(test: JsonLineTest): KernelArgs {
  const { judge } = test;
  const name = Buffer.from(test.name);
  if (judge.kind === 'number') return [name, Buffer.alloc(0), KINDS.number, CSV_LINE_OPS[judge.op], judge.bound];
  return [name, Buffer.from(judge.text), KINDS[judge.kind], 0, 0];
}

const longRun = (native as unknown as { jsonLongNumberRun?: (chunk: Buffer, carried: number) => number })
  .jsonLongNumberRun;

/**
 * Whether `chunk` holds a run of 16 or more digits (points allowed among them; in strings too), counting the
 * `carried` digits of the run that ended the chunk before it: -1 when it does, else the digits of the run at its
 * end (the next chunk's `carried`). S3 Select's JSON reader re-reads only such chunks' records for numbers a double
 * cannot hold. Synchronous: about 50 microseconds a MiB. With an addon that predates it: -1 (every chunk is looked at).
 */
export function jsonLongNumberRun(chunk: Buffer, carried: number): number {
  return longRun ? longRun(chunk, carried) : -1;
}
