// Aggregates (COUNT, SUM, AVG, MIN, MAX): one accumulator per aggregate call in the SELECT list, fed by
// every row that passes WHERE. MISSING and NULL inputs are skipped; over no input only COUNT is not NULL.
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Fn, Row, StaticType } from './compile.js';
import { compare, Decimal, type Value } from './values.js';

export interface Accumulator {
  add(row: Row): void;
  result(): Value;
}

/** Every aggregate function, by name: its accumulator over an argument (the parser takes the names from here). */
export const AGGREGATES: Readonly<Record<A.AggregateName, (arg: Fn) => Accumulator>> = {
  COUNT: (arg) => {
    let n = 0;
    return {
      add(row) {
        if (arg(row) != null) n++;
      },
      result: () => n,
    };
  },
  SUM: (arg) => sumOrAvg('SUM', arg),
  AVG: (arg) => sumOrAvg('AVG', arg),
  MIN: (arg) => best('MIN', arg),
  MAX: (arg) => best('MAX', arg),
};

/**
 * `type`: what the compiler knows of the argument's type. A FLOAT argument makes SUM and AVG FLOAT even when
 * every value happens to be integral (AWS s3-select-sql-reference-aggregate.html: AVG and SUM of a FLOAT are FLOAT).
 */
export function makeAccumulator(name: A.AggregateName, arg: Fn | '*', type?: StaticType): Accumulator {
  if (arg === '*') {
    // COUNT(*), the only aggregate the parser lets take *: rows that are MISSING (a FROM path leading nowhere)
    // are skipped, as aggregates skip MISSING (AWS s3-select-sql-reference-select.html, FROM clause).
    let n = 0;
    return { add: (row) => void (row !== undefined && n++), result: () => n };
  }
  if ((name === 'SUM' || name === 'AVG') && type === 'float') return sumOrAvg(name, arg, true);
  return AGGREGATES[name](arg);
}

function sumOrAvg(name: 'SUM' | 'AVG', arg: Fn, floatArgument = false): Accumulator {
  // Integers add as numbers, DECIMALs exactly; one FLOAT makes the result a FLOAT. AVG of INT is a DECIMAL.
  let sum = 0;
  let exact: Decimal | undefined;
  let float = floatArgument;
  let n = 0;
  return {
    add(row) {
      const v = arg(row);
      if (v == null) return;
      n++;
      if (typeof v === 'number') {
        if (!float && !Number.isInteger(v)) float = true;
        const s = sum + v;
        if (float || Number.isSafeInteger(s)) {
          sum = s;
          return;
        }
        // INTs whose running sum leaves the safe range (a double would round it): carried on exactly.
        const d = Decimal.fromInt(BigInt(sum) + BigInt(v));
        exact = exact ? exact.add(d) : d;
        sum = 0;
        return;
      }
      if (v instanceof Decimal || typeof v === 'bigint') {
        const d = v instanceof Decimal ? v : Decimal.fromInt(v);
        exact = exact ? exact.add(d) : d;
        return;
      }
      // Every number was taken above: text, booleans, timestamps and nested values are refused.
      throw new SelectError('IncorrectSqlFunctionArgumentType', `${name} needs numeric values`);
    },
    result() {
      if (n === 0) return null;
      if (float) {
        const total = sum + (exact ? exact.toNumber() : 0);
        return name === 'SUM' ? total : total / n;
      }
      if (name === 'SUM') return exact ? exact.add(Decimal.fromNumber(sum)) : sum;
      return (exact ? exact.add(Decimal.fromNumber(sum)) : Decimal.fromNumber(sum)).div(Decimal.fromInt(n));
    },
  };
}

function best(name: 'MIN' | 'MAX', arg: Fn): Accumulator {
  let best: Value;
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
      if (c === undefined || Number.isNaN(c)) {
        throw new SelectError('IncorrectSqlFunctionArgumentType', `${name} over values that cannot be compared`);
      }
      if (c * sign > 0) best = v;
    },
    result: () => (best === undefined ? null : best),
  };
}
