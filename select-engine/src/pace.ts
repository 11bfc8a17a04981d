// Sharing the event loop. A query evaluates its expression over every record synchronously; over input
// already in memory (a cached object, a fast drive) nothing in between waits for I/O, so without care one
// query would hold the loop for as long as it runs: a 20,000-term OR over 256,000 short records took 255 s,
// during which the server answered nobody. So the work is cut into stretches: scanners deliver batches whose
// filter work is bounded (recordsPerBatch), the executor looks at the clock every few rows (rowsPerCheck) and,
// once a slice of SLICE_MS is used up, gives the event loop a turn (Pacer.pause) before going on.
//
// Work is counted in expression nodes (one closure call each, about 50 ns here): a query's cost per row is
// the node count of what it evaluates per row. Work that grows with the bytes of a record (LIKE, functions
// over long strings, parsing) is bounded by the size of a batch's text instead (a 64 KB piece plus at most
// one 1 MB record).
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The longest stretch of synchronous query work between two turns of the event loop, in milliseconds. */
export const SLICE_MS = 4;

/** Node evaluations between two looks at the clock: about 0.2 ms of work. */
const CHECK_UNITS = 4096;

/** Node evaluations a scanner's filter may spend on one batch: about 1.5 ms of work. */
const BATCH_UNITS = 32_768;

/** Rows to process between two looks at the clock, for a per-row cost in expression nodes. */
export function rowsPerCheck(rowCost: number): number {
  return Math.max(1, Math.min(256, Math.floor(CHECK_UNITS / Math.max(1, rowCost))));
}

/** Records a scanner may run its filter over for one batch, for the filter's cost in expression nodes. */
export function recordsPerBatch(filterCost: number | undefined): number {
  return filterCost === undefined ? Infinity : Math.max(1, Math.floor(BATCH_UNITS / Math.max(1, filterCost)));
}

/** One query's time slices: `due()` says the slice is used up, `pause()` lets the event loop run. */
export class Pacer {
  private sliceStart = performance.now();
  /** Turns given back to the event loop so far. */
  pauses = 0;

  constructor(private readonly sliceMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Waits for one turn of the event loop (timers, I/O, other requests), then starts a new slice. */
  async pause(): Promise<void> {
    this.pauses++;
    await nextTurn();
    this.sliceStart = performance.now();
  }
}
