// What the writers are given: either the rows as they are (SELECT *) or named output columns, each a
// compiled closure. A writer compiles this once into a function from row to output text.
import type { Fn, Row } from '../exec/compile.js';
import type { RecordShape } from '../plan/bind.js';

export interface OutputColumn {
  /** Output name (JSON key): the alias, the last path name, or _N by position. */
  name: string;
  fn: Fn;
  /** `alias.*` among other items: an object value contributes each of its fields as a column. */
  spread?: boolean;
}

export type Projection = { star: true; shape: RecordShape } | { star: false; columns: OutputColumn[] };

/** Row -> output text, record delimiter included. */
export type RowWriter = (row: Row) => string;
