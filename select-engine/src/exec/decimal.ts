// DECIMAL: an exact base-10 number (unscaled bigint and a scale), as Ion / PartiQL have it. Decimal literals
// (1.50) and CAST(... AS DECIMAL) make them; + - * are exact, / keeps 34 significant digits (DECIMAL128)
// like Java's BigDecimal, and the scale written survives to the output (1.50 stays 1.50).

const PRECISION = 34;
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;
const TEN = 10n;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

/** Decimal digits of |x| (one place for the sign: counting it would cut a quotient a digit short). */
function digitCount(x: bigint): number {
  return x.toString().replace('-', '').length;
}

// Applied to trimmed text: with `\s*` at both ends a text of spaces made the pattern quadratic (the trailing
// `\s*` rescanned the spaces from every start the leading one gave back: 64 KB took 10 s).
const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export class Decimal {
  constructor(
    readonly unscaled: bigint,
    /** Digits after the point (negative: trailing zeros before it). */
    readonly scale: number,
  ) {}

  /** Parses decimal text (`-12.340`, `.5`, `1e3`); undefined when it is not a number. */
  static parse(text: string): Decimal | undefined {
    const m = DECIMAL_TEXT.exec(text.trim());
    if (!m) return undefined;
    const [, sign, int, frac = '', exp] = m;
    if (int === '' && frac === '') return undefined;
    if (int.length + frac.length > 400 || (exp && Math.abs(Number(exp)) > 6000)) return undefined;
    const digits = BigInt(int + frac); // not both empty: BigInt('') would be 0
    return new Decimal(sign === '-' ? -digits : digits, frac.length - (exp ? Number(exp) : 0));
  }

  static fromInt(n: number | bigint): Decimal {
    return new Decimal(BigInt(n), 0);
  }

  /** A double's shortest decimal text, exactly (0.1 -> 0.1). */
  static fromNumber(n: number): Decimal {
    return Number.isInteger(n) && Number.isSafeInteger(n) ? Decimal.fromInt(n) : Decimal.parse(String(n))!;
  }

  toNumber(): number {
    return Number(this.toString());
  }

  /** Truncated toward zero. */
  toBigInt(): bigint {
    return (this.unscaled * pow10(Math.max(0, -this.scale))) / pow10(Math.max(0, this.scale));
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  toString(): string {
    if (this.scale <= 0) return (this.unscaled * pow10(-this.scale)).toString();
    const neg = this.unscaled < 0n;
    let digits = (neg ? -this.unscaled : this.unscaled).toString();
    if (digits.length <= this.scale) digits = '0'.repeat(this.scale - digits.length + 1) + digits;
    const point = digits.length - this.scale;
    return `${neg ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
  }

  /** Inside a JSON record: the digits as they are (JSON.rawJSON, Node 22+), else the nearest double. */
  toJSON(): unknown {
    return rawJson ? rawJson(this.toString()) : this.toNumber();
  }

  /** Both unscaled values at the larger scale (no branch: an equal-scale shortcut changed nothing but speed). */
  private static align(a: Decimal, b: Decimal): [bigint, bigint, number] {
    const s = Math.max(a.scale, b.scale);
    return [a.unscaled * pow10(s - a.scale), b.unscaled * pow10(s - b.scale), s];
  }

  add(o: Decimal): Decimal {
    const [x, y, s] = Decimal.align(this, o);
    return new Decimal(x + y, s);
  }

  sub(o: Decimal): Decimal {
    const [x, y, s] = Decimal.align(this, o);
    return new Decimal(x - y, s);
  }

  mul(o: Decimal): Decimal {
    return new Decimal(this.unscaled * o.unscaled, this.scale + o.scale);
  }

  /** Quotient to 34 significant digits, trailing zeros dropped down to the preferred scale. Divisor non-zero. */
  div(o: Decimal): Decimal {
    const preferred = this.scale - o.scale;
    // Scale the dividend so that the integer quotient carries PRECISION + 1 digits at least.
    const shift = Math.max(0, PRECISION + 1 - (digitCount(this.unscaled) - digitCount(o.unscaled)));
    let q = (this.unscaled * pow10(shift)) / o.unscaled;
    let scale = preferred + shift;
    // Round half-even away the digits beyond PRECISION.
    const digits = digitCount(q);
    if (digits > PRECISION) {
      const drop = digits - PRECISION;
      const unit = pow10(drop);
      const rem = q % unit;
      q /= unit;
      const half = unit / 2n;
      const r = rem < 0n ? -rem : rem;
      if (r > half || (r === half && q % 2n !== 0n)) q += q < 0n ? -1n : 1n;
      scale -= drop;
    }
    // Exact quotients lose their padding zeros, but not below the preferred scale. A zero quotient goes down to it,
    // negative too (0 / 1.5 is 0E+1, written 0), as Java's BigDecimal.divide gives it: 0 / 1.5 * 1.5 is 0, not 0.0.
    while (scale > preferred && q % TEN === 0n) {
      q /= TEN;
      scale--;
    }
    return new Decimal(q, scale);
  }

  mod(o: Decimal): Decimal {
    const [x, y, s] = Decimal.align(this, o);
    return new Decimal(x % y, s);
  }

  neg(): Decimal {
    return new Decimal(-this.unscaled, this.scale);
  }

  compare(o: Decimal): number {
    const [x, y] = Decimal.align(this, o);
    return x < y ? -1 : x > y ? 1 : 0;
  }
}
