// Aggregates (COUNT, SUM, AVG, MIN, MAX): one accumulator per aggregate call in the SELECT list, fed by
// every row that passes WHERE. MISSING and NULL inputs are skipped; over no input only COUNT is not NULL.
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Fn, Row, StaticType } from './compile.js';
import { compare, Decimal, type Value } from './values.js';
import { inInt64, int64 } from './int64.js';

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
 * every value happens to be integral (AWS s3-select-sql-reference-aggregate.html: AVG and SUM of a FLOAT are FLOAT);
 * an INT argument makes a SUM past 64 bits IntegerOverflow (SUM of INT is INT, an 8-byte integer).
 */
export function makeAccumulator(name: A.AggregateName, arg: Fn | '*', type?: StaticType): Accumulator {
  if (arg === '*') {
    // COUNT(*), the only aggregate the parser lets take *: rows that are MISSING (a FROM path leading nowhere)
    // are skipped, as aggregates skip MISSING (AWS s3-select-sql-reference-select.html, FROM clause).
    let n = 0;
    return { add: (row) => void (row !== undefined && n++), result: () => n };
  }
  if (name === 'SUM' || name === 'AVG') return sumOrAvg(name, arg, type);
  return AGGREGATES[name](arg);
}

/**
 * SUM and AVG. INTs (safe integers, bigints) add as numbers while the sum is a safe integer, then exactly; DECIMALs
 * exactly; one FLOAT (a number that is not a safe integer, or an argument typed FLOAT) makes the result a FLOAT.
 * AVG of INT is a DECIMAL. SUM of INT is an INT (AWS s3-select-sql-reference-aggregate.html), so a total past 64
 * bits is IntegerOverflow when the values are known INTs (the argument is typed INT, or a value is a bigint, which
 * is never a FLOAT); when every value is an integral number that may be a FLOAT (a JSON number, as
 * arithmetic has it in compile.ts), the total is the FLOAT. The total is checked once, at the end.
 */
function sumOrAvg(name: 'SUM' | 'AVG', arg: Fn, type?: StaticType): Accumulator {
  let sum = 0;
  /** INTs carried on exactly once their running sum left the safe range. */
  let ints = 0n;
  let exact: Decimal | undefined;
  let float = type === 'float';
  let knownInt = type === 'int';
  let n = 0;
  return {
    add(row) {
      const v = arg(row);
      if (v == null) return;
      n++;
      if (typeof v === 'number') {
        if (!float && !Number.isSafeInteger(v)) float = true;
        const s = sum + v;
        if (float || Number.isSafeInteger(s)) {
          sum = s;
          return;
        }
        // INTs whose running sum leaves the safe range (a double would round it): carried on exactly.
        ints += BigInt(sum) + BigInt(v);
        sum = 0;
        return;
      }
      if (typeof v === 'bigint') {
        knownInt = true;
        ints += v;
        return;
      }
      if (v instanceof Decimal) {
        exact = exact ? exact.add(v) : v;
        return;
      }
      // Every number was taken above: text, booleans, timestamps and nested values are refused.
      throw new SelectError('IncorrectSqlFunctionArgumentType', `${name} needs numeric values`);
    },
    result() {
      if (n === 0) return null;
      if (float) {
        const total = sum + Number(ints) + (exact ? exact.toNumber() : 0);
        return name === 'SUM' ? total : total / n;
      }
      const total = ints + BigInt(sum);
      if (exact || name === 'AVG') {
        const d = exact ? exact.add(Decimal.fromInt(total)) : Decimal.fromInt(total);
        return name === 'SUM' ? d : d.div(Decimal.fromInt(n));
      }
      if (inInt64(total)) return int64(total);
      if (knownInt) throw new SelectError('IntegerOverflow', 'SUM of INT values past 64 bits');
      return Number(total);
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
