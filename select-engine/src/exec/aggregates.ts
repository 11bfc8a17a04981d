// Aggregates (COUNT, SUM, AVG, MIN, MAX): one accumulator per aggregate call in the SELECT list, fed by
// every row that passes WHERE. MISSING and NULL inputs are skipped; over no input only COUNT is not NULL.
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Fn, Row } from './compile.js';
import { compare, toNumber, type Value } from './values.js';

export interface Accumulator {
  add(row: Row): void;
  result(): Value;
}

export function makeAccumulator(name: A.AggregateName, arg: Fn | '*'): Accumulator {
  if (arg === '*') {
    let n = 0;
    return { add: () => void n++, result: () => n };
  }
  switch (name) {
    case 'COUNT': {
      let n = 0;
      return {
        add(row) {
          if (arg(row) != null) n++;
        },
        result: () => n,
      };
    }
    case 'SUM':
    case 'AVG': {
      let sum = 0;
      let n = 0;
      return {
        add(row) {
          const v = arg(row);
          if (v == null) return;
          const x = typeof v === 'number' ? v : toNumber(v);
          if (Number.isNaN(x)) throw new SelectError('IncorrectSqlFunctionArgumentType', `${name} needs numeric values`);
          sum += x;
          n++;
        },
        result: () => (n === 0 ? null : name === 'SUM' ? sum : sum / n),
      };
    }
    default: {
      let best: Value = undefined;
      const sign = name === 'MIN' ? -1 : 1;
      return {
        add(row) {
          const v = arg(row);
          if (v == null) return;
          if (best === undefined) {
            best = v;
            return;
          }
          const c = compare(v, best);
          if (c !== c) throw new SelectError('IncorrectSqlFunctionArgumentType', `${name} over values that cannot be compared`);
          if (c * sign > 0) best = v;
        },
        result: () => (best === undefined ? null : best),
      };
    }
  }
}
