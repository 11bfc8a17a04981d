// S3 Select's CSV line filter (src/select_csv.rs in Rust): the lines of a chunk where WHERE's first conjunct
// may hold; a line is dropped only when it is certainly false. Runs on the libuv pool.
import { native } from './binding.js';

/** The comparison's code in the kernel. */
export const CSV_LINE_OPS = { '=': 0, '<>': 1, '<': 2, '<=': 3, '>': 4, '>=': 5 } as const;

/** The kinds of test the kernel knows, as it numbers them. */
const KINDS = { int: 0, number: 1, equal: 2, prefix: 3 } as const;

/**
 * The test of one field: `CAST(field AS INT) op bound` (`int`, a safe integer bound), `CAST(field AS FLOAT|
 * DECIMAL) op bound` (`number`), `field = text` (`equal`, op `=`) or `field LIKE 'text%'` (`prefix`; text
 * ASCII for both).
 */
export type CsvLineJudge =
  | { kind: 'int' | 'number'; op: keyof typeof CSV_LINE_OPS; bound: number }
  | { kind: 'equal' | 'prefix'; text: string };

export interface CsvLineTest {
  /** 0-based field index. */
  field: number;
  /** One-byte ASCII field and record delimiters, and quote (-1 for none). */
  fieldDelimiter: number;
  recordDelimiter: number;
  quote: number;
  judge: CsvLineJudge;
}

/** The kernel's arguments after the bytes. */
type KernelArgs = [
  text: Buffer,
  field: number,
  fieldDelimiter: number,
  recordDelimiter: number,
  quote: number,
  kind: number,
  op: number,
  bound: number,
];

/**
 * The kernels, typed here rather than from binding.d.cts: `npm install` compiles the TypeScript (the root
 * `prepare`) before it rebuilds the addon, so a checkout whose binding predates a kernel must still compile.
 * `csvLineFilterPiecesAsync`: one pool task for several pieces (each of complete lines), the kept lines of each
 * in turn in one Buffer; an addon built before it gets the pieces joined (a copy).
 */
const kernels = native as unknown as {
  csvLineFilterAsync: (chunk: Buffer, ...args: KernelArgs) => Promise<Buffer>;
  csvLineFilterPiecesAsync?: (pieces: Buffer[], ...args: KernelArgs) => Promise<Buffer>;
};
const NO_TEXT = Buffer.alloc(0);

/**
 * The lines of `chunk` (complete lines; bytes after the last delimiter count as one) that `test` may pass, with
 * their delimiters, in a new Buffer; given several pieces (each of complete lines), the kept lines of each in
 * turn, in one Buffer. The bytes must not change until the promise settles.
 */
export function csvLineFilterAsync(chunk: Buffer | Buffer[], test: CsvLineTest): Promise<Buffer> {
  const args = kernelArgs(test);
  if (!Array.isArray(chunk)) return kernels.csvLineFilterAsync(chunk, ...args);
  if (kernels.csvLineFilterPiecesAsync) return kernels.csvLineFilterPiecesAsync(chunk, ...args);
  return kernels.csvLineFilterAsync(Buffer.concat(chunk), ...args);
}

function kernelArgs(test: CsvLineTest): KernelArgs {
  const { field, fieldDelimiter, recordDelimiter, quote, judge } = test;
  const kind = KINDS[judge.kind];
  if ('text' in judge) {
    const text = Buffer.from(judge.text, 'latin1');
    return [text, field, fieldDelimiter, recordDelimiter, quote, kind, 0, 0];
  }
  return [NO_TEXT, field, fieldDelimiter, recordDelimiter, quote, kind, CSV_LINE_OPS[judge.op], judge.bound];
}

/** The native object of a PiecePass. */
export interface NativePass {
  armCsvLines(...args: KernelArgs): void;
  readonly armed: boolean;
}

const passKernels = native as unknown as { PiecePass?: new () => NativePass; readShardsFramesPassAsync?: unknown };

/**
 * What a GET batch's pieces go through in the pool task that reads and checks them (src/read_pass.rs, read-pass.ts
 * readShardsFramesPassAsync): nothing until armed (the bytes reach their reader as read), then this CSV line
 * test (`armCsvLines`, once: the complete lines inside each piece where it is certainly false are left out), or
 * a JSON LINES one (json-lines.ts `armJsonLines`).
 * Opaque to storage, which hands it on.
 */
export class PiecePass {
  /** @internal The addon's object (read-pass.ts hands it to the read). */
  readonly native: NativePass;

  private constructor(n: NativePass) {
    this.native = n;
  }

  /** A new, unarmed pass; undefined when the loaded addon predates it (the reader filters by itself). */
  static create(): PiecePass | undefined {
    const P = passKernels.PiecePass;
    return P && passKernels.readShardsFramesPassAsync ? new PiecePass(new P()) : undefined;
  }

  /** Reads given this pass from now on leave out the complete lines of a piece where `test` is certainly false. */
  armCsvLines(test: CsvLineTest): void {
    this.native.armCsvLines(...kernelArgs(test));
  }

  get armed(): boolean {
    return this.native.armed;
  }
}
